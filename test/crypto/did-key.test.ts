/**
 * did:key for k256 and p256: the W3C fixtures (read in place), normalisation of
 * uncompressed keys, and every rejection with its typed code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { base58btc } from 'multiformats/bases/base58';
import { varint } from 'multiformats';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { K256, P256, type CurveInfo } from '../../src/crypto/curves.ts';
import { compressPoint, formatDidKey, parseDidKey } from '../../src/crypto/did-key.ts';
import { fromHex } from '../../src/crypto/encoding.ts';
import { k256DidKey } from '../../src/crypto/k256-signer.ts';
import { readCryptoFixture, throwsCode, type W3cK256Fixture, type W3cP256Fixture } from './helpers.ts';

/** did:key:z + base58btc(varint(code) ‖ body), with no validation: for building bad inputs. */
function rawDidKey(code: number, body: Uint8Array): string {
  const prefix = varint.encodeTo(code, new Uint8Array(varint.encodingLength(code)));
  const all = new Uint8Array(prefix.length + body.length);
  all.set(prefix, 0);
  all.set(body, prefix.length);
  return 'did:key:' + base58btc.encode(all);
}

/** The smallest x ≥ 1 that is not the x-coordinate of any point (x³ + ax + b is a non-residue). */
function offCurveCompressed(curve: CurveInfo): Uint8Array {
  for (let x = 1; ; x++) {
    const bytes = new Uint8Array(33);
    bytes[0] = 0x02;
    bytes[32] = x;
    try {
      curve.noble.Point.fromBytes(bytes);
    } catch {
      return bytes;
    }
  }
}

describe('did:key W3C fixtures', () => {
  const k256Cases = readCryptoFixture<W3cK256Fixture[]>('w3c_didkey_K256.json');
  const p256Cases = readCryptoFixture<W3cP256Fixture[]>('w3c_didkey_P256.json');

  it('has 5 K256 entries and 1 P256 entry', () => {
    assert.equal(k256Cases.length, 5);
    assert.equal(p256Cases.length, 1);
  });

  for (const [i, c] of k256Cases.entries()) {
    it(`K256 #${i + 1}: private key → did:key, and back to the same point`, () => {
      const priv = fromHex(c.privateKeyBytesHex);
      assert.equal(priv.length, 32);
      const point = secp256k1.getPublicKey(priv, true);
      assert.equal(k256DidKey(priv), c.publicDidKey);
      assert.equal(formatDidKey(K256, point), c.publicDidKey);
      const parsed = parseDidKey(c.publicDidKey);
      assert.equal(parsed.curve, 'k256');
      assert.equal(parsed.did, c.publicDidKey);
      assert.deepEqual(parsed.compressed, point);
    });
  }

  for (const [i, c] of p256Cases.entries()) {
    it(`P256 #${i + 1}: base58btc private key (no multibase prefix) → did:key, and back to the same point`, () => {
      // Bare base58btc: read as multibase it has no 'z' prefix and is refused.
      assert.throws(() => base58btc.decode(c.privateKeyBytesBase58));
      const priv = base58btc.baseDecode(c.privateKeyBytesBase58);
      assert.equal(priv.length, 32);
      assert.ok(p256.utils.isValidSecretKey(priv));
      const point = p256.getPublicKey(priv, true);
      assert.equal(formatDidKey(P256, point), c.publicDidKey);
      const parsed = parseDidKey(c.publicDidKey);
      assert.equal(parsed.curve, 'p256');
      assert.equal(parsed.did, c.publicDidKey);
      assert.deepEqual(parsed.compressed, point);
    });
  }
});

