/**
 * COSE_Sign1 (RFC 9052 §4.2) as the Nitro Secure Module emits it:
 *   [ protected: bstr .cbor { 1 (alg): -35 (ES384) }, unprotected: {}, payload: bstr, signature: bstr(96) ]
 * untagged or with tag 18. Anything else is InvalidEvidence naming the part.
 */
import { Tag } from 'cbor-x';
import { reject } from '../checks.ts';
import { copyBytes } from '../bytes.ts';
import { verifyP384 } from '../x509/ecdsa.ts';
import { decodeStrict } from './cbor.ts';
import { NITRO_LIMITS } from './limits.ts';

export const COSE_SIGN1_TAG = 18;
export const COSE_ALG_LABEL = 1;
export const COSE_ALG_ES384 = -35;

export interface CoseSign1 {
  /** The protected header exactly as signed (the bstr's content). */
  protectedBytes: Uint8Array;
  payload: Uint8Array;
  /** Raw r‖s, 96 bytes. */
  signature: Uint8Array;
  tagged: boolean;
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
function bad(path: string, why: string, actual?: unknown): never {
  return reject('InvalidEvidence', `COSE_Sign1 ${path}: ${why}`, { path, actual });
}

export function parseCoseSign1(bytes: Uint8Array): CoseSign1 {
  // The envelope: one canonical CBOR item, optionally tag 18, an array of four.
  let item = decodeStrict(bytes, 'COSE_Sign1');
  let tagged = false;
  if (item instanceof Tag) {
    if (item.tag !== COSE_SIGN1_TAG) bad('tag', `expected tag ${COSE_SIGN1_TAG} (COSE_Sign1) or none`, item.tag);
    item = item.value;
    tagged = true;
  }
  if (!Array.isArray(item) || item.length !== 4) {
    bad('structure', 'expected an array [protected, unprotected, payload, signature]', describe(item));
  }
  const [prot, unprot, payload, signature] = item as unknown[];

  // Protected header: a bstr holding exactly { 1: -35 }.
  if (!isBytes(prot)) bad('protected', 'must be a byte string', describe(prot));
  const header = decodeStrict(prot, 'protected');
  if (!(header instanceof Map) || header.size !== 1 || header.get(COSE_ALG_LABEL) !== COSE_ALG_ES384) {
    bad('protected', `must be exactly { ${COSE_ALG_LABEL}: ${COSE_ALG_ES384} } (alg ES384)`, describe(header));
  }

  // Unprotected header: empty (nothing unsigned may ride along).
  if (!(unprot instanceof Map) || unprot.size !== 0) bad('unprotected', 'must be an empty map', describe(unprot));

  // Payload: attached (not nil), non-empty.
  if (!isBytes(payload) || payload.length === 0) bad('payload', 'must be a non-empty byte string', describe(payload));

  // Signature: ES384 raw r‖s.
  if (!isBytes(signature) || signature.length !== NITRO_LIMITS.signatureBytes) {
    reject('InvalidEvidence', `COSE_Sign1 signature: must be ${NITRO_LIMITS.signatureBytes} bytes (ES384 r‖s)`, {
      path: 'signature',
      expected: NITRO_LIMITS.signatureBytes,
      actual: isBytes(signature) ? signature.length : describe(signature),
    });
  }
  return { protectedBytes: copyBytes(prot), payload: copyBytes(payload), signature: copyBytes(signature), tagged };
}

/** Sig_structure = ["Signature1", body_protected, external_aad = h'', payload], encoded by hand (RFC 9052 §4.4). */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  const context = new TextEncoder().encode('Signature1');
  const parts = [
    new Uint8Array([0x84]),
    head(3, context.length),
    context,
    head(2, protectedBytes.length),
    protectedBytes,
    head(2, 0),
    head(2, payload.length),
    payload,
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** CBOR head (major type + shortest length), lengths below 2^32. */
function head(major: number, len: number): Uint8Array {
  const m = major << 5;
  if (len < 24) return new Uint8Array([m | len]);
  if (len < 0x100) return new Uint8Array([m | 24, len]);
  if (len < 0x10000) return new Uint8Array([m | 25, len >> 8, len & 0xff]);
  return new Uint8Array([m | 26, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
}

/** The COSE signature verifies under the leaf certificate's P-384 key. */
export function verifyCoseSignature(cose: CoseSign1, leafPublicKey: Uint8Array): boolean {
  return verifyP384(cose.signature, sigStructure(cose.protectedBytes, cose.payload), leafPublicKey, 'compact');
}

/** A short description of a decoded value for error details. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (v instanceof Map) return `map(${v.size})`;
  if (v instanceof Tag) return `tag(${v.tag})`;
  if (typeof v === 'string') return `text(${v.length})`;
  return `${typeof v}(${String(v).slice(0, 40)})`;
}
