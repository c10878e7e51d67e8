/**
 * Signature checks through WebCrypto (globalThis.crypto.subtle: Node ≥ 20 and
 * every browser in a secure context), so this folder needs no node: import.
 * RSASSA-PSS has no pure-JS implementation among our dependencies, and
 * WebCrypto's ECDSA P-384 is several times faster than noble's here.
 *
 * Both helpers resolve to a boolean and never reject: a key that will not
 * import or a malformed signature is simply "does not verify".
 */
import { EncumberError } from '../../errors.ts';
import { PSS_SALT_BYTES } from './oids.ts';

/** WebCrypto, or an InternalError: without it nothing can be verified (an environment problem, not bad evidence). */
export function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new EncumberError('InternalError', 'WebCrypto (globalThis.crypto.subtle) is unavailable: RSA-PSS certificates and SEV-SNP reports need it (Node ≥ 20, or a browser page served over https)');
  return s;
}

/** Copy into a fresh ArrayBuffer-backed view (WebCrypto's BufferSource typing, and no shared memory). */
const buf = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

/** RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48, with the issuer's SubjectPublicKeyInfo. */
export async function verifyRsaPss(issuerSpki: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  try {
    const key = await subtle().importKey('spki', buf(issuerSpki), { name: 'RSA-PSS', hash: 'SHA-384' }, false, ['verify']);
    return await subtle().verify({ name: 'RSA-PSS', saltLength: PSS_SALT_BYTES }, key, buf(signature), buf(message));
  } catch {
    return false;
  }
}

/** ECDSA P-384 / SHA-384; `signature` is r ‖ s, big-endian, 48 bytes each; `point` is the 97-byte uncompressed key. */
export async function verifyEcdsaP384(point: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  try {
    const key = await subtle().importKey('raw', buf(point), { name: 'ECDSA', namedCurve: 'P-384' }, false, ['verify']);
    return await subtle().verify({ name: 'ECDSA', hash: 'SHA-384' }, key, buf(signature), buf(message));
  } catch {
    return false;
  }
}
