/**
 * A minimal strict DER reader: just enough to cut a certificate into its raw
 * parts (the signed tbsCertificate bytes, the issuer and subject names as
 * bytes) before any library interprets them. Definite, minimal lengths only;
 * single-byte tags only (all X.509 needs at this level).
 */

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

/** Thrown with a short reason; the caller wraps it with the certificate's position. */
export class DerError extends Error {}

export function readTlv(b: Uint8Array, at: number, limit = b.length): Tlv {
  if (at + 2 > limit) throw new DerError(`truncated TLV at ${at}`);
  const tag = b[at]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at ${at}`);
  const first = b[at + 1]!;
  let len: number;
  let contentStart: number;
  if (first < 0x80) {
    len = first;
    contentStart = at + 2;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw new DerError(`indefinite length at ${at}`);
    if (n > 3) throw new DerError(`length of ${n} bytes at ${at}`);
    if (at + 2 + n > limit) throw new DerError(`truncated length at ${at}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[at + 2 + i]!;
    if (b[at + 2]! === 0 || len < 0x80) throw new DerError(`non-minimal length at ${at}`);
    contentStart = at + 2 + n;
  }
  const end = contentStart + len;
  if (end > limit) throw new DerError(`TLV at ${at} runs past its container (${end} > ${limit})`);
  return { tag, start: at, contentStart, end };
}

/** The children of a constructed TLV, which must exactly fill it. */
export function children(b: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let at = parent.contentStart;
  while (at < parent.end) {
    const t = readTlv(b, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

export const SEQUENCE = 0x30;
export const BIT_STRING = 0x03;

/**
 * Cut a certificate into its top-level parts and the parts of its
 * tbsCertificate: SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm
 * SEQUENCE, signatureValue BIT STRING }, nothing after. Throws a short reason
 * (string) for the caller to wrap with the certificate's position.
 */
export function splitCertificate(der: Uint8Array): { parts: Tlv[]; tbsParts: Tlv[] } {
  let parts: Tlv[] = [];
  let tbsParts: Tlv[] = [];
  try {
    const cert = readTlv(der, 0);
    if (cert.tag !== SEQUENCE || cert.end !== der.length) throw new DerError('not a single DER SEQUENCE');
    parts = children(der, cert);
    if (parts[0]?.tag === SEQUENCE) tbsParts = children(der, parts[0]);
  } catch (cause) {
    throw new DerError(`malformed DER: ${(cause as Error).message}`);
  }
  if (parts.length !== 3 || parts[0]!.tag !== SEQUENCE || parts[1]!.tag !== SEQUENCE || parts[2]!.tag !== BIT_STRING) {
    throw new DerError('expected SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }');
  }
  return { parts, tbsParts };
}
