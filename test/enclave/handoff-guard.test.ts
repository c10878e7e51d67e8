/**
 * The key hand-off under a policy with the DID guard (docs/key-handoff.md,
 * docs/did-guard.md): the guard key travels with the enclave key in one seal,
 * and the guard's public log travels with it, authenticated by the same
 * seal. A joiner then guards the organisation's DID as the sender did: an
 * operation that landed while no instance watched is still reverted.
 * In process: the directory is test/support/plc-standin.ts, timers are manual.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootService, type ServiceConfig } from '../../src/enclave/boot.ts';
import { DidGuard, MAX_GUARD_ENTRIES, parseGuardState, type GuardTimer } from '../../src/enclave/did-guard.ts';
import { HandoffSender, joinFrom } from '../../src/enclave/handoff.ts';
import { KeyHolder } from '../../src/enclave/key-holder.ts';
import { devAttestor } from '../../src/enclave/platforms.ts';
import { encodeCbor } from '../../src/data/cbor.ts';
import { ipldToJson, jsonToIpld } from '../../src/data/json.ts';
import { generateMemberKey, type MemberKey } from '../../src/member/keys.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { PlcStandIn } from '../support/plc-standin.ts';
import { cosignPlcOpDraft, draftDidOp } from '../../src/member/did-ops.ts';
import { verifyAuditLog } from '../../src/plc/verify.ts';
import { approving, DIGEST_A, fetchInto, handoffWorld, testClock, type Instance } from '../support/handoff.ts';
import { cosignBy, createMember, draftFor, policyFor, type Member } from '../support/world.ts';
import { MemoryHighWaterStore } from '../../src/policy/high-water.ts';
import { createDevRoot } from '../../src/attestation/dev/index.ts';

const GUARD = { enabled: true, pollSeconds: 60, revert: 'keys-and-pds' } as const;

/** A manual timer: `fire` runs the pending poll and resolves once it finished (the next one is scheduled). */
function manualTimer() {
  const pending: { run: () => void; cancelled: boolean }[] = [];
  const timer: GuardTimer = (run) => {
    const t = { run, cancelled: false };
    pending.push(t);
    return () => {
      t.cancelled = true;
    };
  };
  const scheduled = async (n: number) => {
    for (let i = 0; i < 1000 && pending.length < n; i++) await new Promise((r) => setImmediate(r));
    assert.ok(pending.length >= n, 'the guard scheduled its next poll');
  };
  return {
    timer,
    /** The first poll (run by start) finished. */
    started: () => scheduled(1),
    async fire() {
      const t = pending.at(-1)!;
      assert.equal(t.cancelled, false, 'the guard is still polling');
      const n = pending.length;
      t.run();
      await scheduled(n + 1);
    },
  };
}

/** A guarded world: the org DID on the stand-in directory, made by its PDS key before the enclave; the sender serving. */
async function guardedWorld(opts: { allowRelease?: boolean } = {}) {
  let ms = Date.parse('2026-06-01T00:00:00.000Z');
  const dir = new PlcStandIn(() => new Date((ms += 1000)));
  const members = [await createMember('alice.test'), await createMember('bob.test'), await createMember('carol.test')];
  const memberLogs = new Map(members.map((m) => [m.did, m.log]));
  const pds = generateMemberKey();
  const org = await dir.create(pds, [pds.did], generateMemberKey().did);
  const config: Partial<ServiceConfig> = {
    fetchLog: async (_source, did) => (memberLogs.has(did) ? memberLogs.get(did) : dir.fetchLog(did)),
    submitPlcOp: async (_directory, did, op) => ({ status: 200, body: await dir.submit(did, op) }),
  };
  const senderTimer = manualTimer();
  const w = await handoffWorld({
    members,
    policyOverrides: { repository: org, plc: { directory: 'http://127.0.0.1:1', source: 'fetch' }, didGuard: { ...GUARD, ...opts } },
    config,
    senderConfig: { guardTimer: senderTimer.timer },
  });
  await senderTimer.started();
  const guardKeyOf = (i: Instance) => (i.service.identity() as { guardKey: string }).guardKey;
  // The PDS key installs the guard key as the first rotation key (history, not an intrusion).
  await dir.update(org, pds, (op) => ({ ...op, rotationKeys: [guardKeyOf(w.sender), pds.did] }));
  await senderTimer.fire();
  assert.equal(w.sender.service.guardLog().lastPoll?.result, 'clean');
  return { w, dir, org, pds, senderTimer, guardKeyOf };
}

