/**
 * Strict signature verification (src/crypto/verify.ts) and the k256 signer.
 * Rules in order: 64 bytes → 1 ≤ r, s < n → low-S → the ECDSA equation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { K256, P256, curveByName, type CurveInfo } from '../../src/crypto/curves.ts';
import { formatDidKey, parseDidKey, type PublicKey } from '../../src/crypto/did-key.ts';
import { fromHex } from '../../src/crypto/encoding.ts';
import {
  assertK256PrivateKey,
  generateK256PrivateKey,
  k256DidKey,
  signK256,
  signK256Digest,
} from '../../src/crypto/k256-signer.ts';
import {
  assertSignature,
  checkSignature,
  checkSignatureForm,
  checkSignatureOverDigest,
  verifySignature,
} from '../../src/crypto/verify.ts';
import { compact, nobleSign, scalarToBytes, sTwin, splitSig, throwsCode, utf8 } from './helpers.ts';

const CURVES = [K256, P256] as const;

function keyFor(curve: CurveInfo, priv: Uint8Array): PublicKey {
  return parseDidKey(formatDidKey(curve, curve.noble.getPublicKey(priv, true)));
}

/** Both verification paths, which must always agree. */
function bothPaths(key: PublicKey, message: Uint8Array, sig: Uint8Array): string | undefined {
  const viaNode = checkSignature(key, message, sig);
  const viaNoble = checkSignatureOverDigest(key, sha256(message), sig);
  assert.equal(viaNoble, viaNode, 'node:crypto and noble paths disagree');
  return viaNode;
}

function spkiKeyObject(curve: CurveInfo, compressed: Uint8Array): KeyObject {
  const der = new Uint8Array([...curve.spkiCompressedPrefix, ...compressed]);
  return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
}

describe('k256 signer', () => {
  it('sign → verify round trip: 64 bytes, verifies on both paths and through the did:key string', () => {
    for (let i = 0; i < 20; i++) {
      const priv = generateK256PrivateKey();
      const did = k256DidKey(priv);
      const key = parseDidKey(did);
      const message = randomBytes(i * 13);
      const sig = signK256(priv, message);
      assert.equal(sig.length, 64);
      assert.equal(bothPaths(key, message, sig), undefined);
      assert.equal(verifySignature(did, message, sig), true);
      assert.doesNotThrow(() => assertSignature(did, message, sig));
      assert.deepEqual(signK256Digest(priv, sha256(message)), sig, 'signK256 = signK256Digest ∘ SHA-256');
    }
  });

  it('is deterministic (RFC 6979): same key and message give the same signature', () => {
    const priv = fromHex('9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c');
    const a = signK256(priv, utf8('hello'));
    assert.deepEqual(signK256(priv, utf8('hello')), a);
    assert.notDeepEqual(signK256(priv, utf8('hello!')), a);
  });

  it('always produces low-S (s ≤ n/2) over many random signatures', () => {
    const half = K256.n >> 1n;
    let maxTopByte = 0;
    for (let i = 0; i < 400; i++) {
      const sig = signK256(generateK256PrivateKey(), randomBytes(32));
      const { r, s } = splitSig(sig);
      assert.ok(r >= 1n && r < K256.n, 'r in range');
      assert.ok(s >= 1n && s <= half, `signature ${i} is high-S`);
      assert.equal(checkSignatureForm(K256, sig), undefined);
      maxTopByte = Math.max(maxTopByte, sig[32]!);
    }
    // Sanity: the high half is really excluded, not just rare (top byte of s < 0x80 every time).
    assert.ok(maxTopByte < 0x80);
  });

  it('generateK256PrivateKey gives fresh valid 32-byte keys', () => {
    const a = generateK256PrivateKey();
    const b = generateK256PrivateKey();
    assert.equal(a.length, 32);
    assert.notDeepEqual(a, b);
    assert.doesNotThrow(() => assertK256PrivateKey(a));
  });

  it('rejects invalid private keys with InvalidPrivateKey', () => {
    const bad = [
      new Uint8Array(32),
      scalarToBytes(K256.n),
      scalarToBytes(K256.n + 1n),
      new Uint8Array(32).fill(0xff),
      new Uint8Array(31).fill(1),
      new Uint8Array(33).fill(1),
      [...new Uint8Array(32).fill(1)] as unknown as Uint8Array,
    ];
    for (const priv of bad) {
      throwsCode(() => assertK256PrivateKey(priv), 'InvalidPrivateKey');
      throwsCode(() => k256DidKey(priv), 'InvalidPrivateKey');
      throwsCode(() => signK256(priv, utf8('x')), 'InvalidPrivateKey');
    }
    assert.doesNotThrow(() => assertK256PrivateKey(scalarToBytes(K256.n - 1n)));
    assert.doesNotThrow(() => assertK256PrivateKey(scalarToBytes(1n)));
  });

  it('signK256Digest requires a 32-byte digest (UsageError)', () => {
    const priv = generateK256PrivateKey();
    for (const len of [0, 31, 33, 64]) throwsCode(() => signK256Digest(priv, new Uint8Array(len)), 'UsageError', `${len}`);
  });
});

