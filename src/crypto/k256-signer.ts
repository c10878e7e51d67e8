/**
 * K-256 signing: 64-byte compact, low-S, deterministic (RFC 6979) signatures
 * over a SHA-256 digest. The enclave's key holder wraps this; this module holds
 * no key itself.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { EncumberError } from '../errors.ts';
import { K256 } from './curves.ts';
import { formatDidKey } from './did-key.ts';

export function generateK256PrivateKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

export function assertK256PrivateKey(priv: Uint8Array): void {
  if (!(priv instanceof Uint8Array) || priv.length !== 32 || !secp256k1.utils.isValidSecretKey(priv)) {
    throw new EncumberError('InvalidPrivateKey', 'k256 private key must be 32 bytes in [1, n-1]');
  }
}

export function k256DidKey(priv: Uint8Array): string {
  assertK256PrivateKey(priv);
  return formatDidKey(K256, secp256k1.getPublicKey(priv, true));
}

export function signK256Digest(priv: Uint8Array, digest: Uint8Array): Uint8Array {
  assertK256PrivateKey(priv);
  if (!(digest instanceof Uint8Array) || digest.length !== 32) {
    throw new EncumberError('UsageError', 'digest must be 32 bytes (SHA-256)');
  }
  return secp256k1.sign(digest, priv, { prehash: false, lowS: true, format: 'compact' });
}

/** Sign SHA-256(message): the atproto convention (message = DAG-CBOR bytes). */
export function signK256(priv: Uint8Array, message: Uint8Array): Uint8Array {
  return signK256Digest(priv, sha256(message));
}
