/**
 * The DID guard's watcher and its pure decision (docs/did-guard.md "Guard"),
 * against an in-process directory stand-in (test/support/plc-standin.ts):
 * what it reverts, what it leaves, and that it fails closed (a directory
 * outage or an unverifiable log: no signature). Clock and timer are fakes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyHolder } from '../../src/enclave/key-holder.ts';
import { DidGuard, type GuardTimer } from '../../src/enclave/did-guard.ts';
import { generateMemberKey } from '../../src/member/keys.ts';
import { verifyAuditLog } from '../../src/plc/verify.ts';
import type { DidGuardPolicy } from '../../src/policy/schema.ts';
import type { PlcAuditEntry } from '../../src/plc/types.ts';
import { PlcStandIn } from '../support/plc-standin.ts';

const HOUR = 3600_000;

function setup(opts: { revert?: DidGuardPolicy['revert']; guardFirst?: boolean } = {}) {
  let nowMs = Date.parse('2026-03-01T00:00:00.000Z');
  const clock = () => new Date(nowMs);
  const advance = (ms: number) => {
    nowMs += ms;
  };
  const dir = new PlcStandIn(() => {
    nowMs += 1000;
    return new Date(nowMs);
  });
  const guardKey = KeyHolder.generate();
  let signatures = 0;
  const sign = (m: Uint8Array) => {
    signatures++;
    return guardKey.sign(m);
  };
  const timers: { run: () => void; ms: number; cancelled: boolean }[] = [];
  const timer: GuardTimer = (run, ms) => {
    const t = { run, ms, cancelled: false };
    timers.push(t);
    return () => {
      t.cancelled = true;
    };
  };
  const lines: string[] = [];
  const make = (did: string) =>
    new DidGuard({
      did,
      policy: { enabled: true, pollSeconds: 60, revert: opts.revert ?? 'keys-and-pds' },
      guardKey: { did: guardKey.did, sign },
      fetchLog: (d) => dir.fetchLog(d),
      submit: (d, op) => dir.submit(d, op),
      clock,
      timer,
      log: (l) => lines.push(l),
    });
  return { dir, guardKey, make, advance, timers, lines, signatures: () => signatures };
}

async function orgDid(s: ReturnType<typeof setup>, guardFirst = true) {
  const pds = generateMemberKey();
  const atproto = generateMemberKey();
  const keys = guardFirst ? [s.guardKey.did, pds.did] : [pds.did, s.guardKey.did];
  const did = await s.dir.create(pds, keys, atproto.did);
  return { did, pds, atproto };
}

const nullifiedCids = (log: PlcAuditEntry[]) => log.filter((e) => e.nullified).map((e) => e.cid);

test('a clean log: the first head is the baseline, nothing signed', async () => {
  const s = setup();
  const { did } = await orgDid(s);
  const g = s.make(did);
  const poll = await g.poll();
  assert.equal(poll.result, 'clean');
  assert.equal(g.report().baseline, s.dir.head(did).cid);
  assert.deepEqual(g.report().entries, []);
  assert.equal(s.signatures(), 0);
});

test('the PDS key changes #atproto: the guard forks from the op before it, the directory nullifies it, the log records both', async () => {
  const s = setup();
  const { did, pds } = await orgDid(s);
  const g = s.make(did);
  await g.poll();
  const genesis = s.dir.head(did).cid;
  const evil = generateMemberKey();
  const intruder = await s.dir.update(did, pds, (op) => ({ ...op, verificationMethods: { ...op.verificationMethods, atproto: evil.did } }));

  const poll = await g.poll();
  assert.equal(poll.result, 'reverted', JSON.stringify(poll));
  assert.equal(s.signatures(), 1);
  const log = s.dir.logs.get(did)!;
  assert.deepEqual(nullifiedCids(log), [intruder]);
  const head = s.dir.head(did);
  assert.equal(head.operation.prev, genesis);
  assert.notEqual(head.operation.verificationMethods.atproto, evil.did);
  assert.ok(verifyAuditLog(did, log).ok, 'the directory log verifies with the recovery in it');
  const [entry] = g.report().entries;
  assert.equal(entry!.intruder.cid, intruder);
  assert.equal(entry!.intruder.signer, pds.did);
  assert.equal(entry!.outcome, 'reverted');
  assert.equal(entry!.recovery!.cid, head.cid);
  assert.equal(entry!.recovery!.prev, genesis);
  // The next poll: the recovery is the guard's own op, nothing more to do.
  assert.equal((await g.poll()).result, 'clean');
  assert.equal(s.signatures(), 1);
});

test('the PDS key removes the guard key from rotationKeys: reverted', async () => {
  const s = setup();
  const { did, pds } = await orgDid(s);
  const g = s.make(did);
  await g.poll();
  const intruder = await s.dir.update(did, pds, (op) => ({ ...op, rotationKeys: [pds.did] }));
  assert.equal((await g.poll()).result, 'reverted');
  assert.deepEqual(nullifiedCids(s.dir.logs.get(did)!), [intruder]);
  assert.deepEqual(s.dir.head(did).operation.rotationKeys, [s.guardKey.did, pds.did]);
});

test('revert "keys-and-pds" leaves a handle change; "all" reverts it', async () => {
  for (const revert of ['keys-and-pds', 'all'] as const) {
    const s = setup({ revert });
    const { did, pds } = await orgDid(s);
    const g = s.make(did);
    await g.poll();
    await s.dir.update(did, pds, (op) => ({ ...op, alsoKnownAs: ['at://renamed.test'] }));
    const poll = await g.poll();
    assert.equal(poll.result, revert === 'all' ? 'reverted' : 'clean', revert);
    assert.equal(s.signatures(), revert === 'all' ? 1 : 0);
  }
  // keys-and-pds: a PDS move is reverted.
  const s = setup();
  const { did, pds } = await orgDid(s);
  const g = s.make(did);
  await g.poll();
  await s.dir.update(did, pds, (op) => ({ ...op, services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://evil.example' } } }));
  assert.equal((await g.poll()).result, 'reverted');
});

test('a directory outage: no action, no signature, logged; the next poll (directory back) reverts', async () => {
  const s = setup();
  const { did, pds } = await orgDid(s);
  const g = s.make(did);
  await g.poll();
  await s.dir.update(did, pds, (op) => ({ ...op, rotationKeys: [pds.did] }));
  s.dir.down = true;
  const poll = await g.poll();
  assert.equal(poll.result, 'no-action');
  assert.equal(poll.code, 'DirectoryUnavailable');
  assert.equal(s.signatures(), 0);
  assert.equal(g.report().lastPoll!.code, 'DirectoryUnavailable');
  s.dir.down = false;
  assert.equal((await g.poll()).result, 'reverted');
});

test('the directory refuses the recovery: entry "failed" with the code, retried (attempts counted) next poll', async () => {
  const s = setup();
  const { did, pds } = await orgDid(s);
  const g = s.make(did);
  await g.poll();
  await s.dir.update(did, pds, (op) => ({ ...op, rotationKeys: [pds.did] }));
  const submit = s.dir.submit.bind(s.dir);
  s.dir.submit = async () => {
    throw Object.assign(new (await import('../../src/errors.ts')).EncumberError('PlcOpRejected', 'no'));
  };
  const poll = await g.poll();
  assert.equal(poll.code, 'PlcOpRejected');
  assert.equal(g.report().entries[0]!.outcome, 'failed');
  s.dir.submit = submit;
  assert.equal((await g.poll()).result, 'reverted');
  assert.equal(g.report().entries[0]!.outcome, 'reverted');
  assert.equal(g.report().entries[0]!.attempts, 2);
  assert.equal(g.report().entries[0]!.code, undefined);
});

test('an unverifiable log (a tampered entry): no action, no signature, the verifier\'s code logged', async () => {
  const s = setup();
  const { did, pds } = await orgDid(s);
  const g = s.make(did);
  await g.poll();
  await s.dir.update(did, pds, (op) => ({ ...op, rotationKeys: [pds.did] }));
  const fetchLog = s.dir.fetchLog.bind(s.dir);
  s.dir.fetchLog = async (d) => {
    const log = (await fetchLog(d)) as PlcAuditEntry[];
    (log.at(-1)!.operation as { alsoKnownAs: string[] }).alsoKnownAs = ['at://forged.test'];
    return log;
  };
  const poll = await g.poll();
  assert.equal(poll.result, 'no-action');
  assert.match(poll.code!, /^(Plc|InvalidPlc)/);
  assert.equal(s.signatures(), 0);
});

test('past the 72-hour window: not revertible (DidGuardWindowPassed), nothing signed', async () => {
  const s = setup();
  const { did, pds } = await orgDid(s);
  const g = s.make(did);
  await g.poll();
  await s.dir.update(did, pds, (op) => ({ ...op, rotationKeys: [pds.did] }));
  s.advance(73 * HOUR);
  const poll = await g.poll();
  assert.equal(poll.code, 'DidGuardWindowPassed');
  assert.equal(g.report().entries[0]!.outcome, 'not-revertible');
  assert.equal(s.signatures(), 0);
});

test('a guard key below the intruder\'s key: DidGuardCannotRevert, nothing signed', async () => {
  const s = setup();
  const { did, pds } = await orgDid(s, false);
  const g = s.make(did);
  await g.poll();
  await s.dir.update(did, pds, (op) => ({ ...op, rotationKeys: [pds.did] }));
  const poll = await g.poll();
  assert.equal(poll.code, 'DidGuardCannotRevert');
  assert.equal(s.signatures(), 0);
});

test('start polls at once and schedules the next poll pollSeconds later on the injected timer; stop cancels', async () => {
  const s = setup();
  const { did } = await orgDid(s);
  const g = s.make(did);
  g.start();
  await g.poll();
  await new Promise((ok) => setImmediate(ok));
  assert.equal(s.timers.length, 1);
  assert.equal(s.timers[0]!.ms, 60_000);
  s.timers[0]!.run();
  await g.poll();
  await new Promise((ok) => setImmediate(ok));
  assert.equal(s.timers.length, 2);
  g.stop();
  assert.equal(s.timers[1]!.cancelled, true);
});

test('the DID made before the enclave: the operation that installs the guard key is history; a later change by the PDS key is reverted', async () => {
  const s = setup();
  const pds = generateMemberKey();
  const did = await s.dir.create(pds, [pds.did], generateMemberKey().did);
  const g = s.make(did);
  assert.equal((await g.poll()).result, 'clean', 'baseline before the guard key is listed');
  const installed = await s.dir.update(did, pds, (op) => ({ ...op, rotationKeys: [s.guardKey.did, pds.did] }));
  assert.equal((await g.poll()).result, 'clean', 'the installing op is not an intrusion');
  const intruder = await s.dir.update(did, pds, (op) => ({ ...op, rotationKeys: [pds.did] }));
  assert.equal((await g.poll()).result, 'reverted');
  assert.deepEqual(nullifiedCids(s.dir.logs.get(did)!), [intruder]);
  assert.equal(s.dir.head(did).operation.prev, installed);
  assert.deepEqual(g.report().entries.map((e) => e.intruder.cid), [intruder]);
});

test('an intrusion past the window is recorded once; a later one is still reverted', async () => {
  const s = setup();
  const { did, pds } = await orgDid(s);
  const g = s.make(did);
  await g.poll();
  const old = await s.dir.update(did, pds, (op) => ({ ...op, alsoKnownAs: ['at://old.test'], services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://old.example' } } }));
  s.advance(73 * HOUR);
  assert.equal((await g.poll()).code, 'DidGuardWindowPassed');
  assert.equal((await g.poll()).code, 'DidGuardWindowPassed');
  const fresh = await s.dir.update(did, pds, (op) => ({ ...op, rotationKeys: [pds.did] }));
  assert.equal((await g.poll()).result, 'reverted');
  assert.deepEqual(nullifiedCids(s.dir.logs.get(did)!), [fresh]);
  assert.equal(s.dir.head(did).operation.prev, old);
  assert.deepEqual(
    g.report().entries.map((e) => [e.intruder.cid, e.outcome, e.attempts]),
    [
      [old, 'not-revertible', 1],
      [fresh, 'reverted', 1],
    ],
  );
});

test('a guard that could not read the directory until after an intrusion still reverts it (the whole chain is judged, not only what came after its first read)', async () => {
  const s = setup();
  const { did, pds } = await orgDid(s);
  const g = s.make(did);
  // The host keeps the directory from the guard; meanwhile the PDS key moves the DID's #atproto key.
  s.dir.down = true;
  assert.equal((await g.poll()).result, 'no-action');
  s.dir.down = false;
  const intruder = await s.dir.update(did, pds, (op) => ({ ...op, verificationMethods: { ...op.verificationMethods, atproto: generateMemberKey().did } }));
  // The first log the guard reads already ends with the intruder.
  const first = await g.poll();
  assert.equal(first.result, 'reverted');
  assert.deepEqual(nullifiedCids(s.dir.logs.get(did)!), [intruder]);
  assert.equal(g.report().entries[0]!.intruder.cid, intruder);
});
