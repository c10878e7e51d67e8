/**
 * Strict atproto signature verification.
 *
 * Rules, in order (each a separate code so callers can tell them apart):
 *   1. exactly 64 bytes, read as r ‖ s (so DER is rejected even when it is 64 bytes long:
 *      it then fails rule 4);
 *   2. 1 ≤ r, s < n;
 *   3. low-S: s ≤ n/2 (high-S signatures are malleable copies and atproto forbids them);
 *   4. the ECDSA equation, over SHA-256 of the message: for k256, by the
 *      installed backend when there is one (libsecp256k1 in Node, installed by
 *      the Node edges: ./k256-backend.ts); otherwise by OpenSSL (node:crypto);
 *      noble where only a digest is available and no backend is installed, and
 *      everywhere when node:crypto is absent (a browser: src/web).
 *
 * node:crypto is reached through process.getBuiltinModule, never imported, so
 * this module stays browser-safe (the pattern of attestation/x509/ecdsa.ts).
 * Every path applies rules 1–3 first and gives the same answers (differential
 * tests in test/crypto: libsecp256k1, OpenSSL and noble against each other).
 */
import type { KeyObject } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { EncumberError } from '../errors.ts';
import { curveByName, type CurveInfo } from './curves.ts';
import type { PublicKey } from './did-key.ts';
import { toHex } from './encoding.ts';
import { k256Backend } from './k256-backend.ts';
import { parseDidKeyCached as parseDidKey } from './key-cache.ts';
import { compareScalar, isZeroScalar } from './scalar.ts';

type NodeCrypto = typeof import('node:crypto');

const nodeCrypto: NodeCrypto | undefined = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:crypto') as NodeCrypto) : undefined;
})();

export type SignatureFailure = 'BadSignatureLength' | 'SignatureOutOfRange' | 'SignatureNotLowS' | 'SignatureMismatch';


/** Rules 1–3: the form of the signature, before any curve arithmetic. */
export function checkSignatureForm(curve: CurveInfo, sig: Uint8Array): SignatureFailure | undefined {
  if (!(sig instanceof Uint8Array) || sig.length !== 64) return 'BadSignatureLength';
  if (isZeroScalar(sig, 0) || isZeroScalar(sig, 32)) return 'SignatureOutOfRange';
  if (compareScalar(sig, 0, curve.nBytes) >= 0 || compareScalar(sig, 32, curve.nBytes) >= 0) return 'SignatureOutOfRange';
  if (compareScalar(sig, 32, curve.halfNBytes) > 0) return 'SignatureNotLowS';
  return undefined;
}

// Importing a key into OpenSSL costs more than one verification, and audit logs
// reuse a handful of rotation keys, so keep a bounded cache of KeyObjects.
// The cache is keyed by what is imported (curve + the compressed point bytes),
// never by `key.did`: `PublicKey` is a plain object, and a did that disagreed
// with its point must not make a later verification under that did use the
// wrong key (nor make this path disagree with the noble one).
const KEY_CACHE_LIMIT = 4096;
const keyCache = new Map<string, KeyObject>();

function nativeKey(nc: NodeCrypto, key: PublicKey): KeyObject {
  const c = key.compressed;
  const id = key.curve + ':' + toHex(c);
  let k = keyCache.get(id);
  if (k) return k;
  const curve = curveByName(key.curve);
  const der = new Uint8Array(curve.spkiCompressedPrefix.length + 33);
  der.set(curve.spkiCompressedPrefix, 0);
  der.set(c, curve.spkiCompressedPrefix.length);
  k = nc.createPublicKey({ key: der as never, format: 'der', type: 'spki' });
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(id, k);
  return k;
}

/** The installed engine for rule 4 on this curve (k256 only), if any. */
const backendFor = (curve: CurveInfo) => (curve.name === 'k256' ? k256Backend() : undefined);

/**
 * Verify `sig` over SHA-256(`message`). Returns undefined when valid, otherwise
 * the rule that failed. Never throws on a bad signature.
 */
