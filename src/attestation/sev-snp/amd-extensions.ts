/**
 * The AMD extensions of a VCEK or VLEK certificate: the product name, the TCB
 * the key was derived for (one INTEGER per component), the chip's hwID (VCEK)
 * and the cloud provider's name (VLEK). Decoded strictly from the extension's
 * DER value (the raw value the one X.509 parser keeps by OID); a malformed one
 * throws (the caller turns it into InvalidEvidence).
 */
import { readTlv } from '../x509/der.ts';
import type { TcbParts } from './products.ts';

/** AMD VCEK/VLEK extensions, under 1.3.6.1.4.1.3704.1 (AMD pub. 57230, "VCEK Certificate and KDS Interface Specification"). */
const AMD = '1.3.6.1.4.1.3704.1';
export const OID_AMD = {
  structVersion: `${AMD}.1`,
  productName: `${AMD}.2`,
  blSpl: `${AMD}.3.1`,
  teeSpl: `${AMD}.3.2`,
  snpSpl: `${AMD}.3.3`,
  ucodeSpl: `${AMD}.3.8`,
  fmcSpl: `${AMD}.3.9`,
  hwId: `${AMD}.4`,
  cspId: `${AMD}.5`,
} as const;

export interface AmdExtensions {
  /** e.g. 'Milan-B0', 'Genoa'. */
  productName?: string;
  /** The TCB components present (blSPL, teeSPL, snpSPL, ucodeSPL, fmcSPL). */
  tcb: Partial<TcbParts>;
  /** VCEK: the chip's hwID (64 bytes on Milan/Genoa, 8 on Turin). */
  hwId?: Uint8Array;
  /** VLEK: the cloud provider, e.g. 'CN=cc-us-east-2.amazonaws.com'. */
  cspId?: string;
}

const TCB_OIDS: Readonly<Record<string, keyof TcbParts>> = {
  [OID_AMD.blSpl]: 'bootloader',
  [OID_AMD.teeSpl]: 'tee',
  [OID_AMD.snpSpl]: 'snp',
  [OID_AMD.ucodeSpl]: 'microcode',
  [OID_AMD.fmcSpl]: 'fmc',
};

/** The whole value must be one TLV with this tag. */
function single(value: Uint8Array, tag: number, what: string): Uint8Array {
  const t = readTlv(value, 0);
  if (t.tag !== tag || t.end !== value.length) throw new Error(`expected a single ${what}`);
  return value.subarray(t.contentStart, t.end);
}

/** A minimal DER INTEGER in 0..255 (an SPL is one byte in the report). */
function splInteger(value: Uint8Array): number {
  const c = single(value, 0x02, 'INTEGER');
  if (c.length === 1 && c[0]! < 0x80) return c[0]!;
  if (c.length === 2 && c[0] === 0 && c[1]! >= 0x80) return c[1]!;
  throw new Error('expected a minimal INTEGER in 0..255');
}

function ia5(value: Uint8Array): string {
  const c = single(value, 0x16, 'IA5String');
  if (!c.every((b) => b >= 0x20 && b < 0x7f)) throw new Error('IA5String has non-printable characters');
  return String.fromCharCode(...c);
}

/** hwID: the raw bytes (the original KDS form) or a DER OCTET STRING holding them (the newer form). */
function hwId(value: Uint8Array): Uint8Array {
  if (value.length === 64 || value.length === 8) return value.slice();
  if ((value.length === 66 || value.length === 10) && value[0] === 0x04) {
    const c = single(value, 0x04, 'OCTET STRING');
    if (c.length === value.length - 2) return c.slice();
  }
  throw new Error(`hwID of ${value.length} bytes is neither 64/8 raw bytes nor an OCTET STRING of them`);
}

/** Decode one extension into `into` if it is an AMD one we read; others are ignored. */
export function decodeAmdExtension(oid: string, value: Uint8Array, into: AmdExtensions): void {
  const tcbPart = TCB_OIDS[oid];
  if (tcbPart) into.tcb[tcbPart] = splInteger(value);
  else if (oid === OID_AMD.productName) into.productName = ia5(value);
  else if (oid === OID_AMD.hwId) into.hwId = hwId(value);
  else if (oid === OID_AMD.cspId) into.cspId = ia5(value);
}
