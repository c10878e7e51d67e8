/**
 * K-256 on libsecp256k1 (Bitcoin Core's library) in Node: verification for
 * the k256 backend seam (./k256-backend.ts) and the enclave key's signing.
 *
 * The engine is the native binding of the npm package `secp256k1`, loaded
 * from `secp256k1/bindings` — never the package's index.js, which falls back
 * to pure-JS elliptic without a word when the binding is missing. A missing
 * binding is an error here, at import time: a Node process that imports this
 * module runs libsecp256k1 or does not start. The package ships a prebuilt
 * linux-x64 .node, so nothing is compiled; the enclave image carries the same
 * files (enclave/inputs/npm-files.json). It is loaded with a runtime
 * `createRequire`, which bundlers leave alone (as src/enclave/nitro/libc.ts
 * loads koffi).
 *
 * Signing: RFC 6979 nonces (deterministic) and low-S, both by construction in
 * libsecp256k1. Verification: libsecp256k1 rejects high-S itself; the strict
 * form rules are applied before it by verify.ts anyway.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { EncumberError } from '../errors.ts';
import type { K256Backend } from './k256-backend.ts';
import { installK256Backend } from './k256-backend.ts';

/** The part of the binding's API this project uses (node_modules/secp256k1/API.md). */
interface Secp256k1Binding {
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, publicKey: Uint8Array): boolean;
  ecdsaSign(msg32: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  privateKeyVerify(privateKey: Uint8Array): boolean;
  publicKeyCreate(privateKey: Uint8Array, compressed?: boolean): Uint8Array;
}

function loadBinding(): Secp256k1Binding {
  try {
    return createRequire(import.meta.url)('secp256k1/bindings') as Secp256k1Binding;
  } catch (cause) {
    throw new EncumberError('InternalError', `cannot load libsecp256k1 (the native binding of the npm package secp256k1): ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

const native = loadBinding();

/** SHA-256 in OpenSSL (a Buffer is a Uint8Array; it is only handed to the binding). */
const sha256 = (message: Uint8Array): Uint8Array => createHash('sha256').update(message).digest();

function verifyDigest(sig: Uint8Array, digest: Uint8Array, compressedKey: Uint8Array): boolean {
  if (!(digest instanceof Uint8Array) || digest.length !== 32) return false;
  try {
    return native.ecdsaVerify(sig, digest, compressedKey);
  } catch {
    // The binding throws for a key (or signature) it cannot parse: a failed verification, as noble answers.
    return false;
  }
}

export const libsecp256k1Backend: K256Backend = Object.freeze({
  name: 'libsecp256k1',
  verify: (sig: Uint8Array, message: Uint8Array, compressedKey: Uint8Array) => verifyDigest(sig, sha256(message), compressedKey),
  verifyDigest,
});

/** Make k256 verification (src/crypto/verify.ts) use libsecp256k1 in this process. Called by the Node edges. */
export function installLibsecp256k1(): void {
  installK256Backend(libsecp256k1Backend);
}

function assertPrivateKey(priv: Uint8Array): void {
  if (!(priv instanceof Uint8Array) || priv.length !== 32 || !native.privateKeyVerify(priv)) {
    throw new EncumberError('InvalidPrivateKey', 'k256 private key must be 32 bytes in [1, n-1]');
  }
}

/** The 33-byte compressed public key of a private key. */
export function libsecp256k1PublicKey(priv: Uint8Array): Uint8Array {
  assertPrivateKey(priv);
  return native.publicKeyCreate(priv, true);
}

/** Sign SHA-256(message): 64-byte compact r‖s, low-S, RFC 6979 (same message → same signature). */
export function signK256Libsecp256k1(priv: Uint8Array, message: Uint8Array): Uint8Array {
  assertPrivateKey(priv);
  return native.ecdsaSign(sha256(message), priv).signature;
}
