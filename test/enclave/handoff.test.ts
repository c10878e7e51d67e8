/**
 * The attested key hand-off (docs/key-handoff.md) between in-process
 * instances on the dev platform: the joiner ends up with the same enclave key
 * and its own binding and measurement; every refusal has its exact code, on
 * the side that refuses it. No socket, no wall clock (one injected clock).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CID } from '../../src/data/cid.ts';
import { ipldToJson, jsonToIpld } from '../../src/data/json.ts';
import { devAttestor } from '../../src/enclave/platforms.ts';
import { bootService } from '../../src/enclave/boot.ts';
import { HandoffSender, joinFrom } from '../../src/enclave/handoff.ts';
import { generateRecipientKey } from '../../src/enclave/hpke.ts';
import { KeyHolder } from '../../src/enclave/key-holder.ts';
import { createApp } from '../../src/server/app.ts';
import { encodeHandoff, handoffTranscript, type HandoffRequest } from '../../src/verifier/handoff.ts';
import { verifyEvidence } from '../../src/verifier/evidence.ts';
import { cosignBy, draftFor, policyFor, rotateSigningKey, withLogs, type Member } from '../support/world.ts';
import { EncumberError } from '../../src/errors.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { approving, debugAttestor, DIGEST_A, DIGEST_B, devSet, fetchInto, handoffWorld, requestByHand, upgradeDraft, type App } from '../support/handoff.ts';

const DIGEST_E = new Uint8Array(48).fill(0xee);

const post = async (app: App, nsid: string, body: unknown) => {
  const res = await app.request(`/xrpc/${nsid}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
};

test('success: the joiner holds the same key, serves with its own binding and measurement, and signs', async () => {
  // S runs program A and approves A and B; R runs program B and approves both.
  const w = await handoffWorld({ senderApproved: approving(DIGEST_A, DIGEST_B) });
  w.clock.advance(1000);
  const r = await w.join({ attestor: devAttestor(w.root, DIGEST_B), approved: approving(DIGEST_A, DIGEST_B) });
  assert.equal(r.service.state, 'serving', JSON.stringify(r.service.failure));
  const s = w.sender.service.identity();
  const id = r.service.identity();
  assert.equal(id.key, s.key, 'the same enclave key');
  assert.equal(id.policyCid, s.policyCid);
  assert.notEqual(id.bindingCid, s.bindingCid, 'a binding of its own (made when it got the key)');

  // Both bindings verify, each with its own program's PCRs.
  for (const [inst, digest] of [[w.sender, DIGEST_A], [r, DIGEST_B]] as const) {
    const nonce = new Uint8Array(16).fill(7);
    const a = await inst.service.attestation(nonce);
    const v = await verifyEvidence(
      { evidence: jsonToIpld(a.evidence) as Uint8Array, binding: a.binding, bindingCid: a.bindingCid },
      { roots: [w.root.certificate], at: w.clock(), nonce, measurements: { accept: approving(digest) } },
    );
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(v.ok && v.key, s.key);
    assert.equal(v.ok && v.pcrs?.[0], devSet(digest).pcrs[0]);
  }

  // R signs a co-signed record with that key.
  const signed = await r.service.signRecord(withLogs(cosignBy(draftFor('after the hand-off'), w.members[0]!, w.members[1]!), w.members) as never);
  assert.equal((signed.signature as { key: string }).key, s.key);
  // The sender's approved upgrades, then two round trips, nothing else.
  assert.deepEqual(r.allExchanges.map((e) => [e.path, e.status]), [
    ['/xrpc/dev.encumber.getUpgrades', 200],
    ['/xrpc/dev.encumber.handoffOffer', 200],
    ['/xrpc/dev.encumber.handoffRequest', 200],
  ]);
});

test('a joining instance is booting (health 503) until it holds the key; a failed hand-off fails it for good, and health says why', async () => {
  const w = await handoffWorld();
  let release!: () => void;
  const held = new Promise<void>((ok) => (release = ok));
  const inner = fetchInto(w.sender.app);
  const pending = w.join({ fetch: (async (u: any, i: any) => (await held, inner(u, i))) as typeof fetch });
  // Not yet settled: the service behind R's app is booting.
  await new Promise((ok) => setImmediate(ok));
  release();
  const r = await pending;
  assert.equal(r.service.state, 'serving');

  // Booting: refuses everything, health 503 'booting'.
  const booting = bootService({ policy: w.policy, attestor: devAttestor(w.root, DIGEST_A), clock: w.clock, join: { url: 'http://sender.test', fetch: (() => new Promise(() => {})) as typeof fetch } });
  const bApp = createApp({ service: booting });
  const h = await bApp.request('/xrpc/_health');
  assert.equal(h.status, 503);
  assert.equal(((await h.json()) as { state: string }).state, 'booting');
  assert.equal((await bApp.request('/xrpc/dev.encumber.getIdentity')).status, 503);

  // Failed: the sender is unreachable.
  const failed = await w.join({ fetch: (async () => { throw new TypeError('connection refused'); }) as typeof fetch });
  assert.equal(failed.service.state, 'failed');
  const fh = (await (await failed.app.request('/xrpc/_health')).json()) as { state: string; failure: { code: string } };
  assert.deepEqual([fh.state, fh.failure.code], ['failed', 'RemoteUnavailable']);
});

test('a replayed challenge is refused: HandoffReplay', async () => {
  const w = await handoffWorld();
  const r = await w.join();
  assert.equal(r.service.state, 'serving');
  const second = r.exchanges.find((e) => e.path.endsWith('handoffRequest'))!;
  const again = await post(w.sender.app, 'dev.encumber.handoffRequest', second.request);
  assert.deepEqual([again.status, again.json.error], [422, 'HandoffReplay']);
});

test('an expired challenge is refused: HandoffChallengeExpired', async () => {
  const w = await handoffWorld();
  const r = await w.join({
    intercept: (nsid, body) => {
      if (nsid === 'dev.encumber.handoffRequest') w.clock.advance(60_001);
      return body;
    },
  });
  assert.equal(r.service.state, 'failed');
  assert.equal(r.service.failure?.code, 'HandoffChallengeExpired');
  assert.equal(r.exchanges[1]?.status, 422);
});

test('a joiner running an unapproved program is refused by the sender: HandoffMeasurementNotApproved', async () => {
  const w = await handoffWorld();
  // R (program B) would accept A, but S approves only itself (A).
  const r = await w.join({ attestor: devAttestor(w.root, DIGEST_B), approved: approving(DIGEST_A, DIGEST_B) });
  assert.equal(r.service.failure?.code, 'HandoffMeasurementNotApproved');
  assert.deepEqual([r.exchanges[1]?.status, r.exchanges[1]?.answer.error], [422, 'HandoffMeasurementNotApproved']);
  // And the reverse: a joiner whose approved set lacks the sender's program refuses the offer itself.
  const r2 = await w.join({ attestor: devAttestor(w.root, DIGEST_B) });
  assert.equal(r2.service.failure?.code, 'HandoffMeasurementNotApproved');
  assert.equal(r2.exchanges.length, 1, 'refused after round 1: no request was sent');
});

test('a debug-mode joiner is refused: HandoffDebugEnclave', async () => {
  const w = await handoffWorld();
  const r = await w.join({ attestor: debugAttestor(w.root), approved: approving(DIGEST_A) });
  assert.equal(r.service.failure?.code, 'HandoffDebugEnclave');
  assert.equal(r.exchanges[1]?.answer.error, 'HandoffDebugEnclave');
});

test('platforms: a dev joiner is refused by a hardware sender, a hardware sender by a dev joiner (HandoffPlatformMismatch)', async () => {
  const w = await handoffWorld();
  // A Nitro sender (its attestor a stand-in: only its offers' platform matters here).
  const nitro = bootService({
    policy: w.policy,
    attestor: { platform: 'nitro', attest: async (req) => devAttestor(w.root, DIGEST_A).attest(req) },
    clock: w.clock,
    handoff: { approved: approving(DIGEST_A) },
  });
  const nitroApp = createApp({ service: nitro });
  // The dev joiner refuses the Nitro sender's offer.
  const r = await w.join({ from: { service: nitro, app: nitroApp } });
  assert.equal(r.service.failure?.code, 'HandoffPlatformMismatch');

  // A dev joiner that goes on anyway (by hand): its request is refused before any evidence check.
  const offer = await post(nitroApp, 'dev.encumber.handoffOffer', { nonce: ipldToJson(new Uint8Array(32).fill(1)) });
  assert.equal(offer.status, 200);
  const o = jsonToIpld(offer.json.offer) as Record<string, any>;
  const { publicKey } = await generateRecipientKey();
  const make = async (platform: 'dev' | 'nitro') => {
    const doc = encodeHandoff<HandoffRequest>({
      $type: 'dev.encumber.handoff', version: 1, purpose: 'handoff-request', policy: w.policy.cid, platform,
      program: { name: 'encumber', version: '0.1.0' }, challenge: o.challenge, offer: CID.parse(offer.json.offerCid), hpkeKey: publicKey, createdAt: w.clock().toISOString(),
    });
    const evidence = await devAttestor(w.root, DIGEST_A).attest({ publicKey, bindingBytes: doc.bytes, bindingCid: doc.cid.bytes, nonce: o.challenge, now: w.clock() });
    return { request: ipldToJson(doc.value), evidence: ipldToJson(evidence) };
  };
  const devReq = await post(nitroApp, 'dev.encumber.handoffRequest', await make('dev'));
  assert.deepEqual([devReq.status, devReq.json.error], [422, 'HandoffPlatformMismatch']);
  // A dev document that claims nitro: its chain does not reach the AWS root.
  const offer2 = await post(nitroApp, 'dev.encumber.handoffOffer', { nonce: ipldToJson(new Uint8Array(32).fill(2)) });
  o.challenge = (jsonToIpld(offer2.json.offer) as Record<string, any>).challenge;
  offer.json.offerCid = offer2.json.offerCid;
  const liar = await post(nitroApp, 'dev.encumber.handoffRequest', await make('nitro'));
  assert.deepEqual([liar.status, liar.json.error], [422, 'HandoffEvidenceInvalid']);
  assert.match(liar.json.message, /UntrustedRoot|root/);
});

test('a man in the middle who swaps the joiner\'s HPKE key for his own is refused: the evidence does not bind it', async () => {
  const w = await handoffWorld();
  const mallory = await generateRecipientKey();
  const r = await w.join({
    intercept: (nsid, body) => {
      if (nsid !== 'dev.encumber.handoffRequest') return body;
      const req = jsonToIpld(body.request) as Record<string, unknown>;
      return { ...body, request: ipldToJson({ ...req, hpkeKey: mallory.publicKey }) };
    },
  });
  assert.equal(r.service.failure?.code, 'HandoffEvidenceInvalid');
  assert.deepEqual([r.exchanges[1]?.status, r.exchanges[1]?.answer.error], [422, 'HandoffEvidenceInvalid']);
});

test('a man in the middle who relays honestly gets only a ciphertext he cannot open', async () => {
  const w = await handoffWorld();
  const r = await w.join();
  assert.equal(r.service.state, 'serving');
  const [e1, e2] = r.exchanges as [any, any];
  const offer = jsonToIpld(e1.answer.offer) as Record<string, any>;
  const t = handoffTranscript({
    offer: CID.parse(e1.answer.offerCid), request: CID.parse(e2.answer.requestCid), challenge: offer.challenge,
    requesterNonce: offer.requesterNonce, policy: w.policy.cid, key: offer.key, marks: e2.answer.marks,
  });
  const mallory = await generateRecipientKey();
  const enc = jsonToIpld(e2.answer.enc) as Uint8Array;
  const ct = jsonToIpld(e2.answer.ciphertext) as Uint8Array;
  await assert.rejects(KeyHolder.fromSealed(mallory.privateKey, enc, ct, t.info, t.aad, offer.key), { code: 'HandoffSealInvalid' });
});

test('a sender whose sealed key is not the key it attested: HandoffKeyMismatch', async () => {
  const w = await handoffWorld();
  const attested = KeyHolder.generate();
  const other = KeyHolder.generate();
  const attestor = devAttestor(w.root, DIGEST_A);
  const liar = new HandoffSender({
    policy: w.policy,
    platform: 'dev',
    clock: w.clock,
    trust: { roots: [w.root.certificate], approved: async () => approving(DIGEST_A) },
    attest: (req) => attestor.attest(req),
    keyDid: () => attested.did,
    seal: (pub, info, aad) => other.sealTo(pub, info, aad),
    marks: () => [],
  });
  const fetchLiar = (async (u: string | URL, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body));
    const out = String(u).endsWith('handoffOffer') ? await liar.offer(jsonToIpld(body.nonce) as Uint8Array) : await liar.request(body);
    return new Response(JSON.stringify(out), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  await assert.rejects(
    joinFrom({ url: 'http://liar.test', policy: w.policy, platform: 'dev', clock: w.clock, attestor, trust: { roots: [w.root.certificate], approved: async () => approving(DIGEST_A) }, fetch: fetchLiar }),
    { code: 'HandoffKeyMismatch' },
  );
});

test('a joiner with another policy is refused: HandoffPolicyMismatch', async () => {
  const w = await handoffWorld();
  const r = await w.join({ policy: parsePolicy(policyFor(w.members, { threshold: 3 })) });
  assert.equal(r.service.failure?.code, 'HandoffPolicyMismatch');
});

test('the challenge table is bounded: a flood of offers evicts the oldest challenge (HandoffReplay) and never locks an honest joiner out', async () => {
  const w = await handoffWorld();
  const nonce = { nonce: ipldToJson(new Uint8Array(32).fill(3)) };
  const flood = async () => {
    for (let i = 0; i < 32; i++) assert.equal((await post(w.sender.app, 'dev.encumber.handoffOffer', nonce)).status, 200, `offer ${i}`);
  };
  // A joiner's challenge, then 32 offers between its two round trips: its challenge was the oldest, and is gone.
  const evicted = await requestByHand(w.sender.app, { root: w.root, policy: w.policy, clock: w.clock, beforeRequest: flood });
  assert.deepEqual([evicted.status, evicted.json.error], [422, 'HandoffReplay']);
  // The table is full of the flood's challenges: an honest joiner still gets the key.
  await flood();
  const r = await w.join();
  assert.equal(r.service.state, 'serving', String(r.service.failure?.message));
  assert.equal(r.service.identity().key, w.sender.service.identity().key);
});

/** The code a promise settles with: 'ok', or its EncumberError code. */
async function settledCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof EncumberError) return e.code;
    throw e;
  }
}

