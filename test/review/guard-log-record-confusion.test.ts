/**
 * Review: the enclave key signs both quorum-chosen record payloads and its own DID guard log
 * (dev.encumber.guardLog). The policy schema keeps `dev.encumber.plcOp` out of `collections`, but not
 * `dev.encumber.guardLog`, and verifyGuardLog accepts members it does not know (the payload's `$sig`). So with a
 * policy that lists dev.encumber.guardLog, a record the quorum co-signed, with the enclave's record signature as
 * `sig`, verifies as the enclave's own guard log: here one that reports no intrusion while the real log holds one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateK256PrivateKey } from '../../src/crypto/k256-signer.ts';
import { KeyHolder } from '../../src/enclave/key-holder.ts';
import { generateMemberKey } from '../../src/member/keys.ts';
import { cosignDraft, type Draft } from '../../src/member/cosign.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { verifyGuardLog } from '../../src/verifier/guard-log.ts';
import type { Identity } from '../../src/verifier/identity.ts';
import { PlcStandIn } from '../support/plc-standin.ts';
import { createMember, createWorld, policyFor, tick } from '../support/world.ts';

const GUARD_LOG = 'dev.encumber.guardLog';

test('a quorum-signed record in collection dev.encumber.guardLog is not accepted as the enclave\'s guard log', async () => {
  const members = [await createMember('alice.test'), await createMember('bob.test'), await createMember('carol.test')];
  const dir = new PlcStandIn(() => tick(1000));
  const guardBytes = generateK256PrivateKey();
  const guardDid = KeyHolder.generate(() => guardBytes.slice()).did;
  const pds = generateMemberKey();
  const org = await dir.create(pds, [guardDid, pds.did], generateMemberKey().did);
  const logs = new Map(members.map((m) => [m.did, m.log]));
  const timers: (() => void)[] = [];
  const policyJson = policyFor(members, {
    repository: org,
    collections: ['app.bsky.feed.post', GUARD_LOG],
    plc: { directory: 'http://127.0.0.1:1', source: 'fetch' },
    didGuard: { enabled: true, pollSeconds: 60, revert: 'keys-and-pds' },
  });
  // If the schema refused the collection (as it does dev.encumber.plcOp), this is where the attack ends.
  let policyAccepted = true;
  try {
    parsePolicy(policyJson);
  } catch {
    policyAccepted = false;
  }
  if (!policyAccepted) return;

  const w = await createWorld({
    members,
    policy: policyJson,
    fetchFrom: async (_source, did) => (did === org ? dir.fetchLog(did) : logs.get(did)),
    drawGuardKey: () => guardBytes.slice(),
    guardTimer: (run) => {
      timers.push(run);
      return () => {};
    },
    submitPlcOp: async (_dir, did, op) => ({ status: 200, body: await dir.submit(did, op) }),
  });
  const identity = w.service.identity() as unknown as Identity;

  // An intrusion the guard records.
  timers.shift()?.();
  await dir.update(org, pds, (op) => ({ ...op, verificationMethods: { ...op.verificationMethods, atproto: generateMemberKey().did } }));
  for (let i = 0; i < 200 && (w.service.guardLog() as { entries: unknown[] }).entries.length === 0; i++) {
    timers.shift()?.();
    await new Promise((r) => setTimeout(r, 2));
  }
  const real = w.service.guardLog() as { entries: unknown[] };
  assert.equal(real.entries.length, 1, 'the real log holds the intrusion');

  // A "log" the quorum writes as a record: nothing happened, signed far in the future.
  const record = {
    $type: GUARD_LOG,
    did: org,
    guardKey: guardDid,
    revert: 'keys-and-pds',
    pollSeconds: 60,
    entries: [],
    policy: { $link: identity.policyCid },
    signedAt: '2099-01-01T00:00:00.000Z',
  };
  let draft: Draft = { repository: org, collection: GUARD_LOG, record: record as never, cosignatures: [] };
  for (const m of members.slice(0, 2)) draft = cosignDraft(draft, m.signingKey, m.did).draft;
  let signed: Record<string, any>;
  try {
    signed = (await w.service.signRecord(draft as never)) as Record<string, any>;
  } catch {
    return; // refused to sign such a record: fine
  }
  const forged = { ...record, $sig: { $type: 'dev.encumber.payload', repository: org, collection: GUARD_LOG }, sig: signed.signature.sig };
  const v = verifyGuardLog(identity, forged);
  assert.equal(v.ok, false, `a record payload verified as the enclave's guard log: ${JSON.stringify(v.ok ? { entries: v.entries, signedAt: v.signedAt } : v.error)}`);
});
