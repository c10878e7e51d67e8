/**
 * Property: the OpenSSL path (`checkSignature`) and the noble path
 * (`checkSignatureOverDigest`) give the same verdict, code for code, on random
 * keys and messages, on valid signatures, on their high-S twins and on random
 * mutations of them. Valid ones must verify and high-S twins must fail
 * 'SignatureNotLowS', so the agreement is not the trivial "both always fail".
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { K256, P256, type CurveInfo } from '../../src/crypto/curves.ts';
import { formatDidKey, parseDidKey, type PublicKey } from '../../src/crypto/did-key.ts';
import { checkSignature, checkSignatureOverDigest, type SignatureFailure } from '../../src/crypto/verify.ts';
import { compact, nobleSign, scalarToBytes, sTwin, splitSig } from './helpers.ts';

const NUM_RUNS = 150;

type Special = 'zero' | 'one' | 'half' | 'half+1' | 'n-1' | 'n' | 'n+1' | 'max';
type Mutation =
  | { kind: 'none' }
  | { kind: 'high-s' }
  | { kind: 'flip-bit'; bit: number }
  | { kind: 'set-byte'; index: number; value: number }
  | { kind: 'swap-r-s' }
  | { kind: 'set-scalar'; which: 'r' | 's'; value: Special }
  | { kind: 'resize'; length: number }
  | { kind: 'random'; bytes: Uint8Array }
  | { kind: 'other-message'; index: number }
  | { kind: 'other-key' };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'none' }),
  fc.constant<Mutation>({ kind: 'high-s' }),
  fc.integer({ min: 0, max: 511 }).map((bit): Mutation => ({ kind: 'flip-bit', bit })),
  fc.record({ index: fc.integer({ min: 0, max: 63 }), value: fc.integer({ min: 0, max: 255 }) }).map(
    (x): Mutation => ({ kind: 'set-byte', ...x }),
  ),
  fc.constant<Mutation>({ kind: 'swap-r-s' }),
  fc
    .record({
      which: fc.constantFrom<'r' | 's'>('r', 's'),
      value: fc.constantFrom<Special>('zero', 'one', 'half', 'half+1', 'n-1', 'n', 'n+1', 'max'),
    })
    .map((x): Mutation => ({ kind: 'set-scalar', ...x })),
  fc.integer({ min: 0, max: 80 }).filter((l) => l !== 64).map((length): Mutation => ({ kind: 'resize', length })),
  fc.uint8Array({ minLength: 64, maxLength: 64 }).map((bytes): Mutation => ({ kind: 'random', bytes })),
  fc.nat().map((index): Mutation => ({ kind: 'other-message', index })),
  fc.constant<Mutation>({ kind: 'other-key' }),
);

function special(curve: CurveInfo, v: Special): bigint {
  const n = curve.n;
  const table: Record<Special, bigint> = {
    zero: 0n,
    one: 1n,
    half: n >> 1n,
    'half+1': (n >> 1n) + 1n,
    'n-1': n - 1n,
    n,
    'n+1': n + 1n,
    max: (1n << 256n) - 1n,
  };
  return table[v];
}

/** Apply a mutation; returns the key, message and signature to check. */
function mutate(
  curve: CurveInfo,
  key: PublicKey,
  otherKey: PublicKey,
  message: Uint8Array,
  sig: Uint8Array,
  m: Mutation,
): { key: PublicKey; message: Uint8Array; sig: Uint8Array } {
  const out: { key: PublicKey; message: Uint8Array; sig: Uint8Array } = { key, message, sig: sig.slice() };
  switch (m.kind) {
    case 'none':
      break;
    case 'high-s':
      out.sig = sTwin(curve, sig);
      break;
    case 'flip-bit':
      out.sig[m.bit >> 3]! ^= 1 << (m.bit & 7);
      break;
    case 'set-byte':
      out.sig[m.index] = m.value;
      break;
    case 'swap-r-s':
      out.sig = new Uint8Array([...sig.subarray(32), ...sig.subarray(0, 32)]);
      break;
    case 'set-scalar': {
      const { r, s } = splitSig(sig);
      const v = special(curve, m.value);
      out.sig = m.which === 'r' ? compact(v, s) : compact(r, v);
      break;
    }
    case 'resize': {
      const resized = new Uint8Array(m.length);
      resized.set(sig.subarray(0, Math.min(64, m.length)));
      out.sig = resized;
      break;
    }
    case 'random':
      out.sig = m.bytes;
      break;
    case 'other-message': {
      const changed = message.length === 0 ? new Uint8Array([0]) : message.slice();
      if (message.length > 0) changed[m.index % changed.length]! ^= 0x01;
      out.message = changed;
      break;
    }
    case 'other-key':
      out.key = otherKey;
      break;
  }
  return out;
}