describe('p256 verification', () => {
  it('verifies low-S signatures made with noble', () => {
    for (let i = 0; i < 20; i++) {
      const priv = P256.noble.utils.randomSecretKey();
      const key = keyFor(P256, priv);
      const message = randomBytes(1 + i * 7);
      const sig = nobleSign(P256, priv, message);
      assert.equal(bothPaths(key, message, sig), undefined);
      assert.equal(verifySignature(key.did, message, sig), true);
    }
  });

  it('rejects high-S signatures from noble (lowS: false) and accepts their low-S twins', () => {
    let high = 0;
    let low = 0;
    for (let i = 0; i < 40; i++) {
      const priv = P256.noble.utils.randomSecretKey();
      const key = keyFor(P256, priv);
      const message = randomBytes(40);
      const sig = nobleSign(P256, priv, message, false);
      if (splitSig(sig).s > P256.n >> 1n) {
        high++;
        assert.equal(bothPaths(key, message, sig), 'SignatureNotLowS');
        assert.equal(bothPaths(key, message, sTwin(P256, sig)), undefined);
      } else {
        low++;
        assert.equal(bothPaths(key, message, sig), undefined);
        assert.equal(bothPaths(key, message, sTwin(P256, sig)), 'SignatureNotLowS');
      }
    }
    assert.ok(high > 0 && low > 0, `expected both halves over 40 signatures, got high=${high} low=${low}`);
  });

  for (const [curve, opensslName] of [
    [P256, 'prime256v1'],
    [K256, 'secp256k1'],
  ] as const) {
    it(`${curve.name}: interoperates with OpenSSL signatures (which are not low-S normalised)`, () => {
      let high = 0;
      for (let i = 0; i < 40; i++) {
        const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: opensslName });
        const jwk = publicKey.export({ format: 'jwk' });
        const uncompressed = new Uint8Array([
          0x04,
          ...Buffer.from(jwk.x!, 'base64url'),
          ...Buffer.from(jwk.y!, 'base64url'),
        ]);
        const key = parseDidKey(formatDidKey(curve, uncompressed));
        const message = randomBytes(64);
        const sig = new Uint8Array(nodeSign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
        const lowSig = splitSig(sig).s > curve.n >> 1n ? (high++, sTwin(curve, sig)) : sig;
        if (lowSig !== sig) assert.equal(bothPaths(key, message, sig), 'SignatureNotLowS');
        assert.equal(bothPaths(key, message, lowSig), undefined);
      }
      assert.ok(high > 0, 'OpenSSL produced no high-S signature in 40 tries (probability 2^-40)');
    });
  }
});

