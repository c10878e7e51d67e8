/** ECDSA P-384 / SHA-384 verification (noble, pure JS). High-S is allowed: X.509 and COSE do not require low-S. */
import { p384 } from '@noble/curves/nist.js';

/** True iff `signature` (DER or raw r‖s) over SHA-384(message) verifies under the uncompressed `publicKey`. */
export function verifyP384(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, format: 'der' | 'compact'): boolean {
  try {
    return p384.verify(signature, message, publicKey, { prehash: true, lowS: false, format });
  } catch {
    return false;
  }
}