const curveAndSecret = (curve: CurveInfo) =>
  fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .filter((k) => curve.noble.utils.isValidSecretKey(k))
    .map((k) => ({ curve, secret: k }));

const keyArb = fc.oneof(curveAndSecret(K256), curveAndSecret(P256));

function publicKey(curve: CurveInfo, secret: Uint8Array): PublicKey {
  return parseDidKey(formatDidKey(curve, curve.noble.getPublicKey(secret, true)));
}

function verdicts(key: PublicKey, message: Uint8Array, sig: Uint8Array): [SignatureFailure | undefined, SignatureFailure | undefined] {
  return [checkSignature(key, message, sig), checkSignatureOverDigest(key, sha256(message), sig)];
}

describe('checkSignature (OpenSSL) and checkSignatureOverDigest (noble) agree', () => {
  it('on valid signatures, high-S twins and random mutations', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(keyArb, keyArb, fc.uint8Array({ maxLength: 300 }), mutationArb, (a, b, message, m) => {
        const key = publicKey(a.curve, a.secret);
        // The "other key" is independent: either curve, so both same-curve and cross-curve keys occur.
        const other = publicKey(b.curve, b.secret);
        const sig = nobleSign(a.curve, a.secret, message);

        // Baseline: the unmutated signature is valid on both paths, its twin is high-S on both.
        assert.deepEqual(verdicts(key, message, sig), [undefined, undefined]);
        assert.deepEqual(verdicts(key, message, sTwin(a.curve, sig)), ['SignatureNotLowS', 'SignatureNotLowS']);

        const t = mutate(a.curve, key, other, message, sig, m);
        const [viaNode, viaNoble] = verdicts(t.key, t.message, t.sig);
        assert.equal(viaNode, viaNoble, `paths disagree on ${m.kind}`);
        seen.add(String(viaNode));

        // Expected verdicts where they are certain.
        if (m.kind === 'none') assert.equal(viaNode, undefined);
        if (m.kind === 'high-s') assert.equal(viaNode, 'SignatureNotLowS');
        if (m.kind === 'resize') assert.equal(viaNode, 'BadSignatureLength');
        if (m.kind === 'set-scalar' && ['zero', 'n', 'n+1', 'max'].includes(m.value)) assert.equal(viaNode, 'SignatureOutOfRange');
        if (m.kind === 'other-message' || (m.kind === 'other-key' && other.did !== key.did)) {
          assert.equal(viaNode, 'SignatureMismatch');
        }
      }),
      { numRuns: NUM_RUNS },
    );
    // The run exercised every verdict, so agreement was tested on each.
    for (const v of ['undefined', 'SignatureNotLowS', 'SignatureMismatch', 'SignatureOutOfRange', 'BadSignatureLength']) {
      assert.ok(seen.has(v), `no case ended in ${v}`);
    }
  });

  it('on arbitrary 64-byte strings against random keys and messages', () => {
    fc.assert(
      fc.property(keyArb, fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), (a, message, sig) => {
        const key = publicKey(a.curve, a.secret);
        const [viaNode, viaNoble] = verdicts(key, message, sig);
        assert.equal(viaNode, viaNoble);
        assert.notEqual(viaNode, undefined, 'a random string verified');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('on low-S signatures over a message, checked against the digest of another message', () => {
    fc.assert(
      fc.property(keyArb, fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, m1, m2) => {
        fc.pre(Buffer.compare(m1, m2) !== 0);
        const key = publicKey(a.curve, a.secret);
        const sig = nobleSign(a.curve, a.secret, m1);
        assert.deepEqual(verdicts(key, m2, sig), ['SignatureMismatch', 'SignatureMismatch']);
      }),
      { numRuns: 100 },
    );
  });

  it('scalarToBytes helper is big-endian (sanity for the mutations above)', () => {
    assert.deepEqual([...scalarToBytes(0x0102n).subarray(30)], [1, 2]);
  });
});
