/**
 * Rules of src/verifier/record.ts that no existing test exercised (each test
 * fails if its rule is removed). All pass today.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBase64 } from '../../src/crypto/encoding.ts';
import { cidForValue } from '../../src/data/cid.ts';
import { draftPayload } from '../../src/member/cosign.ts';
import { verifyPublishedRecord, type Identity } from '../../src/verifier/record.ts';
import { type World, signedWorld } from '../support/world.ts';

let w: World;
let identity: Identity;
let signed: Record<string, any>;
let draft: any;
before(async () => {
  ({ w, identity, draft, signed } = await signedWorld('review rules'));
});

function failsAt(record: unknown, check: string) {
  const v = verifyPublishedRecord(identity, record);
  assert.equal(v.ok, false, 'accepted');
  assert.equal(v.checks.at(-1)!.name, check, JSON.stringify(v.checks.at(-1)));
}

test('the same co-signer entry twice counts once (threshold not met)', () => {
  const r = structuredClone(signed.record);
  r.signatures[1] = structuredClone(r.signatures[0]);
  failsAt(r, 'cosignatures');
});

test('an extra, valid co-signature by a member the receipt has no PLC head for is refused', () => {
  const r = structuredClone(signed.record);
  const carol = w.members[2]!;
  const sig = carol.signingKey.sign(draftPayload(draft).bytes);
  r.signatures.splice(2, 0, { $type: 'dev.encumber.signature', issuer: carol.did, key: carol.signingKey.did, sig: { $bytes: encodeBase64(sig) } });
  failsAt(r, 'cosignatures');
});

test('the enclave entry’s binding is not covered by any signature, so the verifier must compare it', () => {
  const r = structuredClone(signed.record);
  r.signatures.at(-1).binding = { $link: cidForValue({ other: 'binding' }).toString() };
  failsAt(r, 'enclave-signature');
});

test('a co-signer entry with another $type is refused', () => {
  const r = structuredClone(signed.record);
  r.signatures[0].$type = 'com.example.whatever';
  failsAt(r, 'cosignatures');
});