describe('wrong key', () => {
  const message = utf8('{"hello":"world"}');
  const priv = fromHex('9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c');

  it('a k256 signature checked against a p256 key (same secret scalar) fails', () => {
    const k256Sig = signK256(priv, message);
    assert.equal(bothPaths(keyFor(K256, priv), message, k256Sig), undefined);
    assert.equal(bothPaths(keyFor(P256, priv), message, k256Sig), 'SignatureMismatch');
  });

  it('a p256 signature checked against a k256 key (same secret scalar) fails', () => {
    const p256Sig = nobleSign(P256, priv, message);
    assert.equal(bothPaths(keyFor(P256, priv), message, p256Sig), undefined);
    assert.equal(bothPaths(keyFor(K256, priv), message, p256Sig), 'SignatureMismatch');
  });

  for (const curve of CURVES) {
    it(`${curve.name}: a signature from another key fails; so does another message`, () => {
      const a = curve.noble.utils.randomSecretKey();
      const b = curve.noble.utils.randomSecretKey();
      const sig = nobleSign(curve, a, message);
      assert.equal(bothPaths(keyFor(curve, a), message, sig), undefined);
      assert.equal(bothPaths(keyFor(curve, b), message, sig), 'SignatureMismatch');
      assert.equal(verifySignature(keyFor(curve, b).did, message, sig), false);
      throwsCode(() => assertSignature(keyFor(curve, b), message, sig), 'SignatureMismatch');
      assert.equal(bothPaths(keyFor(curve, a), utf8('{"hello":"world!"}'), sig), 'SignatureMismatch');
    });
  }

  it('a malformed did:key string throws its parse code from verifySignature / assertSignature', () => {
    const sig = signK256(priv, message);
    throwsCode(() => verifySignature('did:web:example.com', message, sig), 'MalformedDidKey');
    throwsCode(() => assertSignature('did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', message, sig), 'UnsupportedKeyType');
  });
});

