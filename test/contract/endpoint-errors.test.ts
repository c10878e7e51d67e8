/**
 * Every error code an endpoint can answer with is listed in its lexicon:
 * - ENDPOINT_ERRORS (src/server/endpoint-errors.ts) equals each lexicon's
 *   `errors`, and names exactly the query/procedure lexicons;
 * - a catalogue of failing requests, per endpoint, drives the app in process
 *   and checks each answer's `error` is the expected code and is listed;
 * - every listed code is produced by some request of the catalogue, or is
 *   named below with the test that drives it where this file cannot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as plc from '@did-plc/lib';
import { ENDPOINTS, ENDPOINT_ERRORS, type Endpoint } from '../../src/server/endpoint-errors.ts';
import { DEFAULT_ATTESTATION_QUEUE } from '../../src/enclave/service.ts';
import { fetchAuditLog } from '../../src/plc/directory/client.ts';
import { auditEntry } from '../../src/member/plc-ops.ts';
import { plcSigner } from '../../src/member/keys.ts';
import { cidForValue } from '../../src/data/cid.ts';
import type { Attestor } from '../../src/enclave/attestor.ts';
import {
  COLLECTION,
  ORG,
  cosignBy,
  createMember,
  createWorld,
  draftFor,
  policyFor,
  rotateSigningKey,
  tick,
  withLogs,
  type Member,
} from '../support/world.ts';
import { lexiconDocs, lexiconErrors, procedure, query, type Answer } from './support.ts';
import { ipldToJson } from '../../src/data/json.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { devAttestor } from '../../src/enclave/platforms.ts';
import { approving, debugAttestor, DIGEST_A, DIGEST_B, handoffWorld, requestByHand, upgradeDraft } from '../support/handoff.ts';
import { MAX_UPGRADES } from '../../src/enclave/upgrades.ts';
import { EncumberError } from '../../src/errors.ts';
import { guardedWorld, nextOp, plcOpRequest } from '../support/did-guard.ts';

/** Codes this file cannot drive in process, each with the test that does. */
const DRIVEN_ELSEWHERE: Partial<Record<Endpoint, Record<string, string>>> = {
  'dev.encumber.getIdentity': {
    InternalError: 'identity() has no failure path once serving; every 500 answers InternalError (test/server/internal-errors.test.ts)',
  },
  'dev.encumber.getUpgrades': {
    InternalError: 'upgrades() has no failure path once serving; every 500 answers InternalError (test/server/internal-errors.test.ts)',
  },
  'dev.encumber.approveUpgrade': {
    // The co-signers' PLC states go through the signRecord code path (the same resolver, high-water marks and decide); its catalogue drives these.
    StalePlcLog: 'the resolver and high-water marks signRecord uses (signRecord catalogue above)',
    SignerTombstoned: 'decide(), as for signRecord (signRecord catalogue above)',
    SignerKeyMissing: 'decide(), as for signRecord (signRecord catalogue above)',
    PlcSourcesDisagree: 'the fetch-mode resolver signRecord uses (signRecord catalogue above)',
  },
  'dev.encumber.signPlcOp': {
    // The co-signers go through the signRecord code path (checkCosignaturesBeforePlc, the resolver, high-water marks, decide).
    MissingPlcLog: 'the fetch-mode resolver signRecord uses (signRecord catalogue above)',
    StalePlcLog: 'the resolver and high-water marks signRecord uses (signRecord catalogue above)',
    SignerTombstoned: 'decide(), as for signRecord (signRecord catalogue above)',
    SignerKeyMissing: 'decide(), as for signRecord (signRecord catalogue above)',
    PlcSourcesDisagree: 'the fetch-mode resolver signRecord uses (signRecord catalogue above)',
    RateLimited: 'the resolver\'s bound on directory requests signRecord uses (signRecord catalogue above)',
  },
  'dev.encumber.getGuardLog': {
    InternalError: 'guardLog() has no failure path once serving; every 500 answers InternalError (test/server/internal-errors.test.ts)',
  },
};

const produced = new Map<Endpoint, Set<string>>(ENDPOINTS.map((e) => [e, new Set()]));

