/**
 * High-water marks over HTTP (in-process app): what a PLC log's unsigned
 * `createdAt` can and cannot do.
 *
 * - Supplied mode: the sender chooses every `createdAt`, so the 72-hour
 *   recovery window proves nothing there. A log that nullifies an op the
 *   enclave already accepted (a head it signed on, or an ancestor of one) is
 *   `StalePlcLog`, however recent the fork claims to be.
 * - Fetch mode: the directory's timestamps stand, and a genuine recovery fork
 *   within 72 h of the op it displaces is accepted.
 * - Marks compare chain position (CIDs), never `createdAt`: replaying an
 *   accepted request with a re-timed head neither blocks the true log nor
 *   moves the mark backwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateMemberKey, type MemberKey } from '../../src/member/keys.ts';
import type { PlcAuditEntry } from '../../src/plc/types.ts';
import { cidOf, didOf, entry, plcOp, rkey, signOp } from '../review/plc-kit.ts';
import { cosignBy, createMember, createWorld, draftFor, policyFor, rotateSigningKey, tick, withLogs, type Member, type World } from '../support/world.ts';

async function post(w: World, body: unknown) {
  const res = await w.app.request('/xrpc/dev.encumber.signRecord', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

const HOUR = 60 * 60 * 1000;
let seed = 7100;

/**
 * Alice's history: genesis G with rotation keys [R0, R1]; H, signed by R1,
 * drops R0 and installs her new #atproto key. F forks from G, signed by the
 * old R0 (higher priority than R1), and installs `forkKey`.
 */
function aliceHistory() {
  const r0 = rkey(seed++);
  const r1 = rkey(seed++);
  const genesisKey = generateMemberKey();
  const currentKey = generateMemberKey();
  const forkKey = generateMemberKey();
  const g = signOp(plcOp([r0.did, r1.did], null, genesisKey.did), r0);
  const did = didOf(g);
  const h = signOp(plcOp([r1.did], cidOf(g), currentKey.did), r1);
  const f = signOp(plcOp([r0.did], cidOf(g), forkKey.did), r0);
  const nextKey = generateMemberKey();
  const i = signOp(plcOp([r1.did], cidOf(h), nextKey.did), r1);
  const tG = Date.parse('2025-12-30T00:00:00.000Z');
  const tH = tG + 60_000;
  return { did, g, h, f, i, tG, tH, currentKey, forkKey, nextKey };
}

const asMember = (did: string, key: MemberKey, log: PlcAuditEntry[]): Member => ({ did, rotationKey: key, signingKey: key, log, lastOp: log.at(-1)!.operation as never });

function logsFor(alice: { did: string }, aliceLog: PlcAuditEntry[], others: Member[]) {
  return { [alice.did]: aliceLog, ...Object.fromEntries(others.map((m) => [m.did, m.log])) };
}

test('supplied mode: a fork by a removed rotation key that nullifies the head the enclave signed on is StalePlcLog', async () => {
  const a = aliceHistory();
  const bob = await createMember('hw-bob.test');
  const carol = await createMember('hw-carol.test');
  const honestLog = [entry(a.did, a.g, a.tG), entry(a.did, a.h, a.tH)];
  const alice = asMember(a.did, a.currentKey, honestLog);
  const w = await createWorld({ members: [alice, bob, carol], policy: policyFor([alice, bob, carol]) });

  const first = await post(w, { ...cosignBy(draftFor('signed on H'), alice, bob), plcLogs: logsFor(alice, honestLog, [bob]) });
  assert.equal(first.status, 200, JSON.stringify(first.json));

  // The attacker holds the old R0: F forks from G, "created" an hour after H (the
  // sender writes createdAt), which the 72-hour rule alone would accept.
  const forged = [entry(a.did, a.g, a.tG), entry(a.did, a.h, a.tH, true), entry(a.did, a.f, a.tH + HOUR)];
  const attacker = asMember(a.did, a.forkKey, forged);
  const second = await post(w, { ...cosignBy(draftFor('signed by the attacker'), attacker, bob), plcLogs: logsFor(alice, forged, [bob]) });
  assert.equal(second.status, 422, JSON.stringify(second.json));
  assert.equal(second.json.error, 'StalePlcLog');
  assert.equal(second.json.record, undefined);

  // The true log still works.
  const third = await post(w, { ...cosignBy(draftFor('signed on H again'), alice, bob), plcLogs: logsFor(alice, honestLog, [bob]) });
  assert.equal(third.status, 200, JSON.stringify(third.json));
});