describe('did:key format and parse', () => {
  for (const curve of [K256, P256]) {
    it(`${curve.name}: did:key prefix is the multicodec 0x${curve.multicodec.toString(16)} varint`, () => {
      const priv = curve.noble.utils.randomSecretKey();
      const did = formatDidKey(curve, curve.noble.getPublicKey(priv, true));
      const body = base58btc.decode(did.slice('did:key:'.length));
      assert.deepEqual([...body.subarray(0, 2)], curve.name === 'k256' ? [0xe7, 0x01] : [0x80, 0x24]);
      assert.equal(body.length, 35);
      assert.ok(did.startsWith(curve.name === 'k256' ? 'did:key:zQ3s' : 'did:key:zDna'));
    });

    it(`${curve.name}: an uncompressed 65-byte key is normalised to the compressed did:key`, () => {
      for (let i = 0; i < 8; i++) {
        const priv = curve.noble.utils.randomSecretKey();
        const compressed = curve.noble.getPublicKey(priv, true);
        const uncompressed = curve.noble.getPublicKey(priv, false);
        assert.equal(uncompressed.length, 65);
        const canonical = formatDidKey(curve, compressed);
        const longDid = rawDidKey(curve.multicodec, uncompressed);
        assert.notEqual(longDid, canonical);

        const parsed = parseDidKey(longDid);
        assert.equal(parsed.curve, curve.name);
        assert.equal(parsed.did, canonical);
        assert.deepEqual(parsed.compressed, compressed);
        assert.equal(formatDidKey(curve, uncompressed), canonical);
        assert.deepEqual(compressPoint(curve, uncompressed), compressed);
      }
    });

    it(`${curve.name}: format ∘ parse is the identity on random keys`, () => {
      for (let i = 0; i < 16; i++) {
        const did = formatDidKey(curve, curve.noble.getPublicKey(curve.noble.utils.randomSecretKey(), true));
        assert.equal(parseDidKey(did).did, did);
        assert.equal(formatDidKey(curve, parseDidKey(did).compressed), did);
      }
    });
  }
});

