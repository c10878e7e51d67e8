/**
 * Byte helpers for the attestation code. No Buffer here: the verifiers are
 * meant to run unchanged in a browser page (noble + cbor-x + asn1 are pure JS).
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { EncumberError } from '../errors.ts';

export { bytesEqual } from '../crypto/encoding.ts';

export const toHex = (bytes: Uint8Array): string => bytesToHex(bytes);

/** Lower- or upper-case hex, even length; a UsageError otherwise (hex only comes from callers). */
export function hexOption(s: string, what: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new EncumberError('UsageError', `${what}: expected an even-length hex string`, { actual: s });
  }
  return hexToBytes(s.toLowerCase());
}

/** SHA-256 of a certificate's DER, as lowercase hex (the form root pins are published in). */
export const fingerprint = (der: Uint8Array): string => bytesToHex(sha256(der));

/** A plain Uint8Array copy (cbor-x hands out Buffers that may share memory with the input). */
export const copyBytes = (b: Uint8Array): Uint8Array => new Uint8Array(b);

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;

/** Every CERTIFICATE block of a PEM text, as DER. Caller-supplied, so a bad PEM is a UsageError. */
export function pemCertificates(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of pem.matchAll(PEM_BLOCK)) {
    const b64 = m[1]!.replace(/\s+/g, '');
    let bin: string;
    try {
      bin = atob(b64);
    } catch (cause) {
      throw new EncumberError('UsageError', `PEM certificate ${out.length}: invalid base64`, { cause });
    }
    out.push(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  }
  if (out.length === 0) throw new EncumberError('UsageError', 'no -----BEGIN CERTIFICATE----- block in the PEM text');
  return out;
}

/** DER → PEM (64-column lines), for display and for persisting dev roots. */
export function certificatePem(der: Uint8Array): string {
  let bin = '';
  for (const b of der) bin += String.fromCharCode(b);
  const lines = btoa(bin).match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
