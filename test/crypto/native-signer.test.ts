/** The enclave key holder (libsecp256k1): its signatures verify strictly, agree with the did:key and are RFC 6979; verification answers the same sync and async. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateK256PrivateKey, k256DidKey, signK256 } from '../../src/crypto/k256-signer.ts';
import { checkSignature } from '../../src/crypto/verify.ts';
import { parseDidKey } from '../../src/crypto/did-key.ts';
import { K256 } from '../../src/crypto/curves.ts';
import { KeyHolder } from '../../src/enclave/key-holder.ts';
import { sTwin, throwsCode } from './helpers.ts';

test('KeyHolder signs with libsecp256k1 (RFC 6979, low-S: the bytes noble makes) and wipes the bytes it was given', async () => {
  const given = generateK256PrivateKey();
  const copy = given.slice();
  const did = k256DidKey(given);
  const holder = KeyHolder.generate(() => given);
  assert.equal(holder.did, did);
  assert.ok(given.every((b) => b === 0));
  const msg = new TextEncoder().encode('payload');
  const sig = holder.sign(msg);
  assert.equal(checkSignature(parseDidKey(did), msg, sig), undefined);
  assert.deepEqual(sig, signK256(copy, msg), 'deterministic, the RFC 6979 signature');
  assert.deepEqual(holder.sign(msg), sig);
  assert.deepEqual(await holder.signAsync(msg), sig);
});

test('KeyHolder refuses a key outside [1, n-1] and wipes it anyway', () => {
  for (const bad of [new Uint8Array(32), new Uint8Array(32).fill(0xff)]) {
    throwsCode(() => KeyHolder.generate(() => bad), 'InvalidPrivateKey');
    assert.ok(bad.every((b) => b === 0));
  }
});

test('checkSignatureAsync gives the same answer as checkSignature (valid, mismatch, high-S, length, range)', async () => {
  const { checkSignatureAsync } = await import('../../src/crypto/verify.ts');
  const priv = generateK256PrivateKey();
  const key = parseDidKey(k256DidKey(priv));
  const msg = new TextEncoder().encode('same answer');
  const good = signK256(priv, msg);
  const highS = sTwin(K256, good);
  const flipped = good.slice();
  flipped[5]! ^= 1;
  const cases = [good, highS, flipped, good.subarray(0, 63), new Uint8Array(64), new Uint8Array(64).fill(0xff)];
  const sync = cases.map((c) => checkSignature(key, msg, c));
  const async_ = await Promise.all(cases.map((c) => checkSignatureAsync(key, msg, c)));
  assert.deepEqual(async_, sync);
  assert.deepEqual(sync, [undefined, 'SignatureNotLowS', 'SignatureMismatch', 'BadSignatureLength', 'SignatureOutOfRange', 'SignatureOutOfRange']);
});
