/**
 * libsecp256k1, OpenSSL and noble as oracles of each other for k256.
 *
 * Three verdicts per case, code for code: checkSignature with the libsecp256k1
 * backend installed, checkSignature with none (OpenSSL), and
 * checkSignatureOverDigest with none (noble). Below the strict form rules the
 * raw engines are compared too: libsecp256k1's ecdsaVerify and noble's verify
 * (lowS) must agree on every 64-byte string, and OpenSSL (which accepts
 * high-S) must accept exactly what they accept or the low-S twin of it.
 * Cases: every k256 fixture in ../shared/fixtures/atproto/crypto, then
 * fast-check properties (random keys, messages, high-S twins, bit flips in
 * signature, message and key, r or s = 0 or n). The signer: libsecp256k1's
 * signatures are low-S, deterministic, verify under OpenSSL and noble, and
 * are the very bytes noble's RFC 6979 signer makes.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as osslVerify } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { K256 } from '../../src/crypto/curves.ts';
import { formatDidKey, parseDidKey, type PublicKey } from '../../src/crypto/did-key.ts';
import { decodeBase64 } from '../../src/crypto/encoding.ts';
import { installK256Backend, k256Backend, type K256Backend } from '../../src/crypto/k256-backend.ts';
import { libsecp256k1Backend, libsecp256k1PublicKey, signK256Libsecp256k1 } from '../../src/crypto/k256-libsecp256k1.ts';
import { k256DidKey, signK256 } from '../../src/crypto/k256-signer.ts';
import { checkSignature, checkSignatureAsync, checkSignatureOverDigest, type SignatureFailure } from '../../src/crypto/verify.ts';
import { compact, nobleSign, readCryptoFixture, splitSig, sTwin, throwsCode, type SignatureFixture, type W3cK256Fixture } from './helpers.ts';

const NUM_RUNS = 60;
/** The binding itself, for a question the backend does not answer (does libsecp256k1 parse these key bytes?). */
const binding = createRequire(import.meta.url)('secp256k1/bindings') as { publicKeyConvert(key: Uint8Array, compressed: boolean): Uint8Array };
const HALF_N = K256.n >> 1n;

const previous = installK256Backend(undefined);
after(() => installK256Backend(previous));

function withBackend<T>(backend: K256Backend | undefined, fn: () => T): T {
  const before = installK256Backend(backend);
  try {
    return fn();
  } finally {
    installK256Backend(before);
  }
}

type Verdict = SignatureFailure | undefined;

/** [libsecp256k1, OpenSSL, noble], each through the project's strict rules. */
function verdicts(key: PublicKey, message: Uint8Array, sig: Uint8Array): [Verdict, Verdict, Verdict] {
  return [
    withBackend(libsecp256k1Backend, () => checkSignature(key, message, sig)),
    withBackend(undefined, () => checkSignature(key, message, sig)),
    withBackend(undefined, () => checkSignatureOverDigest(key, sha256(message), sig)),
  ];
}

function assertAgree(key: PublicKey, message: Uint8Array, sig: Uint8Array, note: string): Verdict {
  const [viaLibsecp, viaOpenssl, viaNoble] = verdicts(key, message, sig);
  assert.equal(viaLibsecp, viaOpenssl, `libsecp256k1 and OpenSSL disagree: ${note}`);
  assert.equal(viaLibsecp, viaNoble, `libsecp256k1 and noble disagree: ${note}`);
  if (sig.length === 64) assertEnginesAgree(key.compressed, message, sig, note);
  return viaLibsecp;
}

const spki = (compressed: Uint8Array) => {
  const der = new Uint8Array(K256.spkiCompressedPrefix.length + 33);
  der.set(K256.spkiCompressedPrefix, 0);
  der.set(compressed, K256.spkiCompressedPrefix.length);
  return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
};

function rawOpenssl(compressed: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  return osslVerify('sha256', message, { key: spki(compressed), dsaEncoding: 'ieee-p1363' }, sig);
}

function rawNoble(compressed: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  try {
    return secp256k1.verify(sig, sha256(message), compressed, { prehash: false, lowS: true, format: 'compact' });
  } catch {
    return false;
  }
}

