/**
 * The browser path of src/crypto/verify.ts (no node:crypto: noble does the
 * ECDSA step) gives the same answers as the Node path: the atproto interop
 * fixtures, random valid signatures, and their tampered, high-S and DER
 * twins. The module is loaded a second time with process.getBuiltinModule
 * hidden, which is what a browser bundle sees. Needs no browser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import * as nodePath from '../../src/crypto/verify.ts';
import { parseDidKey, type PublicKey } from '../../src/crypto/did-key.ts';
import { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url, fromHex, toHex } from '../../src/crypto/encoding.ts';
import { curveByName } from '../../src/crypto/curves.ts';
import { readCryptoFixture, type SignatureFixture } from '../crypto/helpers.ts';

async function loadWithoutNodeCrypto(): Promise<typeof nodePath> {
  const proc = process as { getBuiltinModule?: unknown };
  const saved = proc.getBuiltinModule;
  proc.getBuiltinModule = undefined;
  try {
    return (await import(`../../src/crypto/verify.ts?browser=${Date.now()}`)) as typeof nodePath;
  } finally {
    proc.getBuiltinModule = saved;
  }
}

function didKeyOf(curve: 'k256' | 'p256', compressed: Uint8Array): PublicKey {
  return { curve, compressed, did: '' } as unknown as PublicKey;
}

test('verify.ts without node:crypto (the browser path) agrees with the Node path', async () => {
  const browserPath = await loadWithoutNodeCrypto();
  assert.notEqual(browserPath.checkSignature, nodePath.checkSignature, 'a second instance of the module');
  // Proof the second instance really took the noble path: a point that is not on the curve (parseDidKey
  // never lets one through) makes OpenSSL throw at import, noble just says no.
  const offCurve = new Uint8Array(33);
  offCurve[0] = 2;
  offCurve[32] = 5;
  const someSig = new Uint8Array(64);
  someSig[31] = 1;
  someSig[63] = 1;
  assert.throws(() => nodePath.checkSignature(didKeyOf('k256', offCurve), new Uint8Array([1]), someSig));
  assert.equal(browserPath.checkSignature(didKeyOf('k256', offCurve), new Uint8Array([1]), someSig), 'SignatureMismatch');
  const cases: [string, PublicKey, Uint8Array, Uint8Array][] = [];

  for (const f of readCryptoFixture<SignatureFixture[]>('signature-fixtures.json')) {
    cases.push([`fixture ${f.algorithm} ${f.tags.join(',') || 'valid'}`, parseDidKey(f.publicKeyDid), decodeBase64(f.messageBase64), decodeBase64(f.signatureBase64)]);
  }
  for (const [name, c] of [['k256', secp256k1], ['p256', p256]] as const) {
    for (let i = 0; i < 20; i++) {
      const sk = c.utils.randomSecretKey();
      const key = didKeyOf(name, c.getPublicKey(sk, true));
      const msg = randomBytes(1 + i * 7);
      const sig = c.sign(sha256(msg), sk, { prehash: false, lowS: true, format: 'compact' });
      const n = curveByName(name).n;
      const s = BigInt('0x' + Array.from(sig.subarray(32), (b) => b.toString(16).padStart(2, '0')).join(''));
      const highS = new Uint8Array(sig);
      highS.set(hex32(n - s), 32);
      const flipped = new Uint8Array(sig);
      flipped[5]! ^= 1;
      const otherMsg = new Uint8Array(msg);
      otherMsg[0]! ^= 0x80;
      cases.push(
        [`${name} valid ${i}`, key, msg, sig],
        [`${name} high-S ${i}`, key, msg, highS],
        [`${name} bit flip ${i}`, key, msg, flipped],
        [`${name} other message ${i}`, key, otherMsg, sig],
        [`${name} DER ${i}`, key, msg, c.Signature.fromBytes(sig, 'compact').toBytes('der')],
        [`${name} zero ${i}`, key, msg, new Uint8Array(64)],
      );
    }
  }
  let valid = 0;
  for (const [label, key, msg, sig] of cases) {
    const expected = nodePath.checkSignature(key, msg, sig);
    assert.equal(browserPath.checkSignature(key, msg, sig), expected, label);
    assert.equal(await browserPath.checkSignatureAsync(key, msg, sig), expected, `${label} (async)`);
    if (expected === undefined) valid++;
  }
  assert.equal(valid, 42, 'the 40 random and 2 fixture signatures are valid on both paths');
});

test('the pure base64 / hex codecs give what Buffer gives', () => {
  for (let len = 0; len <= 200; len++) {
    const b = randomBytes(len);
    const buf = Buffer.from(b);
    assert.equal(encodeBase64(b), buf.toString('base64').replace(/=+$/, ''));
    assert.equal(encodeBase64Url(b), buf.toString('base64url'));
    assert.equal(toHex(b), buf.toString('hex'));
    assert.deepEqual(decodeBase64(encodeBase64(b)), b);
    assert.deepEqual(decodeBase64Url(encodeBase64Url(b)), b);
    assert.deepEqual(fromHex(buf.toString('hex').toUpperCase()), b);
  }
  // A view into a larger buffer encodes only its own bytes.
  const big = randomBytes(64);
  assert.equal(toHex(big.subarray(10, 20)), Buffer.from(big.subarray(10, 20)).toString('hex'));
});

function hex32(v: bigint): Uint8Array {
  const h = v.toString(16).padStart(64, '0');
  return Uint8Array.from(h.match(/../g)!, (b) => parseInt(b, 16));
}
