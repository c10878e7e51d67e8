/** The OpenSSL and noble P-384 paths agree: on real chain signatures, on corrupted ones, and on garbage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { p384 } from '@noble/curves/nist.js';
import { verifyP384, verifyP384Noble } from '../../src/attestation/x509/ecdsa.ts';

test('verifyP384 (OpenSSL in Node) and verifyP384Noble give the same answers', () => {
  const priv = p384.utils.randomSecretKey();
  const pub = p384.getPublicKey(priv, false);
  const other = p384.getPublicKey(p384.utils.randomSecretKey(), false);
  for (let i = 0; i < 20; i++) {
    const msg = new TextEncoder().encode(`message ${i}`);
    const compact = p384.sign(msg, priv, { lowS: false });
    const der = p384.Signature.fromBytes(compact, 'compact').toBytes('der');
    const bad = compact.slice();
    bad[i % 96]! ^= 1;
    const cases: [Uint8Array, Uint8Array, 'der' | 'compact'][] = [
      [compact, pub, 'compact'],
      [der, pub, 'der'],
      [bad, pub, 'compact'],
      [compact, other, 'compact'],
      [compact.subarray(0, 95), pub, 'compact'],
      [new Uint8Array(96), pub, 'compact'],
      [der, pub, 'compact'],
    ];
    for (const [sig, key, format] of cases) {
      assert.equal(verifyP384(sig, msg, key, format), verifyP384Noble(sig, msg, key, format));
    }
    assert.equal(verifyP384(compact, msg, pub, 'compact'), true);
    assert.equal(verifyP384(der, msg, pub, 'der'), true);
  }
});