/** The engines without our form rules in front (for 64-byte signatures over a valid key). */
function assertEnginesAgree(compressed: Uint8Array, message: Uint8Array, sig: Uint8Array, note: string): void {
  const lib = libsecp256k1Backend.verify(sig, message, compressed);
  assert.equal(lib, rawNoble(compressed, message, sig), `raw libsecp256k1 and noble disagree: ${note}`);
  const { r, s } = splitSig(sig);
  const inRange = r > 0n && r < K256.n && s > 0n && s < K256.n;
  // OpenSSL accepts both halves of S: it must accept a signature exactly when libsecp256k1 accepts it or its low-S twin.
  const lowTwin = inRange && s > HALF_N ? sTwin(K256, sig) : sig;
  assert.equal(inRange && rawOpenssl(compressed, message, sig), libsecp256k1Backend.verify(lowTwin, message, compressed), `raw OpenSSL and libsecp256k1 disagree: ${note}`);
}

const k256Fixtures = readCryptoFixture<SignatureFixture[]>('signature-fixtures.json').filter((f) => f.algorithm === 'ES256K');
const p256Fixtures = readCryptoFixture<SignatureFixture[]>('signature-fixtures.json').filter((f) => f.algorithm === 'ES256');
const w3cK256 = readCryptoFixture<W3cK256Fixture[]>('w3c_didkey_K256.json');

describe('atproto k256 fixtures: libsecp256k1, OpenSSL and noble give the same verdict', () => {
  it('the file has valid, high-S and DER k256 cases', () => {
    assert.deepEqual(k256Fixtures.map((f) => (f.validSignature ? 'valid' : f.tags.join(','))).sort(), ['der-encoded', 'high-s', 'valid']);
  });
  for (const f of k256Fixtures) {
    it(`${f.validSignature ? 'valid' : f.tags.join(',')}: ${f.comment}`, () => {
      const key = parseDidKey(f.publicKeyDid);
      const message = decodeBase64(f.messageBase64);
      const sig = decodeBase64(f.signatureBase64);
      const verdict = assertAgree(key, message, sig, f.comment);
      if (f.validSignature) assert.equal(verdict, undefined);
      else assert.notEqual(verdict, undefined);
      if (f.tags.includes('high-s')) assert.equal(verdict, 'SignatureNotLowS');
      // Each bit of the signature and of the message flipped (the message's first 8 bytes): all three still agree.
      if (sig.length === 64) {
        for (let bit = 0; bit < 512; bit += 13) {
          const flipped = sig.slice();
          flipped[bit >> 3]! ^= 1 << (bit & 7);
          const v = assertAgree(key, message, flipped, `${f.comment}, sig bit ${bit}`);
          if (f.validSignature) assert.notEqual(v, undefined);
        }
      }
      for (let bit = 0; bit < Math.min(64, message.length * 8); bit += 3) {
        const flipped = message.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        assert.notEqual(assertAgree(key, flipped, sig, `${f.comment}, message bit ${bit}`), undefined);
      }
    });
  }

  it('p256 fixtures are untouched by the k256 backend (it is never asked)', () => {
    const refuse: K256Backend = { name: 'refuse', verify: () => assert.fail('asked about p256'), verifyDigest: () => assert.fail('asked about p256') };
    for (const f of p256Fixtures) {
      const key = parseDidKey(f.publicKeyDid);
      const message = decodeBase64(f.messageBase64);
      const sig = decodeBase64(f.signatureBase64);
      const expected = withBackend(undefined, () => checkSignature(key, message, sig));
      assert.equal(withBackend(refuse, () => checkSignature(key, message, sig)), expected);
      assert.equal(withBackend(refuse, () => checkSignatureOverDigest(key, sha256(message), sig)), expected);
    }
  });

  it('w3c did:key vectors: libsecp256k1 derives the same did:key and its signatures verify under OpenSSL and noble', () => {
    for (const v of w3cK256) {
      const priv = new Uint8Array(Buffer.from(v.privateKeyBytesHex, 'hex'));
      assert.equal(formatDidKey(K256, libsecp256k1PublicKey(priv)), v.publicDidKey);
      const message = new TextEncoder().encode(v.publicDidKey);
      const sig = signK256Libsecp256k1(priv, message);
      assert.deepEqual(verdicts(parseDidKey(v.publicDidKey), message, sig), [undefined, undefined, undefined]);
    }
  });
});

type Special = 0n | 'n' | 'n-1' | 'half' | 'half+1';
type Mutation =
  | { kind: 'none' }
  | { kind: 'high-s' }
  | { kind: 'sig-bit'; bit: number }
  | { kind: 'message-bit'; bit: number }
  | { kind: 'key-bit'; bit: number }
  | { kind: 'scalar'; which: 'r' | 's'; value: Special }
  | { kind: 'random-sig'; bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'none' }),
  fc.constant<Mutation>({ kind: 'high-s' }),
  fc.integer({ min: 0, max: 511 }).map((bit): Mutation => ({ kind: 'sig-bit', bit })),
  fc.nat().map((bit): Mutation => ({ kind: 'message-bit', bit })),
  fc.integer({ min: 0, max: 263 }).map((bit): Mutation => ({ kind: 'key-bit', bit })),
  fc
    .record({ which: fc.constantFrom<'r' | 's'>('r', 's'), value: fc.constantFrom<Special>(0n, 'n', 'n-1', 'half', 'half+1') })
    .map((x): Mutation => ({ kind: 'scalar', ...x })),
  fc.uint8Array({ minLength: 64, maxLength: 64 }).map((bytes): Mutation => ({ kind: 'random-sig', bytes })),
);

const secretArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp256k1.utils.isValidSecretKey(k));

/** A did:key from flipped key bytes, or undefined when the bytes are no point (every oracle must say so). */
function flippedKey(key: PublicKey, bit: number): PublicKey | undefined {
  const bytes = key.compressed.slice();
  bytes[bit >> 3]! ^= 1 << (bit & 7);
  const parses = [() => secp256k1.Point.fromBytes(bytes), () => binding.publicKeyConvert(bytes, true), () => spki(bytes)].map((f) => {
    try {
      f();
      return true;
    } catch {
      return false;
    }
  });
  assert.ok(parses.every((v) => v === parses[0]), `noble, libsecp256k1 and OpenSSL disagree on whether the bytes are a point: ${parses}`);
  if (!parses[0]) {
    // Handed over anyway (a PublicKey is a plain object), the libsecp256k1 backend answers a failed verification.
    assert.equal(libsecp256k1Backend.verify(new Uint8Array(64).fill(1), new Uint8Array(0), bytes), false);
    return undefined;
  }
  return parseDidKey(formatDidKey(K256, bytes));
}

function special(v: Special): bigint {
  if (v === 0n) return 0n;
  return { n: K256.n, 'n-1': K256.n - 1n, half: HALF_N, 'half+1': HALF_N + 1n }[v];
}

describe('property: libsecp256k1, OpenSSL and noble agree code for code', () => {
  it('on random keys and messages, their signatures, high-S twins, bit flips and r or s = 0 / n', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(secretArb, fc.uint8Array({ maxLength: 200 }), mutationArb, (secret, message, m) => {
        const key = parseDidKey(formatDidKey(K256, secp256k1.getPublicKey(secret, true)));
        const sig = nobleSign(K256, secret, message);
        assert.deepEqual(verdicts(key, message, sig), [undefined, undefined, undefined]);
        const t = { key, message, sig };
        switch (m.kind) {
          case 'none':
            break;
          case 'high-s':
            t.sig = sTwin(K256, sig);
            break;
          case 'sig-bit':
            t.sig = sig.slice();
            t.sig[m.bit >> 3]! ^= 1 << (m.bit & 7);
            break;
          case 'message-bit': {
            const changed = message.length === 0 ? new Uint8Array([1]) : message.slice();
            if (message.length > 0) changed[(m.bit >> 3) % message.length]! ^= 1 << (m.bit & 7);
            t.message = changed;
            break;
          }
          case 'key-bit': {
            const k = flippedKey(key, m.bit);
            if (!k) return;
            t.key = k;
            break;
          }
          case 'scalar': {
            const { r, s } = splitSig(sig);
            t.sig = m.which === 'r' ? compact(special(m.value), s) : compact(r, special(m.value));
            break;
          }
          case 'random-sig':
            t.sig = m.bytes;
            break;
        }
        const verdict = assertAgree(t.key, t.message, t.sig, m.kind);
        seen.add(String(verdict));
        if (m.kind === 'none') assert.equal(verdict, undefined);
        if (m.kind === 'high-s') assert.equal(verdict, 'SignatureNotLowS');
        if (m.kind === 'message-bit' || m.kind === 'key-bit') assert.equal(verdict, 'SignatureMismatch');
        if (m.kind === 'scalar' && (m.value === 0n || m.value === 'n')) assert.equal(verdict, 'SignatureOutOfRange');
      }),
      {
        numRuns: NUM_RUNS,
        // Every verdict at least once whatever the seed: a valid signature, its high-S twin, a flipped message, r = 0, s = n.
        examples: (
          [{ kind: 'none' }, { kind: 'high-s' }, { kind: 'message-bit', bit: 3 }, { kind: 'scalar', which: 'r', value: 0n }, { kind: 'scalar', which: 's', value: 'n' }] as Mutation[]
        ).map((m): [Uint8Array, Uint8Array, Mutation] => [new Uint8Array(32).fill(7), new Uint8Array([1, 2, 3]), m]),
      },
    );
    for (const v of ['undefined', 'SignatureNotLowS', 'SignatureMismatch', 'SignatureOutOfRange']) assert.ok(seen.has(v), `no case ended in ${v}`);
  });
});