test('supplied mode: a fork that nullifies an ancestor of the marked head is StalePlcLog too', async () => {
  const a = aliceHistory();
  const bob = await createMember('hw-bob2.test');
  const carol = await createMember('hw-carol2.test');
  // The enclave signs on I, a child of H: the mark is I.
  const atI = [entry(a.did, a.g, a.tG), entry(a.did, a.h, a.tH), entry(a.did, a.i, a.tH + 1000)];
  const alice = asMember(a.did, a.nextKey, atI);
  const w = await createWorld({ members: [alice, bob, carol], policy: policyFor([alice, bob, carol]) });
  const r1 = await post(w, { ...cosignBy(draftFor('at I'), alice, bob), plcLogs: logsFor(alice, atI, [bob]) });
  assert.equal(r1.status, 200, JSON.stringify(r1.json));

  // F forks from G and so nullifies H (an ancestor of the mark) and I.
  const forged = [entry(a.did, a.g, a.tG), entry(a.did, a.h, a.tH, true), entry(a.did, a.i, a.tH + 1000, true), entry(a.did, a.f, a.tH + HOUR)];
  const attacker = asMember(a.did, a.forkKey, forged);
  const r2 = await post(w, { ...cosignBy(draftFor('fork over the ancestor'), attacker, carol), plcLogs: logsFor(alice, forged, [carol]) });
  assert.equal(r2.status, 422, JSON.stringify(r2.json));
  assert.equal(r2.json.error, 'StalePlcLog');
});

test('supplied mode is trust on first use: before the enclave has used a DID, a valid recovery fork is accepted', async () => {
  const a = aliceHistory();
  const bob = await createMember('hw-bob3.test');
  const carol = await createMember('hw-carol3.test');
  const forked = [entry(a.did, a.g, a.tG), entry(a.did, a.h, a.tH, true), entry(a.did, a.f, a.tH + HOUR)];
  const alice = asMember(a.did, a.forkKey, forked);
  const w = await createWorld({ members: [alice, bob, carol], policy: policyFor([alice, bob, carol]) });
  const r = await post(w, { ...cosignBy(draftFor('first contact'), alice, bob), plcLogs: logsFor(alice, forked, [bob]) });
  assert.equal(r.status, 200, JSON.stringify(r.json));
});