describe('signature form (typed codes, fixed order)', () => {
  for (const curve of CURVES) {
    describe(curve.name, () => {
      const priv = curve.noble.utils.randomSecretKey();
      const key = keyFor(curve, priv);
      const message = utf8('form checks');
      const good = nobleSign(curve, priv, message);
      const { r, s } = splitSig(good);
      const n = curve.n;
      const half = n >> 1n;

      it("wrong length → 'BadSignatureLength'", () => {
        const shapes = [new Uint8Array(0), good.subarray(0, 63), new Uint8Array([...good, 0]), new Uint8Array(72), new Uint8Array(128)];
        for (const sig of shapes) {
          assert.equal(checkSignatureForm(curve, sig), 'BadSignatureLength', `${sig.length} bytes`);
          assert.equal(bothPaths(key, message, sig), 'BadSignatureLength', `${sig.length} bytes`);
          throwsCode(() => assertSignature(key, message, sig), 'BadSignatureLength');
        }
        for (const notBytes of [[...good], undefined, null, 'a'.repeat(64), 64]) {
          const v = notBytes as unknown as Uint8Array;
          assert.equal(checkSignatureForm(curve, v), 'BadSignatureLength', `not a Uint8Array: ${String(notBytes)}`);
          assert.equal(checkSignature(key, message, v), 'BadSignatureLength', String(notBytes));
          throwsCode(() => assertSignature(key, message, v), 'BadSignatureLength', String(notBytes));
        }
        try {
          assertSignature(key, message, good.subarray(0, 63));
          assert.fail('did not throw');
        } catch (e) {
          assert.equal((e as { actual?: unknown }).actual, 63);
        }
      });

      it("r = 0, s = 0, r ≥ n, s ≥ n → 'SignatureOutOfRange'", () => {
        const max = (1n << 256n) - 1n;
        const cases: Array<[string, bigint, bigint]> = [
          ['r = 0', 0n, s],
          ['s = 0', r, 0n],
          ['r = s = 0', 0n, 0n],
          ['r = n', n, s],
          ['r = n + 1', n + 1n, s],
          ['r = 2^256 − 1', max, s],
          ['s = n', r, n],
          ['s = n + 1', r, n + 1n],
          ['s = 2^256 − 1', r, max],
        ];
        for (const [label, rr, ss] of cases) {
          const sig = compact(rr, ss);
          assert.equal(checkSignatureForm(curve, sig), 'SignatureOutOfRange', label);
          assert.equal(bothPaths(key, message, sig), 'SignatureOutOfRange', label);
          throwsCode(() => assertSignature(key, message, sig), 'SignatureOutOfRange', label);
        }
      });

      it("s just above n/2 → 'SignatureNotLowS'; s = n/2 and r = n − 1 pass the form checks", () => {
        for (const ss of [half + 1n, n - 1n, n - s]) {
          assert.equal(checkSignatureForm(curve, compact(r, ss)), 'SignatureNotLowS');
          assert.equal(bothPaths(key, message, compact(r, ss)), 'SignatureNotLowS');
        }
        throwsCode(() => assertSignature(key, message, compact(r, n - s)), 'SignatureNotLowS');
        assert.equal(checkSignatureForm(curve, compact(r, half)), undefined);
        assert.equal(checkSignatureForm(curve, compact(n - 1n, s)), undefined);
        assert.equal(checkSignatureForm(curve, compact(1n, 1n)), undefined);
        assert.equal(bothPaths(key, message, compact(r, half)), 'SignatureMismatch');
        assert.equal(bothPaths(key, message, compact(n - 1n, s)), 'SignatureMismatch');
      });

      it('the range check comes before the low-S check (s ≥ n is out of range, not high-S)', () => {
        assert.equal(checkSignatureForm(curve, compact(n, n)), 'SignatureOutOfRange');
        assert.equal(checkSignatureForm(curve, compact(n + 5n, half + 1n)), 'SignatureOutOfRange');
      });

      it('checkSignatureOverDigest refuses a digest that is not 32 bytes (noble would truncate it)', () => {
        const digest = sha256(message);
        assert.equal(checkSignatureOverDigest(key, digest, good), undefined);
        const longer = new Uint8Array([...digest, 0x00]);
        assert.equal(checkSignatureOverDigest(key, longer, good), 'SignatureMismatch');
        assert.equal(checkSignatureOverDigest(key, digest.subarray(0, 31), good), 'SignatureMismatch');
        assert.equal(checkSignatureOverDigest(key, new Uint8Array(0), good), 'SignatureMismatch');
      });

      it('a 64-byte DER signature that OpenSSL accepts as DER is rejected', () => {
        // Build a genuinely valid ECDSA signature whose DER form is exactly 64 bytes:
        // pick 29-byte r and s, and solve for the public key Q = r⁻¹(s·R − e·G),
        // where R is a point with x = r. Then DER(r, s) = 30 3e 02 1d r 02 1d s.
        const Point = curve.noble.Point;
        const Fn = Point.Fn;
        const digest = sha256(message);
        const e = Fn.create(BigInt('0x' + Buffer.from(digest).toString('hex')));
        const sSmall = 0x2a5f0e6c1b7d9384a6c5e1f20b3d4c5e6f708192a3b4c5d6e7f8091a2bn;
        let rSmall = 0x1c2d3e4f5a6b7c8d9eafb0c1d2e3f405162738495a6b7c8d9eaf000001n;
        let R: InstanceType<typeof Point> | undefined;
        for (; !R; rSmall += 256n) {
          try {
            R = Point.fromBytes(new Uint8Array([0x02, ...scalarToBytes(rSmall)]));
          } catch {
            /* not an x-coordinate; next */
          }
        }
        rSmall -= 256n;
        const Q = R.multiply(sSmall).subtract(Point.BASE.multiply(e)).multiply(Fn.inv(rSmall));
        const qKey = parseDidKey(formatDidKey(curve, Q.toBytes(true)));

        const rBytes = scalarToBytes(rSmall).subarray(3);
        const sBytes = scalarToBytes(sSmall).subarray(3);
        assert.ok(rBytes[0]! > 0 && rBytes[0]! < 0x80 && sBytes[0]! > 0 && sBytes[0]! < 0x80, 'minimal DER integers');
        const der = new Uint8Array([0x30, 0x3e, 0x02, 0x1d, ...rBytes, 0x02, 0x1d, ...sBytes]);
        assert.equal(der.length, 64);

        // The construction is right: OpenSSL accepts it as DER, and its compact form verifies with us.
        assert.equal(nodeVerify('sha256', message, { key: spkiKeyObject(curve, qKey.compressed), dsaEncoding: 'der' }, der), true);
        assert.equal(bothPaths(qKey, message, compact(rSmall, sSmall)), undefined);

        // Read as compact r ‖ s it is in range and low-S (last byte of r < 0x80), so only the equation rejects it.
        assert.equal(checkSignatureForm(curve, der), undefined);
        assert.equal(bothPaths(qKey, message, der), 'SignatureMismatch');
        assert.equal(verifySignature(qKey, message, der), false);
        throwsCode(() => assertSignature(qKey, message, der), 'SignatureMismatch');
      });
    });
  }
});

