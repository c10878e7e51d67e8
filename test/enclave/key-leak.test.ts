/**
 * The private key never leaves the key holder: drive the service through
 * every endpoint and error path, then search every response body and header,
 * every log line, every error and every serialisation of the service objects
 * for the private key in hex, base64 and base64url; then the key hand-off
 * between two instances over loopback HTTP (both directions on the wire).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { generateK256PrivateKey } from '../../src/crypto/k256-signer.ts';
import { KeyHolder } from '../../src/enclave/key-holder.ts';
import { cosignBy, createMember, createWorld, draftFor, policyFor, withLogs } from '../support/world.ts';
import { createDevRoot } from '../../src/attestation/dev/index.ts';
import { devAttestor } from '../../src/enclave/platforms.ts';
import { bootService } from '../../src/enclave/boot.ts';
import { createApp, listen } from '../../src/server/app.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { jsonToIpld } from '../../src/data/json.ts';
import { CID } from '../../src/data/cid.ts';
import { handoffTranscript } from '../../src/verifier/handoff.ts';
import { generateRecipientKey } from '../../src/enclave/hpke.ts';
import { testClock, DIGEST_A } from '../support/handoff.ts';
import { guardedWorld, nextOp, plcOpRequest } from '../support/did-guard.ts';

function spellings(key: Uint8Array): string[] {
  const b = Buffer.from(key);
  const b64 = b.toString('base64');
  return [b.toString('hex'), b.toString('hex').toUpperCase(), b64, b64.replace(/=+$/, ''), b.toString('base64url')];
}

/** An answer's body and headers into `seen` (what a log or a client could see); its status. */
async function record(seen: string[], res: Response): Promise<number> {
  seen.push(await res.text());
  res.headers.forEach((v, k) => {
    seen.push(`${k}: ${v}`);
  });
  return res.status;
}

/** A recording fetch: every byte a joiner sends and receives, headers included, and each JSON exchange. */
function recordingFetch() {
  const wire: string[] = [];
  const exchanges: { url: string; sent: any; answer: any }[] = [];
  const fetchAndRecord = (async (u: string | URL, init?: RequestInit) => {
    const res = await fetch(u, init);
    const text = await res.text();
    wire.push(String(init?.body ?? ''), text);
    res.headers.forEach((v, k) => {
      wire.push(`${k}: ${v}`);
    });
    if (init?.body !== undefined) exchanges.push({ url: String(u), sent: JSON.parse(String(init.body)), answer: JSON.parse(text) });
    return new Response(text, { status: res.status, headers: res.headers });
  }) as typeof fetch;
  return { fetch: fetchAndRecord, wire, exchanges };
}

