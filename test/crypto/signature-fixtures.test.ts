/**
 * atproto interop fixtures: crypto/signature-fixtures.json, read in place.
 * Encodings (PROVENANCE.md): messageBase64 / signatureBase64 are standard-alphabet
 * unpadded base64; the message is SHA-256'd before ECDSA; publicKeyMultibase is
 * base58btc of the compressed point without a multicodec prefix.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { base58btc } from 'multiformats/bases/base58';
import { sha256 } from '@noble/hashes/sha2.js';
import { curveByName } from '../../src/crypto/curves.ts';
import { parseDidKey } from '../../src/crypto/did-key.ts';
import { decodeBase64 } from '../../src/crypto/encoding.ts';
import {
  assertSignature,
  checkSignature,
  checkSignatureForm,
  checkSignatureOverDigest,
  verifySignature,
} from '../../src/crypto/verify.ts';
import { readCryptoFixture, sTwin, splitSig, throwsCode, type SignatureFixture } from './helpers.ts';

const fixtures = readCryptoFixture<SignatureFixture[]>('signature-fixtures.json');

describe('signature-fixtures.json', () => {
  it('has the six cases PROVENANCE.md describes', () => {
    assert.equal(fixtures.length, 6);
    assert.deepEqual(
      fixtures.map((f) => [f.algorithm, f.validSignature, f.tags.join(',')]),
      [
        ['ES256', true, ''],
        ['ES256K', true, ''],
        ['ES256', false, 'high-s'],
        ['ES256K', false, 'high-s'],
        ['ES256', false, 'der-encoded'],
        ['ES256K', false, 'der-encoded'],
      ],
    );
  });

  for (const [i, f] of fixtures.entries()) {
    const label = `#${i + 1} ${f.algorithm} ${f.validSignature ? 'valid' : f.tags.join(',')}: ${f.comment}`;
    describe(label, () => {
      const message = decodeBase64(f.messageBase64);
      const sig = decodeBase64(f.signatureBase64);
      const key = parseDidKey(f.publicKeyDid);
      const curve = curveByName(key.curve);

      it('the did:key names the curve of the algorithm, and matches publicKeyMultibase (no multicodec prefix)', () => {
        assert.equal(curve.jwtAlg, f.algorithm);
        assert.equal(key.did, f.publicKeyDid);
        assert.ok(f.publicKeyMultibase.startsWith('z'));
        assert.deepEqual(base58btc.decode(f.publicKeyMultibase), key.compressed);
      });

      if (f.validSignature) {
        it('verifies through checkSignature (node:crypto) and checkSignatureOverDigest (noble)', () => {
          assert.equal(sig.length, 64);
          assert.equal(checkSignature(key, message, sig), undefined);
          assert.equal(checkSignatureOverDigest(key, sha256(message), sig), undefined);
          assert.equal(verifySignature(f.publicKeyDid, message, sig), true);
          assert.doesNotThrow(() => assertSignature(key, message, sig));
        });

        it('fails once the message or the signature changes', () => {
          const otherMessage = message.slice();
          otherMessage[0]! ^= 1;
          assert.equal(checkSignature(key, otherMessage, sig), 'SignatureMismatch');
          assert.equal(checkSignatureOverDigest(key, sha256(otherMessage), sig), 'SignatureMismatch');
          const otherSig = sig.slice();
          otherSig[10]! ^= 0x40; // in r: stays in range and low-S
          assert.equal(checkSignature(key, message, otherSig), 'SignatureMismatch');
          assert.equal(checkSignatureOverDigest(key, sha256(message), otherSig), 'SignatureMismatch');
        });
      } else if (f.tags.includes('high-s')) {
        it("fails with 'SignatureNotLowS' on both paths", () => {
          assert.equal(sig.length, 64);
          assert.ok(splitSig(sig).s > curve.n >> 1n, 'fixture is really high-S');
          assert.equal(checkSignatureForm(curve, sig), 'SignatureNotLowS');
          assert.equal(checkSignature(key, message, sig), 'SignatureNotLowS');
          assert.equal(checkSignatureOverDigest(key, sha256(message), sig), 'SignatureNotLowS');
          assert.equal(verifySignature(f.publicKeyDid, message, sig), false);
          throwsCode(() => assertSignature(key, message, sig), 'SignatureNotLowS');
        });

        it('is rejected only for being high-S: the math holds and its low-S twin verifies', () => {
          assert.equal(
            curve.noble.verify(sig, sha256(message), key.compressed, { prehash: false, lowS: false, format: 'compact' }),
            true,
          );
          const twin = sTwin(curve, sig);
          assert.equal(checkSignature(key, message, twin), undefined);
          assert.equal(checkSignatureOverDigest(key, sha256(message), twin), undefined);
        });
      } else if (f.tags.includes('der-encoded')) {
        it("fails with 'BadSignatureLength' on both paths", () => {
          assert.notEqual(sig.length, 64);
          assert.equal(sig[0], 0x30, 'fixture is really a DER SEQUENCE');
          assert.equal(checkSignatureForm(curve, sig), 'BadSignatureLength');
          assert.equal(checkSignature(key, message, sig), 'BadSignatureLength');
          assert.equal(checkSignatureOverDigest(key, sha256(message), sig), 'BadSignatureLength');
          assert.equal(verifySignature(f.publicKeyDid, message, sig), false);
          throwsCode(() => assertSignature(key, message, sig), 'BadSignatureLength');
        });
      } else {
        it('is a case this test knows how to check', () => assert.fail(`unknown fixture tags ${f.tags.join(',')}`));
      }
    });
  }
});