function expectCode(endpoint: Endpoint, answer: Answer, code: string): void {
  assert.equal(answer.json.error, code, `${endpoint}: ${answer.status} ${JSON.stringify(answer.json)}`);
  assert.ok((ENDPOINT_ERRORS[endpoint] as readonly string[]).includes(answer.json.error), `${code} is not listed for ${endpoint}`);
  assert.equal(typeof answer.json.message, 'string');
  assert.ok(answer.status >= 400);
  produced.get(endpoint)!.add(code);
}

test('ENDPOINT_ERRORS names exactly the query/procedure lexicons, and equals each lexicon\'s errors', () => {
  const xrpc = lexiconDocs.filter((d) => ['query', 'procedure'].includes((d.defs.main as { type: string }).type)).map((d) => d.id);
  assert.deepEqual([...xrpc].sort(), [...ENDPOINTS].sort());
  for (const endpoint of ENDPOINTS) {
    const listed = lexiconErrors(endpoint);
    assert.equal(new Set(listed).size, listed.length, `${endpoint}: a code listed twice in the lexicon`);
    assert.deepEqual([...listed].sort(), [...ENDPOINT_ERRORS[endpoint]].sort(), endpoint);
  }
});

test('getIdentity: a service that is not serving', async () => {
  const w = await createWorld();
  w.service.fail();
  expectCode('dev.encumber.getIdentity', await query(w.app, 'dev.encumber.getIdentity'), 'ServiceNotReady');
});

test('getAttestation: bad nonces, a parameter too many, a failed or busy attestor, a service not serving', async () => {
  const ep = 'dev.encumber.getAttestation';
  const w = await createWorld();
  const badNonces: Record<string, string>[] = [{}, { nonce: 'abc' }, { nonce: 'zz' }, { nonce: 'ab'.repeat(65) }, { nonce: 'ab', extra: '1' }];
  for (const params of badNonces) {
    expectCode(ep, await query(w.app, ep, params), 'InvalidRequest');
  }

  const broken: Attestor = { platform: 'dev', attest: async () => { throw new TypeError('device gone'); } };
  expectCode(ep, await query((await createWorld({ attestor: broken })).app, ep, { nonce: 'ab' }), 'InternalError');

  // A held attestor: `concurrency` run, `maxQueued` wait, the next is refused.
  const held: (() => void)[] = [];
  const slow: Attestor = { platform: 'dev', attest: () => new Promise((ok) => held.push(() => ok(new Uint8Array([0xa0])))) };
  const busy = await createWorld({ attestor: slow });
  const accepted = DEFAULT_ATTESTATION_QUEUE.concurrency + DEFAULT_ATTESTATION_QUEUE.maxQueued;
  const pending = Array.from({ length: accepted }, () => query(busy.app, ep, { nonce: 'ab' }));
  expectCode(ep, await query(busy.app, ep, { nonce: 'ab' }), 'RateLimited');
  // Release them one by one as the queue hands each to the attestor.
  for (let released = 0; released < accepted; ) {
    const release = held.shift();
    if (release) {
      release();
      released++;
    }
    await new Promise((ok) => setImmediate(ok));
  }
  for (const answer of await Promise.all(pending)) assert.equal(answer.status, 200);

  w.service.fail();
  expectCode(ep, await query(w.app, ep, { nonce: 'ab' }), 'ServiceNotReady');
});