describe('did:key rejections (typed codes)', () => {
  const k256Did = k256DidKey(fromHex('9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c'));
  const multibase = k256Did.slice('did:key:'.length);

  it("no 'did:key:' prefix → MalformedDidKey", () => {
    for (const s of [multibase, `did:web:${multibase}`, `DID:KEY:${multibase}`, ` ${k256Did}`, 'did:key', '']) {
      throwsCode(() => parseDidKey(s), 'MalformedDidKey', JSON.stringify(s));
    }
    for (const v of [undefined, null, 42, { did: k256Did }]) {
      throwsCode(() => parseDidKey(v as unknown as string), 'MalformedDidKey', String(v));
    }
  });

  it("multibase other than base58btc 'z' → MalformedMultibase", () => {
    const body = base58btc.decode(multibase);
    const hex = 'f' + Buffer.from(body).toString('hex');
    const b64url = 'u' + Buffer.from(body).toString('base64url');
    for (const s of [hex, b64url, 'Z' + multibase.slice(1), multibase.slice(1), '']) {
      throwsCode(() => parseDidKey(`did:key:${s}`), 'MalformedMultibase', s);
    }
  });

  it('characters outside the base58btc alphabet → MalformedMultibase', () => {
    for (const bad of ['0', 'O', 'I', 'l', '+', '/', '=', ' ', '\n', 'é']) {
      throwsCode(() => parseDidKey(`did:key:${multibase.slice(0, 10)}${bad}${multibase.slice(10)}`), 'MalformedMultibase', JSON.stringify(bad));
      throwsCode(() => parseDidKey(`did:key:${multibase}${bad}`), 'MalformedMultibase', JSON.stringify(bad));
    }
    throwsCode(() => parseDidKey(`did:key:${multibase}#${multibase}`), 'MalformedMultibase', 'DID URL fragment');
  });

  it('no multicodec varint (empty body, truncated varint) → MalformedMultibase', () => {
    throwsCode(() => parseDidKey('did:key:z'), 'MalformedMultibase');
    throwsCode(() => parseDidKey('did:key:' + base58btc.encode(new Uint8Array([0x80]))), 'MalformedMultibase');
  });

  it('a non-minimal varint for a known multicodec → MalformedMultibase (one key, one did:key)', () => {
    const body = base58btc.decode(multibase);
    const padded = new Uint8Array([0xe7, 0x81, 0x00, ...body.subarray(2)]);
    throwsCode(() => parseDidKey('did:key:' + base58btc.encode(padded)), 'MalformedMultibase');
  });

  it('ed25519 (0xed) and other multicodecs → UnsupportedKeyType', () => {
    // The did:key spec's first ed25519 example.
    throwsCode(() => parseDidKey('did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'), 'UnsupportedKeyType');
    const point = base58btc.decode(multibase).subarray(2);
    throwsCode(() => parseDidKey(rawDidKey(0xed, new Uint8Array(32).fill(7))), 'UnsupportedKeyType', 'ed25519');
    throwsCode(() => parseDidKey(rawDidKey(0xed, point)), 'UnsupportedKeyType', 'ed25519 with a k256 point');
    throwsCode(() => parseDidKey(rawDidKey(0x1201, point)), 'UnsupportedKeyType', 'p384-pub');
    throwsCode(() => parseDidKey(rawDidKey(0x00, point)), 'UnsupportedKeyType', 'identity');
    throwsCode(() => parseDidKey(rawDidKey(0xe8, point)), 'UnsupportedKeyType', 'bls12_381-g1-pub');
  });

  for (const curve of [K256, P256]) {
    it(`${curve.name}: a point not on the curve → InvalidPublicKey`, () => {
      const off = offCurveCompressed(curve);
      throwsCode(() => parseDidKey(rawDidKey(curve.multicodec, off)), 'InvalidPublicKey', 'x with no y');
      throwsCode(() => compressPoint(curve, off), 'InvalidPublicKey');

      const good = curve.noble.getPublicKey(curve.noble.utils.randomSecretKey(), false);
      const badY = good.slice();
      badY[64]! ^= 1;
      throwsCode(() => parseDidKey(rawDidKey(curve.multicodec, badY)), 'InvalidPublicKey', 'uncompressed, y flipped');

      const badTag = curve.noble.getPublicKey(curve.noble.utils.randomSecretKey(), true);
      for (const tag of [0x00, 0x01, 0x04, 0x05, 0x06, 0x07]) {
        badTag[0] = tag;
        throwsCode(() => parseDidKey(rawDidKey(curve.multicodec, badTag)), 'InvalidPublicKey', `tag 0x${tag.toString(16)}`);
      }
      const hybrid = good.slice();
      hybrid[0] = 0x06 | (good[64]! & 1);
      throwsCode(() => parseDidKey(rawDidKey(curve.multicodec, hybrid)), 'InvalidPublicKey', 'hybrid encoding');

      const fieldOverflow = new Uint8Array(33).fill(0xff);
      fieldOverflow[0] = 0x02;
      throwsCode(() => parseDidKey(rawDidKey(curve.multicodec, fieldOverflow)), 'InvalidPublicKey', 'x ≥ p');
      throwsCode(() => parseDidKey(rawDidKey(curve.multicodec, new Uint8Array(33))), 'InvalidPublicKey', 'all zero');
    });

    it(`${curve.name}: a key of the wrong length → InvalidPublicKey`, () => {
      const point = curve.noble.getPublicKey(curve.noble.utils.randomSecretKey(), true);
      const unc = curve.noble.getPublicKey(curve.noble.utils.randomSecretKey(), false);
      const bodies = [
        new Uint8Array(0),
        point.subarray(0, 32),
        point.subarray(1),
        new Uint8Array([...point, 0]),
        unc.subarray(1),
        unc.subarray(0, 64),
        new Uint8Array([...unc, 0]),
      ];
      for (const body of bodies) {
        throwsCode(() => parseDidKey(rawDidKey(curve.multicodec, body)), 'InvalidPublicKey', `${body.length} bytes`);
        throwsCode(() => formatDidKey(curve, body), 'InvalidPublicKey', `${body.length} bytes`);
      }
    });
  }

  it('a k256 point under the p256 multicodec is not accepted as a p256 key', () => {
    // x-coordinates valid on k256 but not on p256 exist; find one and check the curve is honoured.
    for (let i = 0; i < 64; i++) {
      const point = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
      let onP256 = true;
      try {
        p256.Point.fromBytes(point);
      } catch {
        onP256 = false;
      }
      if (!onP256) {
        throwsCode(() => parseDidKey(rawDidKey(P256.multicodec, point)), 'InvalidPublicKey');
        return;
      }
    }
    assert.fail('no k256 point off p256 found in 64 tries (probability ~2^-64)');
  });
});
