/**
 * signRecord through the HTTP app (in process): the happy path is checked
 * cryptographically, and every refusal code of DESIGN.md has a case.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { CID } from 'multiformats/cid';
import { decodeBase64 } from '../../src/crypto/encoding.ts';
import { verifySignature } from '../../src/crypto/verify.ts';
import { encodeCbor } from '../../src/data/cbor.ts';
import { jsonToIpld } from '../../src/data/json.ts';
import { draftPayload } from '../../src/member/cosign.ts';
import { generateMemberKey } from '../../src/member/keys.ts';
import {
  COLLECTION,
  ORG,
  cosignBy,
  createMember,
  createWorld,
  draftFor,
  rotateSigningKey,
  withLogs,
  type World,
} from '../support/world.ts';

async function post(w: World, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await w.app.request('/xrpc/dev.encumber.signRecord', {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

async function expectError(w: World, body: unknown, status: number, code: string) {
  const r = await post(w, body);
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.error, code, r.json.message);
  assert.equal(typeof r.json.message, 'string');
  return r;
}

let w: World;
before(async () => {
  w = await createWorld();
});

test('two of three co-sign: the enclave signs, and everything in the answer checks out', async () => {
  const [alice, bob] = w.members as [any, any];
  const draft = withLogs(cosignBy(draftFor(), alice, bob), w.members);
  const r = await post(w, draft);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const payload = draftPayload(draft);
  assert.equal(r.json.cid, payload.cid.toString());

  // The enclave's signature verifies over the payload with the enclave key.
  const sig = decodeBase64(r.json.signature.sig.$bytes);
  assert.equal(r.json.signature.issuer, w.key.did);
  assert.equal(r.json.signature.key, w.key.did);
  assert.ok(verifySignature(w.key.did, payload.bytes, sig));
  assert.equal(r.json.signature.binding.$link, w.service.binding.cid.toString());

  // The published record carries both co-signer entries and the enclave entry, last.
  const sigs = r.json.record.signatures as any[];
  assert.equal(sigs.length, 3);
  assert.deepEqual(sigs.map((s) => s.issuer), [alice.did, bob.did, w.key.did]);
  for (const s of sigs.slice(0, 2)) {
    assert.equal(s.$type, 'dev.encumber.signature');
    assert.ok(verifySignature(s.key, payload.bytes, decodeBase64(s.sig.$bytes)));
  }
  // Re-deriving the payload from the published record gives the same CID.
  assert.equal(draftPayload({ ...draft, record: r.json.record }).cid.toString(), r.json.cid);

  // The receipt names the payload, the policy and the heads, and its signature verifies.
  const receipt = jsonToIpld(r.json.receipt) as Record<string, any>;
  assert.equal(receipt.$type, 'dev.encumber.receipt');
  assert.ok(receipt.cid instanceof CID && receipt.cid.equals(payload.cid));
  assert.ok(receipt.policy.equals(w.policy.cid));
  assert.deepEqual(receipt.heads.map((h: any) => [h.did, h.cid.toString()]), [
    [alice.did, alice.log.at(-1).cid],
    [bob.did, bob.log.at(-1).cid],
  ]);
  const { sig: receiptSig, ...unsigned } = receipt;
  assert.ok(verifySignature(w.key.did, encodeCbor(unsigned), receiptSig));
  assert.deepEqual(r.json.record.signatures.at(-1).receipt, r.json.receipt);
});

test('InsufficientCosigners: one co-signature, or none; the same member twice is InvalidCosignature', async () => {
  const [alice] = w.members as [any];
  await expectError(w, withLogs(cosignBy(draftFor('one'), alice), w.members), 422, 'InsufficientCosigners');
  // DESIGN.md "Resource rules": each issuer a policy member named once.
  const once = cosignBy(draftFor('twice'), alice);
  const twice = { ...once, cosignatures: [once.cosignatures[0]!, once.cosignatures[0]!] };
  await expectError(w, withLogs(twice, w.members), 422, 'InvalidCosignature');
  await expectError(w, withLogs(draftFor('none'), w.members), 422, 'InsufficientCosigners');
});

test('InvalidCosignature: forged, for another record, high-S, malformed base64', async () => {
  const [alice, bob] = w.members as [any, any];
  const forged = cosignBy(draftFor('forged'), alice, bob);
  forged.cosignatures[1] = { issuer: bob.did, sig: forged.cosignatures[0]!.sig };
  await expectError(w, withLogs(forged, w.members), 422, 'InvalidCosignature');

  const other = cosignBy(draftFor('other text'), bob);
  const replay = cosignBy(draftFor('real text'), alice);
  replay.cosignatures.push(other.cosignatures[0]!);
  await expectError(w, withLogs(replay, w.members), 422, 'InvalidCosignature');

  const wrongKey = cosignBy(draftFor('wrong key'), alice);
  const mallory = generateMemberKey();
  const sigByMallory = cosignBy(draftFor('wrong key'), { ...bob, signingKey: mallory });
  wrongKey.cosignatures.push(sigByMallory.cosignatures[0]!);
  await expectError(w, withLogs(wrongKey, w.members), 422, 'InvalidCosignature');

  const bad = cosignBy(draftFor('bad b64'), alice, bob);
  bad.cosignatures[1] = { issuer: bob.did, sig: { $bytes: 'not*base64' } };
  await expectError(w, withLogs(bad, w.members), 422, 'InvalidCosignature');
});

test('a co-signature for another repository cannot be replayed (the payload names it)', async () => {
  const [alice, bob] = w.members as [any, any];
  const elsewhere = cosignBy({ ...draftFor('x'), repository: 'did:plc:otherotherotherotherothe' }, alice, bob);
  const replay = { ...elsewhere, repository: ORG };
  await expectError(w, withLogs(replay, w.members), 422, 'InvalidCosignature');
});

test('UnknownSigner: a DID outside the policy', async () => {
  const [alice] = w.members as [any];
  const outsider = await createMember('mallory.test');
  const d = cosignBy(draftFor('outsider'), alice, outsider);
  await expectError(w, withLogs(d, [...w.members, outsider]), 422, 'UnknownSigner');
});

test('CollectionNotAllowed and RepositoryNotAllowed', async () => {
  const [alice, bob] = w.members as [any, any];
  const d = cosignBy(draftFor('c'), alice, bob);
  await expectError(w, withLogs({ ...d, collection: 'app.bsky.graph.follow' }, w.members), 422, 'CollectionNotAllowed');
  await expectError(w, withLogs({ ...d, repository: 'did:plc:otherotherotherotherothe' }, w.members), 422, 'RepositoryNotAllowed');
});

test('MissingPlcLog and InvalidPlcLog', async () => {
  const [alice, bob] = w.members as [any, any];
  const d = cosignBy(draftFor('logs'), alice, bob);
  await expectError(w, withLogs(d, [alice]), 422, 'MissingPlcLog');
  await expectError(w, d, 422, 'MissingPlcLog');
  const tampered = structuredClone(alice.log);
  tampered[0].operation.alsoKnownAs = ['at://mallory.test'];
  await expectError(w, { ...d, plcLogs: { [alice.did]: tampered, [bob.did]: bob.log } }, 422, 'InvalidPlcLog');
  await expectError(w, { ...d, plcLogs: { [alice.did]: 'nonsense', [bob.did]: bob.log } }, 422, 'InvalidPlcLog');
});

test('StalePlcLog: after a newer head was used, the old log is refused; a rotated-out key is refused', async () => {
  const world = await createWorld();
  const [alice, bob] = world.members as [any, any];
  const oldLog = alice.log;
  const oldKey = alice.signingKey;
  await rotateSigningKey(alice);
  const fresh = withLogs(cosignBy(draftFor('fresh'), alice, bob), world.members);
  assert.equal((await post(world, fresh)).status, 200);
  // Replaying the log from before the rotation, with a co-signature by the old key.
  const stale = cosignBy(draftFor('stale'), { ...alice, signingKey: oldKey }, bob);
  await expectError(world, { ...stale, plcLogs: { [alice.did]: oldLog, [bob.did]: bob.log } }, 422, 'StalePlcLog');
  // With the current log, the old key's co-signature is not accepted.
  await expectError(world, withLogs(stale, world.members), 422, 'InvalidCosignature');
});

test('SignerKeyMissing and SignerTombstoned', async () => {
  const members = [await createMember('a.test'), await createMember('b.test'), await createMember('c.test')];
  const { policyFor } = await import('../support/world.ts');
  const p = policyFor(members);
  (p.signers as any[])[0].keyId = 'encumber';
  const world = await createWorld({ members, policy: p });
  const [a, b] = members as [any, any];
  await expectError(world, withLogs(cosignBy(draftFor('k'), a, b), members), 422, 'SignerKeyMissing');

  const { default: plc } = await import('@did-plc/lib').then((m) => ({ default: m }));
  const { plcSigner } = await import('../../src/member/keys.ts');
  const { auditEntry } = await import('../../src/member/plc-ops.ts');
  const { cidForValue } = await import('../../src/data/cid.ts');
  const { tick } = await import('../support/world.ts');
  const tomb = await plc.tombstoneOp(cidForValue(b.lastOp) as never, plcSigner(b.rotationKey) as never);
  const tombLog = [...b.log, auditEntry(b.did, tomb as never, tick())];
  const c = members[2]!;
  const d = cosignBy(draftFor('t'), c, b);
  await expectError(world, { ...d, plcLogs: { [c.did]: c.log, [b.did]: tombLog } }, 422, 'SignerTombstoned');
});

test('the record must be valid data model within the policy size limit', async () => {
  const [alice, bob] = w.members as [any, any];
  const big = withLogs(cosignBy(draftFor('x'.repeat(20_000)), alice, bob), w.members);
  await expectError(w, big, 413, 'RecordTooLarge');
  const float = withLogs({ ...draftFor(), record: { $type: COLLECTION, n: 1.5 } }, w.members);
  await expectError(w, float, 400, 'InvalidRequest');
  const wrongType = withLogs({ ...draftFor(), record: { $type: 'app.bsky.feed.like', text: 'x' } }, w.members);
  await expectError(w, wrongType, 400, 'InvalidRequest');
  const withSig = withLogs({ ...draftFor(), record: { $type: COLLECTION, $sig: {} } }, w.members);
  await expectError(w, withSig, 400, 'InvalidRequest');
});

test('malformed requests: 400 before any work; a huge body 413 before parsing', async () => {
  await expectError(w, 'not json', 400, 'InvalidRequest');
  await expectError(w, {}, 400, 'InvalidRequest');
  await expectError(w, { ...draftFor(), extra: 1 }, 400, 'InvalidRequest');
  await expectError(w, { ...draftFor(), cosignatures: 'x' }, 400, 'InvalidRequest');
  await expectError(w, { ...draftFor(), record: [] }, 400, 'InvalidRequest');
  // JSON.parse makes "__proto__" an own key that schema parsing would silently drop.
  await expectError(w, JSON.stringify(draftFor()).replace('"text":', '"__proto__":{"x":1},"text":'), 400, 'InvalidRequest');
  // The same key spelled with \u escapes (the only other way JSON can spell it).
  await expectError(w, JSON.stringify(draftFor()).replace('"text":', '"\\u005f_proto\\u005f_":{"x":1},"text":'), 400, 'InvalidRequest');
  const noType = await post(w, JSON.stringify(draftFor()), { 'content-type': 'text/plain' });
  assert.equal(noType.status, 400);
  assert.equal(noType.json.error, 'InvalidRequest');
  const huge = await post(w, JSON.stringify({ ...draftFor(), pad: 'x'.repeat(2 * 1024 * 1024) }));
  assert.equal(huge.status, 413);
  assert.equal(huge.json.error, 'TooLarge');
});