export function checkSignature(key: PublicKey, message: Uint8Array, sig: Uint8Array): SignatureFailure | undefined {
  const curve = curveByName(key.curve);
  const formFailure = checkSignatureForm(curve, sig);
  if (formFailure) return formFailure;
  const backend = backendFor(curve);
  if (backend) return backend.verify(sig, message, key.compressed) ? undefined : 'SignatureMismatch';
  if (!nodeCrypto) return nobleVerify(curve, sha256(message), key, sig);
  const ok = nodeCrypto.verify('sha256', message, { key: nativeKey(nodeCrypto, key), dsaEncoding: 'ieee-p1363' }, sig);
  return ok ? undefined : 'SignatureMismatch';
}

/** Rule 4 in pure JS (noble), over a SHA-256 digest; rules 1–3 already hold. */
function nobleVerify(curve: CurveInfo, digest: Uint8Array, key: PublicKey, sig: Uint8Array): SignatureFailure | undefined {
  if (digest.length !== 32) return 'SignatureMismatch';
  let ok = false;
  try {
    ok = curve.noble.verify(sig, digest, key.compressed, { prehash: false, lowS: true, format: 'compact' });
  } catch {
    ok = false;
  }
  return ok ? undefined : 'SignatureMismatch';
}

/**
 * `checkSignature` with the OpenSSL ECDSA step on libuv's thread pool, so
 * several verifications (a request's co-signatures) run in parallel and off
 * the event loop. An installed k256 backend answers synchronously (a
 * libsecp256k1 verification costs less than a hop to the pool). Same rules,
 * same answers (a test checks they agree).
 */
export function checkSignatureAsync(key: PublicKey, message: Uint8Array, sig: Uint8Array): Promise<SignatureFailure | undefined> {
  const curve = curveByName(key.curve);
  const formFailure = checkSignatureForm(curve, sig);
  if (formFailure) return Promise.resolve(formFailure);
  const backend = backendFor(curve);
  if (backend) return Promise.resolve(backend.verify(sig, message, key.compressed) ? undefined : 'SignatureMismatch');
  const nc = nodeCrypto;
  if (!nc) return Promise.resolve(nobleVerify(curve, sha256(message), key, sig));
  return new Promise((resolve, reject) => {
    nc.verify('sha256', message, { key: nativeKey(nc, key), dsaEncoding: 'ieee-p1363' }, sig, (err, ok) => {
      if (err) reject(err);
      else resolve(ok ? undefined : 'SignatureMismatch');
    });
  });
}

/** Same rules as `checkSignature`, but over a given SHA-256 digest (the k256 backend if installed, else noble). */
export function checkSignatureOverDigest(
  key: PublicKey,
  digest: Uint8Array,
  sig: Uint8Array,
): SignatureFailure | undefined {
  const curve = curveByName(key.curve);
  const formFailure = checkSignatureForm(curve, sig);
  if (formFailure) return formFailure;
  const backend = backendFor(curve);
  if (backend) return backend.verifyDigest(sig, digest, key.compressed) ? undefined : 'SignatureMismatch';
  return nobleVerify(curve, digest, key, sig);
}

export function verifySignature(key: PublicKey | string, message: Uint8Array, sig: Uint8Array): boolean {
  const k = typeof key === 'string' ? parseDidKey(key) : key;
  return checkSignature(k, message, sig) === undefined;
}

const FAILURE_TEXT: Record<SignatureFailure, string> = {
  BadSignatureLength: 'signature must be exactly 64 bytes (compact r‖s)',
  SignatureOutOfRange: 'signature r or s is outside [1, n-1]',
  SignatureNotLowS: 'signature is high-S (s > n/2); atproto requires low-S',
  SignatureMismatch: 'signature does not verify with this key',
};

/** Throwing form, for callers that want one typed error. */
export function assertSignature(key: PublicKey | string, message: Uint8Array, sig: Uint8Array): void {
  const k = typeof key === 'string' ? parseDidKey(key) : key;
  const failure = checkSignature(k, message, sig);
  if (failure) {
    // `sig` may be anything here (checkSignatureForm accepts any value): report its length only if it is bytes.
    const actual = failure === 'BadSignatureLength' ? (sig instanceof Uint8Array ? sig.length : typeof sig) : undefined;
    throw new EncumberError(failure, FAILURE_TEXT[failure], { actual });
  }
}

export function describeSignatureFailure(f: SignatureFailure): string {
  return FAILURE_TEXT[f];
}