test('the high-water marks travel with the key: after a hand-off a quorum of rotated-out keys is still StalePlcLog, and a program it would approve never gets the key', async () => {
  const w = await handoffWorld();
  const [alice, bob] = w.members as [Member, Member, Member];
  // Snapshots before alice and bob rotate: these old keys are the attacker's.
  const oldAlice: Member = { ...alice, log: [...alice.log] };
  const oldBob: Member = { ...bob, log: [...bob.log] };
  await rotateSigningKey(alice);
  await rotateSigningKey(bob);
  // The quorum, with its current keys, approves something at A: A's marks sit at the rotated heads.
  assert.equal(await settledCode(w.sender.service.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A], [alice, bob]))), 'ok');
  const evil = upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_E], [oldAlice, oldBob]);
  assert.equal(await settledCode(w.sender.service.approveUpgrade(evil)), 'StalePlcLog');
  // A same-release hand-off A -> B: B answers the stale quorum exactly as A did, for upgrades and for records.
  const b = await w.join();
  assert.equal(b.service.state, 'serving', JSON.stringify(b.service.failure));
  assert.equal(await settledCode(b.service.approveUpgrade(evil)), 'StalePlcLog');
  const staleRecord = withLogs(cosignBy({ ...draftFor('old keys') }, oldAlice, oldBob), [oldAlice, oldBob]);
  assert.equal(await settledCode(b.service.signRecord(staleRecord as never)), 'StalePlcLog');
  // So a program only the stale quorum would approve is refused by B.
  const e = await w.join({ from: b, attestor: devAttestor(w.root, DIGEST_E), approved: approving(DIGEST_E) });
  assert.equal(e.service.state, 'failed');
  assert.equal(e.service.failure?.code, 'HandoffMeasurementNotApproved');
});

