/**
 * ECDSA P-384 / SHA-384 verification. High-S is allowed: X.509 and COSE do
 * not require low-S.
 *
 * In Node the check runs in OpenSSL (≈ 0.3 ms instead of ≈ 4 ms in pure JS,
 * which is what keeps a 5-certificate Nitro document under 2 ms); elsewhere
 * (a browser) noble does it. node:crypto is reached through
 * process.getBuiltinModule, never imported, so this module stays
 * browser-safe. Both paths give the same answers (a test compares them).
 */
import { p384 } from '@noble/curves/nist.js';
import { toHex } from '../../crypto/encoding.ts';

type NodeCrypto = typeof import('node:crypto');

const nodeCrypto: NodeCrypto | undefined = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:crypto') as NodeCrypto) : undefined;
})();

// SubjectPublicKeyInfo header for an uncompressed P-384 point (97 bytes).
const SPKI_P384_PREFIX = new Uint8Array([
  0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
]);

const keyCache = new Map<string, unknown>();

function nodeKey(c: NodeCrypto, publicKey: Uint8Array) {
  const id = toHex(publicKey);
  let k = keyCache.get(id);
  if (!k) {
    const der = new Uint8Array(SPKI_P384_PREFIX.length + publicKey.length);
    der.set(SPKI_P384_PREFIX, 0);
    der.set(publicKey, SPKI_P384_PREFIX.length);
    k = c.createPublicKey({ key: der as never, format: 'der', type: 'spki' });
    if (keyCache.size >= 256) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(id, k);
  }
  return k as ReturnType<NodeCrypto['createPublicKey']>;
}

/** Pure-JS path (noble). Exported for the agreement test. */
export function verifyP384Noble(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, format: 'der' | 'compact'): boolean {
  try {
    return p384.verify(signature, message, publicKey, { prehash: true, lowS: false, format });
  } catch {
    return false;
  }
}

/** True iff `signature` (DER or raw r‖s) over SHA-384(message) verifies under the uncompressed `publicKey`. */
export function verifyP384(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, format: 'der' | 'compact'): boolean {
  if (!nodeCrypto || publicKey.length !== 97 || publicKey[0] !== 0x04) return verifyP384Noble(signature, message, publicKey, format);
  if (format === 'compact' && signature.length !== 96) return false;
  try {
    return nodeCrypto.verify('sha384', message, { key: nodeKey(nodeCrypto, publicKey), dsaEncoding: format === 'der' ? 'der' : 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