/** An intrusion: the PDS key replaces the #atproto key. */
const intrude = (dir: PlcStandIn, org: string, pds: MemberKey) =>
  dir.update(org, pds, (op) => ({ ...op, verificationMethods: { ...op.verificationMethods, atproto: generateMemberKey().did } }));

const nullified = (dir: PlcStandIn, org: string) => dir.logs.get(org)!.filter((e) => e.nullified).map((e) => e.cid);

test('a guarded policy joins: the joiner holds the same enclave key and guard key, binds both, and takes over the baseline and the log', async () => {
  const { w, dir, org, pds, senderTimer, guardKeyOf } = await guardedWorld();
  // The sender reverts one intrusion: its log has one entry.
  const first = await intrude(dir, org, pds);
  await senderTimer.fire();
  assert.deepEqual(nullified(dir, org), [first]);
  const senderLog = w.sender.service.guardLog();

  const joinerTimer = manualTimer();
  const b = await w.join({ config: { guardTimer: joinerTimer.timer } });
  assert.equal(b.service.state, 'serving', String(b.service.failure?.message));
  const a = w.sender.service.identity() as Record<string, any>;
  const id = b.service.identity() as Record<string, any>;
  assert.equal(id.key, a.key);
  assert.equal(id.guardKey, a.guardKey);
  assert.equal(id.binding.guardKey, a.guardKey, 'the joiner binds the guard key it received');
  await joinerTimer.started();
  const log = b.service.guardLog();
  assert.equal(log.baseline, senderLog.baseline, 'the sender\'s baseline');
  assert.deepEqual(log.entries, senderLog.entries, 'the sender\'s public log');
  assert.equal(log.lastPoll?.result, 'clean');
  // The guard key crossed the wire only sealed.
  for (const e of b.exchanges) assert.equal(JSON.stringify(e.answer).includes(guardKeyOf(w.sender).slice(8)), e.path.endsWith('handoffOffer'), e.path);
});

test('an intrusion that lands between the sender\'s last poll and the hand-off is reverted by the joiner', async () => {
  const { w, dir, org, pds } = await guardedWorld();
  const intruder = await intrude(dir, org, pds);
  const joinerTimer = manualTimer();
  const b = await w.join({ config: { guardTimer: joinerTimer.timer } });
  w.sender.service.fail();
  await joinerTimer.started();
  // The joiner's first poll reads a log that already ends with the intruder: reverted all the same.
  assert.equal(b.service.guardLog().lastPoll?.result, 'reverted');
  assert.deepEqual(nullified(dir, org), [intruder]);
  // And it goes on guarding with the same key: the next intrusion is reverted too.
  const next = await intrude(dir, org, pds);
  await joinerTimer.fire();
  assert.deepEqual(nullified(dir, org), [intruder, next]);
  assert.deepEqual(
    b.service.guardLog().entries.map((e) => [e.intruder.cid, e.outcome]),
    [
      [intruder, 'reverted'],
      [next, 'reverted'],
    ],
  );
});

test('the joiner signs a quorum-approved PLC operation with the received guard key after the sender is gone', async () => {
  const { w, dir, org, guardKeyOf } = await guardedWorld();
  const b = await w.join({ config: { guardTimer: manualTimer().timer } });
  const guardKey = guardKeyOf(w.sender);
  w.sender.service.fail();
  let draft = draftDidOp(org, await dir.fetchLog(org), { handle: 'renamed.test' }, w.clock());
  for (const m of w.members.slice(0, 2)) draft = cosignPlcOpDraft(draft, m.signingKey, m.did).draft;
  const out = await b.service.signPlcOp(draft);
  assert.equal(out.directory.status, 200);
  // The directory (which verifies every signature) took it, and its signer is the guard key both instances bound.
  assert.equal(dir.head(org).cid, out.operationCid);
  const verdict = verifyAuditLog(org, await dir.fetchLog(org), { now: w.clock() });
  assert.ok(verdict.ok);
  assert.equal(verdict.state.rotationKeys[0], guardKey);
  assert.deepEqual(verdict.state.alsoKnownAs, ['at://renamed.test']);
});