test('fetch mode: a genuine recovery within 72 h of the directory\'s createdAt is accepted; a late one is not', async () => {
  const a = aliceHistory();
  const bob = await createMember('hw-bob4.test');
  const carol = await createMember('hw-carol4.test');
  const honestLog = [entry(a.did, a.g, a.tG), entry(a.did, a.h, a.tH)];
  let aliceLog: PlcAuditEntry[] = honestLog;
  const served = new Map<string, () => PlcAuditEntry[]>([
    [a.did, () => aliceLog],
    [bob.did, () => bob.log],
    [carol.did, () => carol.log],
  ]);
  const alice = asMember(a.did, a.currentKey, honestLog);
  const members = [alice, bob, carol];
  const w = await createWorld({
    members,
    policy: policyFor(members, { plc: { directory: 'http://127.0.0.1:1', source: 'fetch' } }),
    fetchLog: async (did) => structuredClone(served.get(did)!()),
  });
  const r1 = await post(w, cosignBy(draftFor('fetch: on H'), alice, bob));
  assert.equal(r1.status, 200, JSON.stringify(r1.json));

  // Alice's R1 leaked and she recovers with R0 (directory time: 1 h after H).
  aliceLog = [entry(a.did, a.g, a.tG), entry(a.did, a.h, a.tH, true), entry(a.did, a.f, a.tH + HOUR)];
  const recovered = asMember(a.did, a.forkKey, aliceLog);
  const r2 = await post(w, cosignBy(draftFor('fetch: after recovery'), recovered, bob));
  assert.equal(r2.status, 200, JSON.stringify(r2.json));
  assert.equal(r2.json.receipt.heads[0].cid.$link, cidOf(a.f));

  // A fork more than 72 h after the op it displaces is no recovery.
  const b = aliceHistory();
  const lateLog = [entry(b.did, b.g, b.tG), entry(b.did, b.h, b.tH, true), entry(b.did, b.f, b.tH + 73 * HOUR)];
  const late = await createWorld({
    members: [asMember(b.did, b.forkKey, lateLog), bob, carol],
    policy: policyFor([asMember(b.did, b.forkKey, lateLog), bob, carol], { plc: { directory: 'http://127.0.0.1:1', source: 'fetch' } }),
    fetchLog: async (did) => structuredClone(did === b.did ? lateLog : served.get(did)!()),
  });
  const r3 = await post(late, cosignBy(draftFor('late fork'), asMember(b.did, b.forkKey, lateLog), bob));
  assert.equal(r3.status, 422, JSON.stringify(r3.json));
  assert.equal(r3.json.error, 'InvalidPlcLog');
});

test('supplied mode: replaying an accepted request with a re-timed head does not lock the member out', async () => {
  const w = await createWorld();
  const [alice, bob] = w.members as [Member, Member];
  const accepted = withLogs(cosignBy(draftFor('public record'), alice, bob), w.members);
  assert.equal((await post(w, accepted)).status, 200);

  // Anyone can copy the published request and move the head's unsigned createdAt to now + 4 min.
  const retimed = structuredClone(accepted) as any;
  const head = retimed.plcLogs[alice.did].at(-1);
  head.createdAt = new Date(tick(0).getTime() + 4 * 60_000).toISOString();
  const replay = await post(w, retimed);
  assert.ok(replay.status === 200 || replay.json.error === 'StalePlcLog', JSON.stringify(replay.json));

  // The member's true log keeps working.
  const next = await post(w, withLogs(cosignBy(draftFor('true log after the replay'), alice, bob), w.members));
  assert.equal(next.status, 200, JSON.stringify(next.json));

  // And after a real new op, the true log (whose createdAt is before the re-timed one) is accepted.
  await rotateSigningKey(alice);
  const rotated = await post(w, withLogs(cosignBy(draftFor('after rotation'), alice, bob), w.members));
  assert.equal(rotated.status, 200, JSON.stringify(rotated.json));
});

test('supplied mode: a replayed or re-timed older log cannot move the mark backwards', async () => {
  const w = await createWorld();
  const [alice, bob] = w.members as [Member, Member];
  const oldAlice = { ...alice, log: [...alice.log] };
  const old = withLogs(cosignBy(draftFor('before rotation'), oldAlice, bob), w.members);
  assert.equal((await post(w, old)).status, 200);
  await rotateSigningKey(alice);
  assert.equal((await post(w, withLogs(cosignBy(draftFor('rotated'), alice, bob), w.members))).status, 200);

  // The old request again, as is and with its head moved to now + 4 min: both stale.
  const replay = await post(w, old);
  assert.equal(replay.json.error, 'StalePlcLog', JSON.stringify(replay.json));
  const retimed = structuredClone(old) as any;
  retimed.plcLogs[alice.did].at(-1).createdAt = new Date(tick(0).getTime() + 4 * 60_000).toISOString();
  const r = await post(w, retimed);
  assert.equal(r.json.error, 'StalePlcLog', JSON.stringify(r.json));
  // The current log still signs.
  assert.equal((await post(w, withLogs(cosignBy(draftFor('rotated again'), alice, bob), w.members))).status, 200);
});
