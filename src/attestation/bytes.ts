/**
 * Byte helpers for the attestation code. The codecs themselves (hex, base64,
 * PEM) live once in src/crypto/encoding.ts; this module only names them the
 * way the verifiers use them. No Buffer here: the verifiers run unchanged in
 * a browser page.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { decodePem, encodePem, fromHex, toHex } from '../crypto/encoding.ts';

export { bytesEqual, toHex } from '../crypto/encoding.ts';

/** Lower- or upper-case hex, even length; a UsageError naming `what` otherwise (hex only comes from callers). */
export const hexOption = (s: string, what: string): Uint8Array => fromHex(s, what);

/** SHA-256 of a certificate's DER, as lowercase hex (the form root pins are published in). */
export const fingerprint = (der: Uint8Array): string => toHex(sha256(der));

/** A plain Uint8Array copy (cbor-x hands out Buffers that may share memory with the input). */
export const copyBytes = (b: Uint8Array): Uint8Array => new Uint8Array(b);

/** Every CERTIFICATE block of a PEM text, as DER. Caller-supplied, so a bad PEM is a UsageError. */
export const pemCertificates = (pem: string): Uint8Array[] => decodePem(pem, 'CERTIFICATE');

/** DER → PEM (64-column lines), for display and for persisting dev roots. */
export const certificatePem = (der: Uint8Array): string => encodePem(der, 'CERTIFICATE');