test('the private key appears in no response, header, log line, error or serialisation', async () => {
  let privateKey: Uint8Array | undefined;
  const w = await createWorld({
    drawKey: () => {
      privateKey = generateK256PrivateKey();
      return privateKey.slice(); // the holder wipes what it is given
    },
  });
  assert.ok(privateKey, 'the world drew its key through the test hook');
  const seen: string[] = [];
  const call = async (path: string, init?: RequestInit) => record(seen, await w.app.request(path, init));
  const postJson = (body: unknown) =>
    call('/xrpc/dev.encumber.signRecord', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const [alice, bob] = w.members as [any, any];
  const statuses = [
    await call('/xrpc/_health'),
    await call('/xrpc/dev.encumber.getIdentity'),
    await call('/xrpc/dev.encumber.getAttestation?nonce=00ff'),
    await call('/xrpc/dev.encumber.getAttestation?nonce=zz'),
    await call('/nope'),
    await postJson(withLogs(cosignBy(draftFor('ok'), alice, bob), w.members)),
    await postJson(withLogs(cosignBy(draftFor('one'), alice), w.members)),
    await postJson(withLogs(cosignBy(draftFor('outsider'), alice, await createMember('m.test')), w.members)),
    await postJson(cosignBy(draftFor('nologs'), alice, bob)),
    await postJson('{"broken'),
    await postJson({ ...draftFor(), record: { $type: 'x', n: 0.5 } }),
  ];
  assert.deepEqual(statuses, [200, 200, 200, 400, 404, 200, 422, 422, 422, 400, 400]);

  // Errors thrown by the service itself, outside HTTP.
  for (const bad of [{ ...draftFor(), cosignatures: [{ issuer: alice.did, sig: { $bytes: '!!' } }] }, withLogs(draftFor('x'), w.members)]) {
    try {
      await w.service.signRecord(bad as never);
    } catch (e) {
      seen.push(String(e), (e as Error).stack ?? '', JSON.stringify(e), inspect(e, { depth: 10 }));
    }
  }
  seen.push(...w.logs);
  // The key holder itself (the service's is private to it): one over the same key bytes.
  const holder = KeyHolder.generate(() => privateKey!.slice());
  assert.equal(holder.did, w.key.did);
  seen.push(JSON.stringify(holder), String(holder), inspect(holder, { depth: 10, showHidden: true }));
  seen.push(inspect(w.service, { depth: 10, showHidden: true }));
  seen.push(JSON.stringify(w.service.identity()));

  const haystack = seen.join('\n');
  assert.ok(haystack.includes(w.key.did), 'the scan sees real output (the public key is in it)');
  for (const s of spellings(privateKey)) assert.ok(!haystack.includes(s), `private key found as ${s.slice(0, 6)}…`);
  assert.equal(Object.keys(holder).includes('privateKey'), false);
});

test('the DID guard key (a guarded policy) appears in no response, header, log line, error or serialisation', async () => {
  let guardKey: Uint8Array | undefined;
  const members = [await createMember('alice.test'), await createMember('bob.test'), await createMember('carol.test')];
  const logs = new Map(members.map((m) => [m.did, m.log]));
  const w = await createWorld({
    members,
    policy: policyFor(members, { plc: { directory: 'http://127.0.0.1:1', source: 'fetch' }, didGuard: { enabled: true, pollSeconds: 60, revert: 'all' } }),
    fetchLog: async (did) => logs.get(did),
    drawGuardKey: () => {
      guardKey = generateK256PrivateKey();
      return guardKey.slice();
    },
  });
  assert.ok(guardKey, 'the world drew its guard key through the test hook');
  const seen: string[] = [];
  const call = async (path: string, init?: RequestInit) => record(seen, await w.app.request(path, init));
  const [alice, bob] = w.members as [any, any];
  const post = (body: unknown) => call('/xrpc/dev.encumber.signRecord', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const statuses = [
    await call('/xrpc/_health'),
    await call('/xrpc/dev.encumber.getIdentity'),
    await call('/xrpc/dev.encumber.getAttestation?nonce=00ff'),
    await post(cosignBy(draftFor('ok'), alice, bob)),
    await post(cosignBy(draftFor('one'), alice)),
  ];
  assert.deepEqual(statuses, [200, 200, 200, 200, 422]);
  seen.push(...w.logs, inspect(w.service, { depth: 10, showHidden: true }), JSON.stringify(w.service.identity()));
  const holder = KeyHolder.generate(() => guardKey!.slice());
  seen.push(JSON.stringify(holder), String(holder), inspect(holder, { depth: 10, showHidden: true }));
  const guardDid = (w.service.identity() as Record<string, any>).guardKey;
  assert.equal(holder.did, guardDid);
  const haystack = seen.join('\n');
  assert.ok(haystack.includes(guardDid), 'the scan sees real output (the guard\'s public key is in it)');
  for (const s of spellings(guardKey)) assert.ok(!haystack.includes(s), `guard key found as ${s.slice(0, 6)}…`);
});

test('the DID guard key through signPlcOp, getGuardLog and a revert: in no response, header, log line, directory write or serialisation', async () => {
  const g = await guardedWorld();
  const [alice, bob] = g.members as [any, any];
  const seen: string[] = [];
  const post = (body: unknown) => g.w.app.request('/xrpc/dev.encumber.signPlcOp', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const statuses = [
    await record(seen, await post(plcOpRequest(g.org, nextOp(g, (o) => ({ ...o, alsoKnownAs: ['at://leak.test'] })), [alice, bob]))),
    await record(seen, await post(plcOpRequest(g.org, nextOp(g, (o) => ({ ...o, rotationKeys: [g.pds.did] })), [alice, bob]))),
    await record(seen, await post(plcOpRequest(g.org, nextOp(g, (o) => o), [alice]))),
  ];
  await g.dir.update(g.org, g.pds, (o) => ({ ...o, rotationKeys: [g.pds.did] }));
  g.poll();
  for (let i = 0; i < 3; i++) await new Promise((ok) => setImmediate(ok));
  statuses.push(await record(seen, await g.w.app.request('/xrpc/dev.encumber.getGuardLog')));
  assert.deepEqual(statuses, [200, 422, 422, 200]);
  assert.ok(g.dir.logs.get(g.org)!.some((e) => e.nullified), 'the guard reverted (signed) during the scan');
  seen.push(JSON.stringify(g.dir.logs.get(g.org)), ...g.w.logs, inspect(g.w.service, { depth: 10, showHidden: true }));
  const haystack = seen.join('\n');
  assert.ok(haystack.includes(g.guardDid), 'the scan sees real output (the guard\'s public key is in it)');
  for (const s of spellings(g.guardKeyBytes)) assert.ok(!haystack.includes(s), `guard key found as ${s.slice(0, 6)}…`);
});

test('the key hand-off over HTTP: neither direction carries the key bytes, and a recorded transcript does not open without the joiner\'s ephemeral key', async () => {

  const clock = testClock();
  const root = createDevRoot({ now: new Date('2026-01-01T00:00:00.000Z'), validityDays: 3650 });
  const policy = parsePolicy(policyFor([await createMember('a.test'), await createMember('b.test')]));
  let privateKey: Uint8Array | undefined;
  const sender = bootService({
    policy,
    attestor: devAttestor(root, DIGEST_A),
    clock,
    drawKey: () => {
      privateKey = generateK256PrivateKey();
      return privateKey.slice();
    },
  });
  const server = await listen(createApp({ service: sender }), '127.0.0.1', 0);
  try {
    const { fetch: recording, wire, exchanges } = recordingFetch();
    const joiner = bootService({ policy, attestor: devAttestor(root, DIGEST_A), clock, join: { url: server.url, fetch: recording } });
    assert.equal(await joiner.settled(), 'serving', JSON.stringify(joiner.failure));
    assert.equal(joiner.identity().key, sender.identity().key);
    assert.equal(exchanges.length, 2);

    const haystack = wire.join('\n');
    assert.ok(haystack.includes(sender.identity().key), 'the scan sees real traffic (the public key is in it)');
    for (const s of spellings(privateKey!)) assert.ok(!haystack.includes(s), `private key found on the wire as ${s.slice(0, 6)}…`);

    // The recorded transcript, opened with any other X25519 key: refused.
    const [e1, e2] = exchanges as [any, any];
    const offer = jsonToIpld(e1.answer.offer) as Record<string, any>;
    const t = handoffTranscript({
      offer: CID.parse(e1.answer.offerCid),
      request: CID.parse(e2.answer.requestCid),
      challenge: offer.challenge,
      requesterNonce: offer.requesterNonce,
      policy: policy.cid,
      key: offer.key,
      marks: e2.answer.marks,
    });
    const eve = await generateRecipientKey();
    await assert.rejects(
      KeyHolder.fromSealed(eve.privateKey, jsonToIpld(e2.answer.enc) as Uint8Array, jsonToIpld(e2.answer.ciphertext) as Uint8Array, t.info, t.aad, offer.key),
      { code: 'HandoffSealInvalid' },
    );
  } finally {
    await server.close();
  }
});

test('the key hand-off of a guarded policy over HTTP: the DID guard key crosses only sealed, and arrives', async () => {
  const clock = testClock();
  const root = createDevRoot({ now: new Date('2026-01-01T00:00:00.000Z'), validityDays: 3650 });
  const members = [await createMember('a.test'), await createMember('b.test')];
  const logs = new Map(members.map((m) => [m.did, m.log]));
  const policy = parsePolicy(policyFor(members, { plc: { directory: 'http://127.0.0.1:1', source: 'fetch' }, didGuard: { enabled: true, pollSeconds: 60, revert: 'all' } }));
  const common = { policy, clock, fetchLog: async (_s: string, did: string) => logs.get(did), guardTimer: () => () => {} };
  let guardKey: Uint8Array | undefined;
  const sender = bootService({
    ...common,
    attestor: devAttestor(root, DIGEST_A),
    drawGuardKey: () => {
      guardKey = generateK256PrivateKey();
      return guardKey.slice();
    },
  });
  const server = await listen(createApp({ service: sender }), '127.0.0.1', 0);
  try {
    const { fetch: recording, wire } = recordingFetch();
    const joiner = bootService({ ...common, attestor: devAttestor(root, DIGEST_A), join: { url: server.url, fetch: recording } });
    assert.equal(await joiner.settled(), 'serving', JSON.stringify(joiner.failure));
    const guardDid = (sender.identity() as Record<string, any>).guardKey;
    assert.equal((joiner.identity() as Record<string, any>).guardKey, guardDid, 'the joiner holds the guard key');
    const haystack = wire.join('\n');
    assert.ok(haystack.includes(guardDid), 'the scan sees real traffic (the guard\'s public key is in the offer)');
    for (const s of spellings(guardKey!)) assert.ok(!haystack.includes(s), `guard key found on the wire as ${s.slice(0, 6)}…`);
  } finally {
    await server.close();
  }
});