describe('native key cache', () => {
  // checkSignature caches OpenSSL KeyObjects. The key that verifies must always be
  // the one in `key.compressed`, whatever `key.did` says, so the OpenSSL and noble
  // paths agree and one odd PublicKey cannot poison later verifications.
  for (const curve of CURVES) {
    it(`${curve.name}: a PublicKey whose did names another key cannot poison the cache`, () => {
      const message = utf8('cache');
      const a = curve.noble.utils.randomSecretKey();
      const b = curve.noble.utils.randomSecretKey();
      const keyA = keyFor(curve, a);
      const keyB = keyFor(curve, b);
      const sigA = nobleSign(curve, a, message);
      const sigB = nobleSign(curve, b, message);

      // Hand-built object: B's point under A's did, used before A's did is ever seen.
      const mixed: PublicKey = { curve: curve.name, compressed: keyB.compressed, did: keyA.did };
      assert.equal(bothPaths(mixed, message, sigB), undefined);
      assert.equal(bothPaths(mixed, message, sigA), 'SignatureMismatch');

      // A's real key still means A.
      assert.equal(bothPaths(keyA, message, sigA), undefined);
      assert.equal(bothPaths(keyA, message, sigB), 'SignatureMismatch');
      assert.equal(verifySignature(keyA.did, message, sigB), false);

      // And the other way round, after A's did is cached.
      assert.equal(bothPaths(mixed, message, sigB), undefined);
      assert.equal(bothPaths(mixed, message, sigA), 'SignatureMismatch');
    });
  }

  it('the curve comes from key.curve: the same 33 bytes under both curves do not share a KeyObject', () => {
    const message = utf8('both curves');
    // A k256 point whose 33 bytes also decode as a p256 point (about one key in two).
    for (let i = 0; i < 64; i++) {
      const priv = K256.noble.utils.randomSecretKey();
      const kKey = keyFor(K256, priv);
      let pPoint: Uint8Array;
      try {
        pPoint = P256.noble.Point.fromBytes(kKey.compressed).toBytes(true);
      } catch {
        continue;
      }
      const pKey = parseDidKey(formatDidKey(P256, pPoint));
      assert.deepEqual(pKey.compressed, kKey.compressed);
      const sig = signK256(priv, message);
      // kKey is imported (and cached) first: a cache keyed by the bytes alone would hand
      // its k256 KeyObject to pKey, and the k256 signature would verify under a p256 key.
      assert.equal(bothPaths(kKey, message, sig), undefined);
      assert.equal(bothPaths(pKey, message, sig), 'SignatureMismatch');
      const pSig = nobleSign(P256, priv, message);
      assert.equal(bothPaths(kKey, message, pSig), 'SignatureMismatch');
      assert.equal(curveByName(pKey.curve), P256);
      return;
    }
    assert.fail('no k256 point that is also a p256 x-coordinate in 64 tries (probability 2^-64)');
  });
});