test('marks changed on the way are refused: they are in the seal (HandoffSealInvalid), and a mark for a non-member before it (HandoffEvidenceInvalid)', async () => {
  const w = await handoffWorld();
  const [alice, bob] = w.members as [Member, Member, Member];
  const signed = await w.sender.service.signRecord(withLogs(cosignBy(draftFor('marks'), alice, bob), w.members) as never);
  assert.ok(signed);
  for (const [alter, code] of [
    [(m: { did: string; cid: string }[]) => m.slice(1), 'HandoffSealInvalid'],
    [(m: { did: string; cid: string }[]) => [...m, { did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', cid: m[0]!.cid }], 'HandoffEvidenceInvalid'],
  ] as const) {
    const relay = fetchInto(w.sender.app);
    const tamper: typeof fetch = async (input, init) => {
      const res = await relay(input, init);
      if (!String(input).includes('handoffRequest') || res.status !== 200) return res;
      const body = (await res.json()) as { marks: { did: string; cid: string }[] };
      assert.equal(body.marks.length, 2, 'the sender sends its two marks');
      return new Response(JSON.stringify({ ...body, marks: alter(body.marks) }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const r = await w.join({ fetch: tamper });
    assert.equal(r.service.state, 'failed');
    assert.equal(r.service.failure?.code, code);
  }
});

test('every request a joiner makes asks for a connection of its own (connection: close): none is sent on a kept-alive connection the sender may have closed while the joiner checked the offer', async () => {
  const w = await handoffWorld();
  const seen: { path: string; connection: string | null }[] = [];
  const honest = fetchInto(w.sender.app);
  const recording = (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push({ path: new URL(String(input)).pathname, connection: new Headers(init?.headers).get('connection') });
    return honest(input, init);
  }) as typeof fetch;
  const r = await w.join({ fetch: recording });
  assert.equal(r.service.state, 'serving');
  assert.deepEqual(
    seen.map((s) => [s.path, s.connection]),
    [
      ['/xrpc/dev.encumber.getUpgrades', 'close'],
      ['/xrpc/dev.encumber.handoffOffer', 'close'],
      ['/xrpc/dev.encumber.handoffRequest', 'close'],
    ],
  );
});