/** A sender wired by hand: `guardKeyDid` and `seal` are what it attests and what it seals. */
async function senderByHand(opts: { attestGuard?: string; sealWith: (k: KeyHolder) => KeyHolder[]; guardState?: () => Uint8Array }) {
  const members = [await createMember('a.test'), await createMember('b.test')];
  const policy = parsePolicy(policyFor(members, { plc: { directory: 'http://127.0.0.1:1', source: 'fetch' }, didGuard: GUARD }));
  const root = createDevRoot({ now: new Date('2026-01-01T00:00:00.000Z'), validityDays: 3650 });
  const clock = testClock();
  const key = KeyHolder.generate();
  const trust = { roots: [root.certificate], approved: async () => approving(DIGEST_A) };
  const attestor = devAttestor(root, DIGEST_A);
  const sender = new HandoffSender({
    policy,
    platform: 'dev',
    clock,
    trust,
    attest: (req) => attestor.attest(req),
    keyDid: () => key.did,
    ...(opts.attestGuard !== undefined ? { guardKeyDid: () => opts.attestGuard } : {}),
    guardState: opts.guardState ?? (() => encodeCbor({ version: 1, entries: [] })),
    seal: (pub, info, aad) => KeyHolder.seal(opts.sealWith(key), pub, info, aad),
    marks: () => [],
  });
  // The sender's two endpoints, as the server would answer them.
  const fetchSender = (async (input: string | URL | Request, init?: RequestInit) => {
    const nsid = new URL(String(input)).pathname.replace('/xrpc/', '');
    const body = JSON.parse(String(init?.body));
    try {
      const out =
        nsid === 'dev.encumber.handoffOffer' ? await sender.offer(jsonToIpld(body.nonce) as Uint8Array) : await sender.request(body as never);
      return new Response(JSON.stringify(out), { status: 200, headers: { 'content-type': 'application/json' } });
    } catch (e) {
      return new Response(JSON.stringify({ error: (e as { code?: string }).code, message: (e as Error).message }), { status: 400 });
    }
  }) as typeof fetch;
  const join = (f: typeof fetch = fetchSender) => joinFrom({ url: 'http://sender.test', policy, platform: 'dev', clock, attestor, trust, fetch: f });
  return { join, key, fetchSender, members };
}

test('a sender that seals a guard key other than the one it attested: HandoffKeyMismatch', async () => {
  const attested = KeyHolder.generate();
  const other = KeyHolder.generate();
  const s = await senderByHand({ attestGuard: attested.did, sealWith: (k) => [k, other] });
  await assert.rejects(s.join(), { code: 'HandoffKeyMismatch' });
});

test('a sender that attests a guard key but seals only the enclave key: HandoffSealInvalid', async () => {
  const attested = KeyHolder.generate();
  const s = await senderByHand({ attestGuard: attested.did, sealWith: (k) => [k] });
  await assert.rejects(s.join(), { code: 'HandoffSealInvalid' });
});

test('a guarded policy, an offer without a guard key: HandoffEvidenceInvalid before anything is requested', async () => {
  const s = await senderByHand({ sealWith: (k) => [k] });
  await assert.rejects(s.join(), { code: 'HandoffEvidenceInvalid', message: /names no guard key/ });
});

test('an offer whose guard key is the enclave key: HandoffEvidenceInvalid', async () => {
  const s = await senderByHand({ attestGuard: KeyHolder.generate().did, sealWith: (k) => [k, k] });
  const fetchSame = (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await s.fetchSender(input, init);
    const json = await res.json();
    if (json.offer) json.offer.guardKey = json.offer.key;
    return new Response(JSON.stringify(json), { status: res.status });
  }) as typeof fetch;
  await assert.rejects(s.join(fetchSame), { code: 'HandoffEvidenceInvalid', message: /guardKey must differ/ });
});