describe('the libsecp256k1 signer', () => {
  it('is RFC 6979: the same bytes as noble (deterministic, low-S), verifying under OpenSSL and noble', () => {
    fc.assert(
      fc.property(secretArb, fc.uint8Array({ maxLength: 200 }), (secret, message) => {
        const sig = signK256Libsecp256k1(secret, message);
        assert.equal(sig.length, 64);
        assert.ok(splitSig(sig).s <= HALF_N, 'low-S');
        assert.deepEqual(signK256Libsecp256k1(secret, message), sig, 'same message, same signature');
        assert.deepEqual(sig, signK256(secret, message), 'the signature noble makes (RFC 6979, low-S)');
        const key = parseDidKey(k256DidKey(secret));
        assert.deepEqual(libsecp256k1PublicKey(secret), key.compressed);
        assert.deepEqual(verdicts(key, message, sig), [undefined, undefined, undefined]);
        assert.equal(rawOpenssl(key.compressed, message, sig), true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses a private key outside [1, n-1] or not 32 bytes', () => {
    for (const bad of [new Uint8Array(32), compact(0n, K256.n).subarray(32), compact(0n, K256.n + 1n).subarray(32), new Uint8Array(31).fill(1), new Uint8Array(33).fill(1)]) {
      throwsCode(() => signK256Libsecp256k1(bad, new Uint8Array(1)), 'InvalidPrivateKey');
      throwsCode(() => libsecp256k1PublicKey(bad), 'InvalidPrivateKey');
    }
  });
});

describe('the backend seam in verify.ts', () => {
  const secret = new Uint8Array(32).fill(3);
  const key = parseDidKey(k256DidKey(secret));
  const message = new TextEncoder().encode('seam');
  const good = signK256(secret, message);

  it('checkSignature, checkSignatureAsync and checkSignatureOverDigest ask the installed backend for k256', async () => {
    const calls: string[] = [];
    const no: K256Backend = {
      name: 'no',
      verify: () => (calls.push('verify'), false),
      verifyDigest: () => (calls.push('verifyDigest'), false),
    };
    const before = installK256Backend(no);
    try {
      assert.equal(k256Backend(), no);
      assert.equal(checkSignature(key, message, good), 'SignatureMismatch');
      assert.equal(await checkSignatureAsync(key, message, good), 'SignatureMismatch');
      assert.equal(checkSignatureOverDigest(key, sha256(message), good), 'SignatureMismatch');
      assert.deepEqual(calls, ['verify', 'verify', 'verifyDigest']);
      // The form rules run first: the backend never sees a malformed, out-of-range or high-S signature.
      calls.length = 0;
      for (const bad of [good.subarray(0, 63), compact(0n, 1n), sTwin(K256, good)]) {
        assert.notEqual(checkSignature(key, message, bad), 'SignatureMismatch');
        assert.notEqual(await checkSignatureAsync(key, message, bad), 'SignatureMismatch');
        assert.notEqual(checkSignatureOverDigest(key, sha256(message), bad), 'SignatureMismatch');
      }
      assert.deepEqual(calls, []);
    } finally {
      installK256Backend(before);
    }
  });

  it('with libsecp256k1 installed, checkSignatureAsync gives checkSignature\'s answers', async () => {
    const cases = [good, sTwin(K256, good), good.map((b, i) => (i === 5 ? b ^ 1 : b)), good.subarray(0, 63), new Uint8Array(64), new Uint8Array(64).fill(0xff)];
    const before = installK256Backend(libsecp256k1Backend);
    try {
      const sync = cases.map((c) => checkSignature(key, message, c));
      assert.deepEqual(await Promise.all(cases.map((c) => checkSignatureAsync(key, message, c))), sync);
      assert.deepEqual(sync, [undefined, 'SignatureNotLowS', 'SignatureMismatch', 'BadSignatureLength', 'SignatureOutOfRange', 'SignatureOutOfRange']);
      // A digest that is not 32 bytes is a failed verification, as on the noble path.
      assert.equal(checkSignatureOverDigest(key, sha256(message), good), undefined);
      assert.equal(checkSignatureOverDigest(key, new Uint8Array([...sha256(message), 0]), good), 'SignatureMismatch');
      assert.equal(checkSignatureOverDigest(key, sha256(message).subarray(0, 31), good), 'SignatureMismatch');
    } finally {
      installK256Backend(before);
    }
  });
});