test('signRecord: the catalogue of refusals, each with its code', async () => {
  const ep = 'dev.encumber.signRecord';
  const w = await createWorld();
  const [alice, bob, carol] = w.members as [Member, Member, Member];
  const good = withLogs(cosignBy(draftFor('catalogue'), alice, bob), w.members);
  const sign = (body: unknown, contentType?: string) => procedure(w.app, ep, body, contentType);
  const expect = async (body: unknown, code: string, contentType?: string) => expectCode(ep, await sign(body, contentType), code);

  // The request itself.
  await expect('{"not json', 'InvalidRequest');
  await expect(good, 'InvalidRequest', 'text/plain');
  await expect({ ...good, extra: true }, 'InvalidRequest');
  await expect({ ...good, record: { $type: COLLECTION, n: 1.5 } }, 'InvalidRequest');
  await expect(JSON.stringify({ ...good, pad: 'x'.repeat(1024 * 1024) }), 'TooLarge');
  await expect(withLogs(cosignBy(draftFor('x'.repeat(20_000)), alice, bob), w.members), 'RecordTooLarge');

  // Scope and co-signatures, before any PLC work.
  await expect({ ...good, repository: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' }, 'RepositoryNotAllowed');
  const like = 'app.bsky.feed.like';
  await expect(withLogs(cosignBy({ ...draftFor(), collection: like, record: { $type: like, createdAt: '2026-01-01T00:00:00.000Z' } }, alice, bob), w.members), 'CollectionNotAllowed');
  const outsider = await createMember('mallory.test');
  await expect(withLogs(cosignBy(draftFor('catalogue'), alice, outsider), [...w.members, outsider]), 'UnknownSigner');
  await expect(withLogs(cosignBy(draftFor('catalogue'), alice), w.members), 'InsufficientCosigners');
  const shortSig = { ...good, cosignatures: [good.cosignatures[0]!, { issuer: bob.did, sig: { $bytes: 'AAAA' } }] };
  await expect(shortSig, 'InvalidCosignature');
  const twice = { ...good, cosignatures: [good.cosignatures[0]!, good.cosignatures[0]!] };
  await expect(twice, 'InvalidCosignature');
  // Forged: bob's entry signed by carol's key (well-formed, fails against bob's PLC key).
  const forged = cosignBy(draftFor('catalogue'), alice, { ...carol, did: bob.did });
  await expect(withLogs(forged, w.members), 'InvalidCosignature');

  // The co-signers' PLC state.
  await expect({ ...good, plcLogs: { [alice.did]: alice.log } }, 'MissingPlcLog');
  const tampered = structuredClone(alice.log) as any[];
  tampered[0].operation.alsoKnownAs = ['at://mallory.test'];
  await expect({ ...good, plcLogs: { [alice.did]: tampered, [bob.did]: bob.log } }, 'InvalidPlcLog');
  const tomb = await plc.tombstoneOp(cidForValue(carol.lastOp) as never, plcSigner(carol.rotationKey) as never);
  const tombLog = [...carol.log, auditEntry(carol.did, tomb as never, tick())];
  await expect({ ...cosignBy(draftFor('catalogue'), alice, carol), plcLogs: { [alice.did]: alice.log, [carol.did]: tombLog } }, 'SignerTombstoned');

  // Stale: once a newer head of bob's is used, his older log is refused.
  const before = { ...bob, log: [...bob.log] };
  await rotateSigningKey(bob);
  assert.equal((await sign(withLogs(cosignBy(draftFor('rotated'), alice, bob), w.members))).status, 200);
  await expect(withLogs(cosignBy(draftFor('stale'), alice, before), [alice, before]), 'StalePlcLog');

  // A keyId the members' PLC state does not have.
  const noKey = await createWorld({ members: w.members, policy: policyFor(w.members, { signers: w.members.map((m) => ({ did: m.did, keyId: 'encumber' })) }) });
  expectCode(ep, await procedure(noKey.app, ep, withLogs(cosignBy(draftFor('k'), alice, carol), w.members)), 'SignerKeyMissing');

  // Fetch mode: a directory that answers 503, and a directory client that throws something untyped.
  const fetchPolicy = policyFor(w.members, { plc: { directory: 'https://plc.example', source: 'fetch' } });
  const down = await createWorld({
    members: w.members,
    policy: fetchPolicy,
    fetchLog: (did) => fetchAuditLog('https://plc.example', did, { fetch: async () => new Response('', { status: 503 }) }),
  });
  expectCode(ep, await procedure(down.app, ep, cosignBy(draftFor('f'), alice, carol)), 'DirectoryUnavailable');
  const untyped = await createWorld({ members: w.members, policy: fetchPolicy, fetchLog: async () => { throw new TypeError('bug'); } });
  expectCode(ep, await procedure(untyped.app, ep, cosignBy(draftFor('f'), alice, carol)), 'InternalError');

  // Fetch mode with a mirror: the directory serves bob's newest log, the mirror the one before.
  const mirrored = policyFor(w.members, { plc: { directory: 'https://plc.example', mirrors: ['https://mirror.example'], source: 'fetch' } });
  const logOf = (did: string) => w.members.find((m) => m.did === did)!.log;
  const disagree = await createWorld({
    members: w.members,
    policy: mirrored,
    fetchFrom: async (source, did) => (source.includes('mirror') && did === bob.did ? before.log : logOf(did)),
  });
  expectCode(ep, await procedure(disagree.app, ep, cosignBy(draftFor('m'), alice, bob)), 'PlcSourcesDisagree');

  // Fetch mode, one directory request in flight at most: a request that needs two is refused at once.
  const held: (() => void)[] = [];
  const bounded = await createWorld({
    members: w.members,
    policy: fetchPolicy,
    limits: { directoryFetchesInFlight: 1 },
    fetchLog: (did) => new Promise((ok) => held.push(() => ok(logOf(did)))),
  });
  expectCode(ep, await procedure(bounded.app, ep, cosignBy(draftFor('b'), alice, carol)), 'RateLimited');
  assert.equal(held.length, 0, 'the refused request started a fetch');

  // Not serving.
  w.service.fail();
  await expect(good, 'ServiceNotReady');
});

test('handoffOffer: bad nonces, too large, too many challenges, a broken attestor, a service not serving', async () => {
  const ep = 'dev.encumber.handoffOffer';
  const w = await handoffWorld();
  const nonce = (n: number) => ({ nonce: ipldToJson(new Uint8Array(n).fill(1)) });
  for (const bad of [{}, nonce(16), { nonce: { $bytes: '!!' } }, { ...nonce(32), extra: 1 }]) {
    expectCode(ep, await procedure(w.sender.app, ep, bad), 'InvalidRequest');
  }
  expectCode(ep, await procedure(w.sender.app, ep, nonce(32), 'text/plain'), 'InvalidRequest');
  expectCode(ep, await procedure(w.sender.app, ep, JSON.stringify({ ...nonce(32), pad: 'x'.repeat(2048) })), 'TooLarge');
  // More offers than the challenge table holds: each still answered (the oldest challenges make room).
  for (let i = 0; i < 40; i++) assert.equal((await procedure(w.sender.app, ep, nonce(32))).status, 200);
  // An attestation queue that is full (one running, 16 waiting): RateLimited.
  let release = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const slow = await handoffWorld({
    senderAttestor: (root) => {
      const real = devAttestor(root, DIGEST_A);
      return { ...real, attest: async (req) => (await gate, real.attest(req)) };
    },
  });
  const queued = Array.from({ length: 17 }, () => procedure(slow.sender.app, ep, nonce(32)));
  expectCode(ep, await procedure(slow.sender.app, ep, nonce(32)), 'RateLimited');
  release();
  for (const r of await Promise.all(queued)) assert.equal(r.status, 200);

  const broken = await handoffWorld({
    senderAttestor: (root) => ({ platform: 'dev', devRoot: root.certificate, attest: async () => { throw new TypeError('device gone'); } }),
  });
  expectCode(ep, await procedure(broken.sender.app, ep, nonce(32)), 'InternalError');
  // The device failure failed the service.
  expectCode(ep, await procedure(broken.sender.app, ep, nonce(32)), 'ServiceNotReady');
});

test('handoffRequest: the catalogue of refusals, each with its code', async () => {
  const ep = 'dev.encumber.handoffRequest';
  const w = await handoffWorld();
  const { root, policy, clock } = w;
  const app = w.sender.app;
  const byHand = (o: Partial<Parameters<typeof requestByHand>[1]> = {}) => requestByHand(app, { root, policy, clock, ...o });

  // The request itself.
  expectCode(ep, await procedure(app, ep, {}), 'InvalidRequest');
  expectCode(ep, await procedure(app, ep, '{"request'), 'InvalidRequest');
  expectCode(ep, await procedure(app, ep, { request: {}, evidence: { $bytes: 'AA' } }, 'text/plain'), 'InvalidRequest');
  expectCode(ep, await procedure(app, ep, { request: {}, evidence: { $bytes: '!!' } }), 'InvalidRequest');
  expectCode(ep, await procedure(app, ep, JSON.stringify({ request: {}, evidence: { $bytes: 'A'.repeat(100 * 1024) } })), 'TooLarge');

  // The document, the challenge, the evidence.
  expectCode(ep, await procedure(app, ep, { request: { $type: 'dev.encumber.handoff' }, evidence: { $bytes: 'AA' } }), 'HandoffEvidenceInvalid');
  const other = policyFor(w.members, { threshold: 3 });
  expectCode(ep, await byHand({ doc: { policy: parsePolicy(other).cid } }), 'HandoffPolicyMismatch');
  expectCode(ep, await byHand({ doc: { platform: 'sev-snp' } }), 'HandoffPlatformMismatch');
  const ok = await byHand();
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  expectCode(ep, await procedure(app, ep, ok.body), 'HandoffReplay');
  expectCode(ep, await byHand({ beforeRequest: () => clock.advance(60_001) }), 'HandoffChallengeExpired');
  expectCode(ep, await byHand({ attestor: { platform: 'dev', attest: async () => new Uint8Array([0xa0]) } }), 'HandoffEvidenceInvalid');
  expectCode(ep, await byHand({ attestor: debugAttestor(root) }), 'HandoffDebugEnclave');
  expectCode(ep, await byHand({ attestor: devAttestor(root, DIGEST_B) }), 'HandoffMeasurementNotApproved');

  // Two checks at once at most: a third is refused before its challenge is used.
  const held: (() => void)[] = [];
  const slow = await handoffWorld({ senderApproved: () => new Promise((ok) => held.push(() => ok(approving(new Uint8Array(48).fill(0x0a))))) });
  const slowHand = () => requestByHand(slow.sender.app, { root: slow.root, policy: slow.policy, clock: slow.clock });
  const pending = [slowHand(), slowHand()];
  while (held.length < 2) await new Promise((ok) => setImmediate(ok));
  expectCode(ep, await slowHand(), 'RateLimited');
  for (const release of held) release();
  for (const a of await Promise.all(pending)) assert.equal(a.status, 200);

  // The approved set cannot be read (a bug, not the caller's): 500, nothing more.
  const bug = await handoffWorld({ senderApproved: async () => { throw new TypeError('bug'); } });
  expectCode(ep, await requestByHand(bug.sender.app, { root: bug.root, policy: bug.policy, clock: bug.clock }), 'InternalError');

  // Not serving.
  w.sender.service.fail();
  expectCode(ep, await procedure(app, ep, ok.body), 'ServiceNotReady');
});

test('getUpgrades: a service that is not serving', async () => {
  const w = await createWorld();
  w.service.fail();
  expectCode('dev.encumber.getUpgrades', await query(w.app, 'dev.encumber.getUpgrades'), 'ServiceNotReady');
});

test('approveUpgrade: the catalogue of refusals, each with its code', async () => {
  const ep = 'dev.encumber.approveUpgrade';
  const w = await createWorld();
  const [alice, bob, carol] = w.members as [Member, Member, Member];
  const cid = w.policy.cid;
  const good = upgradeDraft(cid, [DIGEST_A, DIGEST_B], [alice, bob], w.members);
  const expect = async (body: unknown, code: string, contentType?: string) => expectCode(ep, await procedure(w.app, ep, body, contentType), code);

  // The request itself.
  await expect('{"not json', 'InvalidRequest');
  await expect(good, 'InvalidRequest', 'text/plain');
  await expect({ ...good, extra: true }, 'InvalidRequest');
  await expect({ cosignatures: good.cosignatures }, 'InvalidRequest');
  await expect(JSON.stringify({ ...good, pad: 'x'.repeat(1024 * 1024) }), 'TooLarge');

  // The statement, then the co-signatures.
  await expect({ ...good, statement: { ...good.statement, $type: 'dev.encumber.payload' } }, 'UpgradeInvalid');
  const other = parsePolicy(policyFor(w.members, { threshold: 3 })).cid;
  await expect(upgradeDraft(other, [DIGEST_B], [alice, bob], w.members), 'UpgradePolicyMismatch');
  const outsider = await createMember('mallory.test');
  await expect(upgradeDraft(cid, [DIGEST_B], [alice, outsider], [...w.members, outsider]), 'UnknownSigner');
  await expect(upgradeDraft(cid, [DIGEST_B], [alice], w.members), 'InsufficientCosigners');
  await expect(upgradeDraft(cid, [DIGEST_B], [alice, { ...carol, did: bob.did }], w.members), 'InvalidCosignature');
  await expect({ ...good, plcLogs: { [alice.did]: alice.log } }, 'MissingPlcLog');
  const tampered = structuredClone(alice.log) as any[];
  tampered[0].operation.alsoKnownAs = ['at://mallory.test'];
  await expect({ ...good, plcLogs: { [alice.did]: tampered, [bob.did]: bob.log } }, 'InvalidPlcLog');
  assert.equal((await procedure(w.app, ep, good)).status, 200);

  // At most MAX_UPGRADES statements are kept.
  const full = await createWorld({ members: w.members });
  for (let i = 0; i < MAX_UPGRADES; i++) {
    const d = upgradeDraft(cid, [new Uint8Array(48).fill(i + 1)], [alice, bob], w.members);
    assert.equal((await procedure(full.app, ep, d)).status, 200);
  }
  expectCode(ep, await procedure(full.app, ep, upgradeDraft(cid, [new Uint8Array(48).fill(0xff)], [alice, bob], w.members)), 'RateLimited');

  // Fetch mode: a directory that answers 503, and a directory client that throws something untyped.
  const fetchPolicy = policyFor(w.members, { plc: { directory: 'https://plc.example', source: 'fetch' } });
  const fetchCid = parsePolicy(fetchPolicy).cid;
  const bare = (d: ReturnType<typeof upgradeDraft>) => ({ statement: d.statement, cosignatures: d.cosignatures });
  const down = await createWorld({
    members: w.members,
    policy: fetchPolicy,
    fetchLog: (did) => fetchAuditLog('https://plc.example', did, { fetch: async () => new Response('', { status: 503 }) }),
  });
  expectCode(ep, await procedure(down.app, ep, bare(upgradeDraft(fetchCid, [DIGEST_B], [alice, carol]))), 'DirectoryUnavailable');
  const untyped = await createWorld({ members: w.members, policy: fetchPolicy, fetchLog: async () => { throw new TypeError('bug'); } });
  expectCode(ep, await procedure(untyped.app, ep, bare(upgradeDraft(fetchCid, [DIGEST_B], [alice, carol]))), 'InternalError');

  // Not serving.
  w.service.fail();
  await expect(good, 'ServiceNotReady');
});

test('signPlcOp: the catalogue of refusals, each with its code', async () => {
  const ep = 'dev.encumber.signPlcOp';
  const g = await guardedWorld();
  const [alice, bob, carol] = g.members as [Member, Member, Member];
  const op = nextOp(g, (o) => ({ ...o, alsoKnownAs: ['at://catalogue.test'] }));
  const good = plcOpRequest(g.org, op, [alice, bob]);
  const expect = async (body: unknown, code: string, contentType?: string) => expectCode(ep, await procedure(g.w.app, ep, body, contentType), code);

  // The request itself.
  await expect('{"not json', 'InvalidRequest');
  await expect(good, 'InvalidRequest', 'text/plain');
  await expect({ ...good, extra: true }, 'InvalidRequest');
  await expect(JSON.stringify({ ...good, pad: 'x'.repeat(1024 * 1024) }), 'TooLarge');
  await expect(plcOpRequest(g.org, { ...op, sig: 'x' } as never, [alice, bob]), 'PlcOpInvalid');
  await expect({ ...good, repository: alice.did }, 'RepositoryNotAllowed');
  // The co-signatures.
  const outsider = await createMember('mallory.test');
  await expect(plcOpRequest(g.org, op, [alice, outsider]), 'UnknownSigner');
  await expect(plcOpRequest(g.org, op, [alice]), 'InsufficientCosigners');
  await expect(plcOpRequest(g.org, op, [alice, { ...carol, did: bob.did }]), 'InvalidCosignature');
  // The organisation's DID state.
  await expect(plcOpRequest(g.org, { ...op, prev: 'bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua' }, [alice, bob]), 'PlcOpPrevMismatch');
  await expect(plcOpRequest(g.org, { ...op, rotationKeys: [g.pds.did] }, [alice, bob]), 'PlcOpGuardKeyNotFirst');
  const i = await guardedWorld();
  await new Promise((ok) => setImmediate(ok)); // the guard's first poll: its baseline
  await i.dir.update(i.org, i.pds, (o) => ({ ...o, services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://evil.example' } } }));
  expectCode(ep, await procedure(i.w.app, ep, plcOpRequest(i.org, nextOp(i, (o) => ({ ...o, alsoKnownAs: ['at://on-top.test'] })), i.members.slice(0, 2))), 'DidGuardIntrusionPending');
  const h = await guardedWorld({ guardFirst: false });
  await h.dir.update(h.org, h.pds, (o) => ({ ...o, rotationKeys: [h.pds.did] }));
  expectCode(ep, await procedure(h.w.app, ep, plcOpRequest(h.org, nextOp(h, (o) => o), h.members.slice(0, 2))), 'DidGuardNotRotationKey');
  const fetchLog = g.dir.fetchLog.bind(g.dir);
  g.dir.fetchLog = async (did) => {
    const log = (await fetchLog(did)) as any[];
    log[0].operation.alsoKnownAs = ['at://forged.test'];
    return log;
  };
  await expect(good, 'InvalidPlcLog');
  g.dir.fetchLog = fetchLog;
  // The directory.
  const submit = g.dir.submit.bind(g.dir);
  g.dir.submit = async () => {
    throw new EncumberError('PlcOpRejected', 'refused');
  };
  await expect(good, 'PlcOpRejected');
  g.dir.submit = async () => {
    throw new TypeError('bug');
  };
  await expect(good, 'InternalError');
  g.dir.submit = submit;
  g.dir.down = true;
  await expect(good, 'DirectoryUnavailable');
  g.dir.down = false;
  assert.equal((await procedure(g.w.app, ep, good)).status, 200);

  // A policy without the guard.
  const plain = await createWorld();
  expectCode(ep, await procedure(plain.app, ep, plcOpRequest(ORG, op, plain.members.slice(0, 2))), 'DidGuardDisabled');

  // Not serving.
  g.w.service.fail();
  await expect(good, 'ServiceNotReady');
});

test('getGuardLog: a policy without the guard, a service that is not serving', async () => {
  const ep = 'dev.encumber.getGuardLog';
  expectCode(ep, await query((await createWorld()).app, ep), 'DidGuardDisabled');
  const g = await guardedWorld();
  assert.equal((await query(g.w.app, ep)).status, 200);
  g.w.service.fail();
  expectCode(ep, await query(g.w.app, ep), 'ServiceNotReady');
});

test('every listed code is produced by the catalogue or named with the test that drives it', () => {
  for (const endpoint of ENDPOINTS) {
    const elsewhere = DRIVEN_ELSEWHERE[endpoint] ?? {};
    for (const code of Object.keys(elsewhere)) {
      assert.ok((ENDPOINT_ERRORS[endpoint] as readonly string[]).includes(code), `${endpoint}: ${code} is exempted but not listed`);
      assert.ok(!produced.get(endpoint)!.has(code), `${endpoint}: ${code} is produced here; drop its exemption`);
    }
    const missing = ENDPOINT_ERRORS[endpoint].filter((c) => !produced.get(endpoint)!.has(c) && !(c in elsewhere));
    assert.deepEqual(missing, [], `${endpoint}: listed codes no request produced`);
  }
});