test('a guard state changed on the wire (an entry dropped): the seal does not open (HandoffSealInvalid)', async () => {
  const { w, dir, org, pds, senderTimer } = await guardedWorld();
  await intrude(dir, org, pds);
  await senderTimer.fire();
  assert.equal(w.sender.service.guardLog().entries.length, 1);
  const honest = fetchInto(w.sender.app);
  const tamper = (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await honest(input, init);
    const json = await res.json();
    if (json.guardState) {
      const state = parseGuardState(jsonToIpld(json.guardState) as Uint8Array);
      json.guardState = ipldToJson(encodeCbor({ version: 1, baseline: state.baseline, entries: [] }));
    }
    return new Response(JSON.stringify(json), { status: res.status });
  }) as typeof fetch;
  const b = await w.join({ fetch: tamper, config: { guardTimer: manualTimer().timer } });
  assert.equal(b.service.state, 'failed');
  assert.equal(b.service.failure?.code, 'HandoffSealInvalid');
});

test('guard state: what parseGuardState refuses (HandoffEvidenceInvalid), and a round trip of what a guard exports', async () => {
  const entry = { intruder: { cid: 'bafy1', createdAt: '2026-06-01T00:00:00.000Z', signer: 'did:key:z1' }, detectedAt: '2026-06-01T00:00:01.000Z', outcome: 'reverted', attempts: 1 };
  const ok = parseGuardState(encodeCbor({ version: 1, baseline: 'bafy0', entries: [entry] }));
  assert.deepEqual(ok, { baseline: 'bafy0', entries: [entry] });
  const refused = [
    new Uint8Array([0xff]),
    encodeCbor({ version: 2, entries: [] }),
    encodeCbor({ version: 1, entries: [], extra: 1 }),
    encodeCbor({ version: 1, entries: Array.from({ length: MAX_GUARD_ENTRIES + 1 }, () => entry) }),
    encodeCbor({ version: 1, entries: [{ ...entry, outcome: 'ignored' }] }),
    encodeCbor({ version: 1, entries: [{ ...entry, attempts: 0 }] }),
    encodeCbor({ version: 1, entries: [{ ...entry, intruder: { cid: 'bafy1' } }] }),
    encodeCbor({ version: 1, entries: [{ ...entry, message: 'x'.repeat(501) }] }),
    encodeCbor({ version: 1, entries: [{ ...entry, surprise: true }] }),
    encodeCbor({ version: 1, baseline: 7, entries: [] }),
  ];
  for (const [i, bytes] of refused.entries()) assert.throws(() => parseGuardState(bytes), { code: 'HandoffEvidenceInvalid' }, `case ${i}`);

  // A guard's own export parses back to its report's baseline and entries; restore refuses a started guard.
  const guard = new DidGuard({
    did: 'did:plc:x',
    policy: GUARD,
    guardKey: { did: 'did:key:z', sign: () => new Uint8Array(64) },
    fetchLog: async () => [],
    submit: async () => ({}),
    clock: () => new Date(),
    timer: () => () => {},
  });
  guard.restore({ baseline: 'bafy0', entries: [entry as never] });
  assert.deepEqual(parseGuardState(guard.exportState()), { baseline: 'bafy0', entries: [entry] });
  assert.throws(() => guard.restore({ entries: [] }), /already started/);
});

test('keys that arrive after the joiner failed are wiped, not kept', async (t) => {
  const members: Member[] = [await createMember('alice.test'), await createMember('bob.test')];
  const w = await handoffWorld({ members });
  const wiped: string[] = [];
  const wipe = KeyHolder.prototype.wipe;
  t.mock.method(KeyHolder.prototype, 'wipe', function (this: KeyHolder) {
    wiped.push(this.did);
    wipe.call(this);
  });
  const honest = fetchInto(w.sender.app);
  let joiner: ReturnType<typeof bootService> | undefined;
  const late = (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await honest(input, init);
    // The joiner is stopped while the sealed key is on its way.
    if (String(input).endsWith('handoffRequest')) joiner!.fail();
    return res;
  }) as typeof fetch;
  joiner = bootService({ policy: w.policy, attestor: devAttestor(w.root, DIGEST_A), clock: w.clock, join: { url: 'http://sender.test', fetch: late } });
  assert.equal(await joiner.settled(), 'failed');
  // The sealed keys are still being opened (WebCrypto, off the main thread): wait for them to arrive.
  for (let i = 0; i < 1000 && wiped.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
  assert.deepEqual(wiped, [(w.sender.service.identity() as { key: string }).key]);
});

