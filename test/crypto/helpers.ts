/**
 * Shared helpers for the crypto tests: fixtures read in place from
 * ../shared/fixtures/atproto/crypto (never copied), scalar <-> bytes, and a
 * `throwsCode` assertion so tests match on `code`, not on message text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { isEncumberError, type ErrorCode } from '../../src/errors.ts';
import type { CurveInfo } from '../../src/crypto/curves.ts';

const FIXTURES = new URL('../../../shared/fixtures/atproto/crypto/', import.meta.url);

export function readCryptoFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
}

export interface SignatureFixture {
  comment: string;
  messageBase64: string;
  algorithm: 'ES256' | 'ES256K';
  didDocSuite: string;
  publicKeyDid: string;
  publicKeyMultibase: string;
  signatureBase64: string;
  validSignature: boolean;
  tags: string[];
}

export interface W3cK256Fixture {
  privateKeyBytesHex: string;
  publicDidKey: string;
}

export interface W3cP256Fixture {
  privateKeyBytesBase58: string;
  publicDidKey: string;
}

/** Assert that `fn` throws an EncumberError with exactly this `code`. */
export function throwsCode(fn: () => unknown, code: ErrorCode, note?: string): void {
  assert.throws(
    fn,
    (e: unknown) => {
      assert.ok(isEncumberError(e), `expected an EncumberError, got ${String(e)}${note ? ` (${note})` : ''}`);
      assert.equal(e.code, code, note);
      return true;
    },
    note,
  );
}

export function scalarToBytes(v: bigint): Uint8Array {
  if (v < 0n || v >= 1n << 256n) throw new RangeError('scalar does not fit in 32 bytes');
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function bytesToScalar(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

/** 64-byte compact r ‖ s from two scalars. */
export function compact(r: bigint, s: bigint): Uint8Array {
  const out = new Uint8Array(64);
  out.set(scalarToBytes(r), 0);
  out.set(scalarToBytes(s), 32);
  return out;
}

export function splitSig(sig: Uint8Array): { r: bigint; s: bigint } {
  return { r: bytesToScalar(sig.subarray(0, 32)), s: bytesToScalar(sig.subarray(32, 64)) };
}

/** The malleable twin (r, n − s): same math, opposite S half. */
export function sTwin(curve: CurveInfo, sig: Uint8Array): Uint8Array {
  const { r, s } = splitSig(sig);
  return compact(r, curve.n - s);
}

/** Sign SHA-256(message) with noble, compact; `lowS: false` leaves about half the signatures high-S. */
export function nobleSign(curve: CurveInfo, priv: Uint8Array, message: Uint8Array, lowS = true): Uint8Array {
  return curve.noble.sign(sha256(message), priv, { prehash: false, lowS, format: 'compact' });
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
