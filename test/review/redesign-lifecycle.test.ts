/**
 * Review of the redesign's lifecycle: "failed" is terminal and refuses to
 * sign (STYLE.md 8, issue: "refuses to sign"). A signRecord that was already
 * past its first check when the service failed must not come back signed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EncumberError } from '../../src/errors.ts';
import { cosignBy, createMember, createWorld, draftFor, policyFor } from '../support/world.ts';

test('redesign: a signRecord in flight when the service fails is refused (ServiceNotReady), never signed', async () => {
  const members = [await createMember('l1.test'), await createMember('l2.test'), await createMember('l3.test')];
  const logs = new Map(members.map((m) => [m.did, m.log]));
  let release!: () => void;
  const gate = new Promise<void>((ok) => (release = ok));
  let reads = 0;
  const w = await createWorld({
    members,
    policy: policyFor(members, { plc: { directory: 'https://plc.test', source: 'fetch' } }),
    fetchLog: async (did) => {
      reads++;
      await gate;
      return logs.get(did);
    },
  });
  const [a, b] = members as [any, any];
  const pending = w.service.signRecord(cosignBy(draftFor('in flight'), a, b) as never);
  // The request is waiting on the directory when the device fails.
  while (reads < 2) await new Promise((ok) => setImmediate(ok));
  w.service.fail({ code: 'InternalError', reason: 'NsmDeviceGone', message: 'the NSM device failed' });
  assert.equal(w.service.state, 'failed');
  release();
  await assert.rejects(pending, (e: unknown) => e instanceof EncumberError && e.code === 'ServiceNotReady');
});