test('giving the DID up: refused (PlcOpGuardKeyNotFirst) unless the policy sets allowRelease; then a quorum can, and the guard leaves what follows', async () => {
  for (const allowRelease of [false, true]) {
    const { w, dir, org, pds, senderTimer } = await guardedWorld(allowRelease ? { allowRelease } : {});
    // The quorum hands the DID to the PDS key alone.
    let draft = draftDidOp(org, await dir.fetchLog(org), { handle: 'released.test' }, w.clock());
    draft = { ...draft, operation: { ...draft.operation, rotationKeys: [pds.did] } };
    for (const m of w.members.slice(0, 2)) draft = cosignPlcOpDraft(draft, m.signingKey, m.did).draft;
    if (!allowRelease) {
      await assert.rejects(w.sender.service.signPlcOp(draft), { code: 'PlcOpGuardKeyNotFirst' });
      continue;
    }
    const out = await w.sender.service.signPlcOp(draft);
    assert.equal(dir.head(org).cid, out.operationCid);
    // After the release, a change by the PDS key is the organisation's own business: nothing reverted.
    await intrude(dir, org, pds);
    await senderTimer.fire();
    assert.deepEqual(nullified(dir, org), []);
    assert.equal(w.sender.service.guardLog().lastPoll?.result, 'clean');
  }
});

test('two instances holding the guard key race to revert one intrusion: both public logs say reverted (the loser finds its recovery on the chain)', async () => {
  const { w, dir, org, pds, senderTimer } = await guardedWorld();
  const joinerTimer = manualTimer();
  const b = await w.join({ config: { guardTimer: joinerTimer.timer } });
  assert.equal(b.service.state, 'serving');
  await joinerTimer.started();
  assert.equal(w.sender.service.state, 'serving', 'the sender keeps serving (a replica)');

  const intruder = await intrude(dir, org, pds);
  await senderTimer.fire(); // the sender reverts it
  await joinerTimer.fire(); // the joiner polls after that revert: clean, nothing recorded
  // Make the race explicit: both poll the intruded log before either submits.
  const second = await intrude(dir, org, pds);
  const before = dir.submissions;
  await Promise.all([senderTimer.fire(), joinerTimer.fire()]);
  assert.equal(dir.submissions - before, 2, 'both instances submitted a recovery for the same intruder');
  const nullified = dir.logs.get(org)!.filter((e) => e.nullified).map((e) => e.cid);
  assert.ok(nullified.includes(intruder) && nullified.includes(second), 'both intruders are nullified');

  // A few more polls: the DID is clean.
  await senderTimer.fire();
  await joinerTimer.fire();
  const outcomes = (i: Instance) => Object.fromEntries(i.service.guardLog().entries.map((e) => [e.intruder.cid, e.outcome]));
  const a = outcomes(w.sender);
  const j = outcomes(b);
  // Expected of a correct guard log: every instance that records the intruder says it was reverted.
  assert.deepEqual(
    [a[second], j[second]],
    ['reverted', 'reverted'],
    `the two instances' public logs disagree on the same intrusion: sender ${a[second]}, joiner ${j[second]}`,
  );
});

test('keys that opened but cannot be taken into service (the marks do not load) are wiped, and the joiner fails', async (t) => {
  const { w, org } = await guardedWorld();
  const wiped: string[] = [];
  const wipe = KeyHolder.prototype.wipe;
  t.mock.method(KeyHolder.prototype, 'wipe', function (this: KeyHolder) {
    wiped.push(this.did);
    wipe.call(this);
  });
  const broken = new MemoryHighWaterStore();
  broken.set = () => {
    throw new Error('store unavailable');
  };
  // The sender has marks to hand over only after it signed something: sign one record first.
  const [alice, bob] = w.members as [Member, Member];
  await w.sender.service.signRecord(cosignBy({ ...draftFor('before the hand-off'), repository: org }, alice, bob) as never);
  const b = await w.join({ config: { highWater: broken, guardTimer: manualTimer().timer } });
  assert.equal(b.service.state, 'failed');
  const a = w.sender.service.identity() as { key: string; guardKey: string };
  assert.deepEqual(wiped.sort(), [a.key, a.guardKey].sort());
});
