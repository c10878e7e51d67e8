/**
 * verifyPublishedRecord on a record the service really signed, and on each
 * kind of tampering a verifier must catch.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { verifyPublishedRecord, type Identity } from '../../src/verifier/record.ts';
import { createWorld, signedWorld } from '../support/world.ts';

let identity: Identity;
let signed: Record<string, any>;
before(async () => {
  ({ identity, signed } = await signedWorld('verify me'));
});

const copy = () => structuredClone(signed.record);

function failsAt(record: unknown, check: string, id: Identity = identity) {
  const v = verifyPublishedRecord(id, record);
  assert.equal(v.ok, false);
  assert.equal(v.checks.at(-1)!.name, check, JSON.stringify(v.checks.at(-1)));
  assert.equal(v.checks.at(-1)!.ok, false);
}

test('a record the enclave signed verifies, every check green', () => {
  const v = verifyPublishedRecord(identity, signed.record);
  assert.ok(v.ok, JSON.stringify(v.checks));
  assert.equal(v.cid, signed.cid);
  assert.deepEqual(v.checks.map((c) => c.name), ['identity-policy', 'identity-binding', 'policy', 'policy-pin', 'record-shape', 'payload', 'enclave-signature', 'receipt', 'cosignatures', 'cosigner-keys']);
  assert.equal(v.checks.at(-1)!.skipped, true, 'without logs the key re-check is reported as not done');
  assert.ok(v.checks.every((c) => c.ok));
  assert.equal(v.cosigners.length, 2);
});

test('changed text → the enclave signature fails', () => {
  const r = copy();
  r.text = 'something else';
  failsAt(r, 'enclave-signature');
});

test('dropping a co-signer entry → below threshold', () => {
  const r = copy();
  r.signatures.splice(0, 1);
  failsAt(r, 'cosignatures');
});

test('a co-signer entry with a swapped signature → fails', () => {
  const r = copy();
  r.signatures[0].sig = r.signatures[1].sig;
  failsAt(r, 'cosignatures');
});

test('a tampered receipt → fails', () => {
  const r = copy();
  r.signatures.at(-1).receipt.signedAt = '2030-01-01T00:00:00.000Z';
  failsAt(r, 'receipt');
});

test('another enclave identity, a policy that does not hash to its CID, a forged binding → fail', async () => {
  const other = (await createWorld()).service.identity() as unknown as Identity;
  failsAt(signed.record, 'enclave-signature', other);
  failsAt(signed.record, 'identity-policy', { ...identity, policy: { ...(identity.policy as object), threshold: 1 } } as Identity);
  failsAt(signed.record, 'identity-binding', { ...identity, bindingCid: other.bindingCid });
});

test('not a record / no signatures / wrong collection → record-shape', () => {
  failsAt('nope', 'record-shape');
  const r = copy();
  delete r.signatures;
  failsAt(r, 'record-shape');
  const c = copy();
  c.$type = 'app.bsky.feed.like';
  failsAt(c, 'record-shape');
});

test('a co-signer entry replaced by another key and its signature over the same payload → cosignatures fails, without logs', async () => {
  const { generateMemberKey } = await import('../../src/member/keys.ts');
  const { buildPayload } = await import('../../src/policy/payload.ts');
  const { parseRecordJson } = await import('../../src/data/record.ts');
  const attacker = generateMemberKey();
  const r = copy();
  const { signatures: _s, ...bare } = r;
  const payload = buildPayload(parseRecordJson(bare) as never, (identity.policy as { repository: string }).repository, r.$type);
  r.signatures[0].key = attacker.did;
  r.signatures[0].sig = { $bytes: Buffer.from(attacker.sign(payload.bytes)).toString('base64').replace(/=+$/, '') };
  failsAt(r, 'cosignatures');
  // The receipt names the key each member's signature was verified with.
  const heads = signed.record.signatures.at(-1).receipt.heads;
  assert.deepEqual(heads.map((h: { key: string }) => h.key), signed.record.signatures.slice(0, -1).map((e: { key: string }) => e.key));
});

test('policy pin: absent → a warning row; the wrong policy CID or repository → PolicyPinMismatch; the right one → pinned', () => {
  const policy = identity.policy as { repository: string };
  const open = verifyPublishedRecord(identity, signed.record);
  const row = open.checks.find((c) => c.name === 'policy-pin')!;
  assert.equal(row.ok, true);
  assert.equal(row.skipped, true);
  assert.match(row.detail, /NOT PINNED/);
  const policyRow = open.checks.find((c) => c.name === 'policy')!;
  assert.ok(policyRow.detail.includes(policy.repository) && policyRow.detail.includes('app.bsky.feed.post'), policyRow.detail);

  const pinned = verifyPublishedRecord(identity, signed.record, { pin: { policyCid: identity.policyCid, repository: policy.repository } });
  assert.ok(pinned.ok, JSON.stringify(pinned.checks));
  assert.equal(pinned.checks.find((c) => c.name === 'policy-pin')!.skipped, undefined);

  for (const pin of [{ policyCid: identity.bindingCid }, { repository: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' }]) {
    const v = verifyPublishedRecord(identity, signed.record, { pin });
    assert.equal(v.ok, false);
    assert.ok(!v.ok && v.error.code === 'PolicyPinMismatch', JSON.stringify(v));
    assert.equal(v.checks.at(-1)!.name, 'policy-pin');
  }
});

test('an at:// record outside the policy repository (or collection) → RepositoryNotAllowed / CollectionNotAllowed', () => {
  const policy = identity.policy as { repository: string };
  const here = verifyPublishedRecord(identity, signed.record, { location: { repository: policy.repository, collection: 'app.bsky.feed.post' } });
  assert.ok(here.ok, JSON.stringify(here.checks));
  const elsewhere = verifyPublishedRecord(identity, signed.record, {
    location: { repository: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', collection: 'app.bsky.feed.post', uri: 'at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/x' },
  });
  assert.ok(!elsewhere.ok && elsewhere.error.code === 'RepositoryNotAllowed', JSON.stringify(elsewhere));
  assert.equal(elsewhere.checks.at(-1)!.name, 'record-location');
  const other = verifyPublishedRecord(identity, signed.record, { location: { repository: policy.repository, collection: 'app.bsky.feed.like' } });
  assert.ok(!other.ok && other.error.code === 'CollectionNotAllowed');
});
