/**
 * The hand-off's HPKE suite (src/enclave/hpke.ts) against RFC 9180's test
 * vector for DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode
 * (test/vectors/hpke/rfc9180-a1-base.json, RFC 9180 Appendix A.1.1): the
 * recipient opens the published ciphertexts in sequence, and a sender with the
 * vector's ephemeral key produces the published enc and ciphertexts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex as hex, toHex } from '../../src/crypto/encoding.ts';
import { handoffSuite } from '../../src/enclave/hpke.ts';
import { REPO_ROOT } from '../support/fixtures.ts';

const v = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'vectors', 'hpke', 'rfc9180-a1-base.json'), 'utf8')) as {
  mode: number;
  kem_id: number;
  kdf_id: number;
  aead_id: number;
  info: string;
  skRm: string;
  skEm: string;
  pkRm: string;
  pkEm: string;
  enc: string;
  encryptions: { aad: string; ciphertext: string; plaintext: string }[];
};

/** Its own ArrayBuffer (the library reads `.buffer`, so a view into a larger one would not do). */
const fromHex = (h: string): ArrayBuffer => hex(h).slice().buffer;

test('the suite is the vector\'s suite (KEM 0x0020, KDF 0x0001, AEAD 0x0001, base mode)', () => {
  const suite = handoffSuite();
  assert.deepEqual([v.mode, v.kem_id, v.kdf_id, v.aead_id], [0, 0x20, 1, 1]);
  assert.deepEqual([suite.kem.id, suite.kdf.id, suite.aead.id], [v.kem_id, v.kdf_id, v.aead_id]);
});

test('RFC 9180 A.1.1: the recipient opens the published ciphertexts in sequence', async () => {
  const suite = handoffSuite();
  const recipientKey = await suite.kem.importKey('raw', fromHex(v.skRm), false);
  const ctx = await suite.createRecipientContext({ recipientKey, enc: fromHex(v.enc), info: fromHex(v.info) });
  for (const e of v.encryptions) {
    const pt = await ctx.open(fromHex(e.ciphertext), fromHex(e.aad));
    assert.equal(toHex(new Uint8Array(pt)), e.plaintext);
  }
});

test('RFC 9180 A.1.1: a sender with the vector\'s ephemeral key produces its enc and ciphertexts', async () => {
  const suite = handoffSuite();
  const recipientPublicKey = await suite.kem.importKey('raw', fromHex(v.pkRm), true);
  const ekm = { privateKey: await suite.kem.importKey('raw', fromHex(v.skEm), false), publicKey: await suite.kem.importKey('raw', fromHex(v.pkEm), true) };
  const ctx = await suite.createSenderContext({ recipientPublicKey, info: fromHex(v.info), ekm });
  assert.equal(toHex(new Uint8Array(ctx.enc)), v.enc);
  for (const e of v.encryptions) {
    assert.equal(toHex(new Uint8Array(await ctx.seal(fromHex(e.plaintext), fromHex(e.aad)))), e.ciphertext);
  }
  // A changed aad does not open.
  const r = await suite.createRecipientContext({ recipientKey: await suite.kem.importKey('raw', fromHex(v.skRm), false), enc: fromHex(v.enc), info: fromHex(v.info) });
  await assert.rejects(r.open(fromHex(v.encryptions[0]!.ciphertext), new Uint8Array([1])));
});
