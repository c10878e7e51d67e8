/**
 * The attestation document (the COSE payload), field by field in AWS's order:
 *   module_id text, digest "SHA384", timestamp uint (ms), pcrs { 0..31: bstr(48) },
 *   certificate bstr (DER), cabundle [bstr (DER)], public_key / user_data / nonce: absent, null or bstr.
 * Unknown keys are refused. Errors are InvalidEvidence with `path` = the field.
 * Certificates are kept as bytes here; the chain rules parse them after the root pin.
 */
import { reject } from '../checks.ts';
import { copyBytes } from '../bytes.ts';
import { describe } from './cose.ts';
import { decodeStrict } from './cbor.ts';
import { NITRO_LIMITS as L } from './limits.ts';

export interface NitroDocument {
  moduleId: string;
  digest: 'SHA384';
  /** Milliseconds since the epoch, as the NSM wrote it. */
  timestamp: number;
  /** PCR index → 48-byte value, in ascending index order. */
  pcrs: Map<number, Uint8Array>;
  certificate: Uint8Array;
  cabundle: Uint8Array[];
  publicKey: Uint8Array | null;
  userData: Uint8Array | null;
  nonce: Uint8Array | null;
}

const FIELDS = ['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle', 'public_key', 'user_data', 'nonce'];

function bad(path: string, why: string, extra: { expected?: unknown; actual?: unknown; index?: number } = {}): never {
  return reject('InvalidEvidence', `attestation document ${path}: ${why}`, { path, ...extra });
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

function bytesField(v: unknown, path: string, min: number, max: number): Uint8Array {
  if (!isBytes(v)) bad(path, 'must be a byte string', { actual: describe(v) });
  if (v.length < min || v.length > max) {
    bad(path, `length ${v.length} outside ${min}..${max}`, { expected: `${min}..${max}`, actual: v.length });
  }
  return copyBytes(v);
}

function optionalBytes(doc: Map<unknown, unknown>, key: string): Uint8Array | null {
  const v = doc.get(key);
  if (v === undefined && !doc.has(key)) return null;
  if (v === null) return null;
  return bytesField(v, key, 0, L.maxOptionalFieldBytes);
}

export function parseAttestationDocument(payload: Uint8Array): NitroDocument {
  // The payload is one canonical CBOR map with text keys, all known.
  const doc = decodeStrict(payload, 'payload');
  if (!(doc instanceof Map)) bad('payload', 'must be a CBOR map', { actual: describe(doc) });
  for (const key of doc.keys()) {
    if (typeof key !== 'string' || !FIELDS.includes(key)) bad(String(key), 'unknown field', { actual: describe(key) });
  }

  // module_id: non-empty text.
  const moduleId = doc.get('module_id');
  if (typeof moduleId !== 'string' || moduleId.length === 0 || moduleId.length > L.maxModuleIdLength) {
    bad('module_id', `must be text of 1..${L.maxModuleIdLength} characters`, { actual: describe(moduleId) });
  }

  // digest: the PCR hash, SHA384 only.
  const digest = doc.get('digest');
  if (digest !== 'SHA384') bad('digest', 'must be "SHA384"', { expected: 'SHA384', actual: describe(digest) });

  // timestamp: a positive CBOR unsigned integer, milliseconds. cbor-x gives a bigint for 64-bit values and a
  // number below 2^32; a number above 2^32 can only have been a float (decodeStrict kept its encoding).
  const raw = doc.get('timestamp');
  let timestamp: number;
  if (typeof raw === 'bigint' && raw > 0n && raw <= BigInt(Number.MAX_SAFE_INTEGER)) timestamp = Number(raw);
  else if (typeof raw === 'number' && Number.isInteger(raw) && raw > 0 && raw <= 0xffffffff) timestamp = raw;
  else return bad('timestamp', 'must be a positive unsigned integer (ms since the epoch)', { actual: describe(raw) });

  // pcrs: 1..32 entries, index 0..31 → 48-byte SHA-384 value; PCR0 present (the debug rule reads it).
  const rawPcrs = doc.get('pcrs');
  if (!(rawPcrs instanceof Map) || rawPcrs.size < 1 || rawPcrs.size > L.maxPcrs) {
    bad('pcrs', `must be a map of 1..${L.maxPcrs} entries`, { actual: describe(rawPcrs) });
  }
  const pcrs = new Map<number, Uint8Array>();
  for (const [index, value] of rawPcrs) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= L.maxPcrs) {
      bad('pcrs', `index must be an integer 0..${L.maxPcrs - 1}`, { actual: describe(index) });
    }
    pcrs.set(index, bytesField(value, `pcrs[${index}]`, L.pcrBytes, L.pcrBytes));
  }
  if (!pcrs.has(0)) bad('pcrs[0]', 'PCR0 is missing');
  const sortedPcrs = new Map([...pcrs].sort(([a], [b]) => a - b));

  // certificate: the leaf, DER.
  const certificate = bytesField(doc.get('certificate'), 'certificate', 1, L.maxCertificateBytes);

  // cabundle: root first, each DER.
  const rawBundle = doc.get('cabundle');
  if (!Array.isArray(rawBundle) || rawBundle.length < 1 || rawBundle.length > L.maxCabundle) {
    bad('cabundle', `must be an array of 1..${L.maxCabundle} certificates`, { actual: describe(rawBundle) });
  }
  const cabundle = rawBundle.map((c, i) => bytesField(c, `cabundle[${i}]`, 1, L.maxCertificateBytes));

  // public_key, user_data, nonce: optional; absent or null both mean "not supplied".
  return {
    moduleId,
    digest: 'SHA384',
    timestamp,
    pcrs: sortedPcrs,
    certificate,
    cabundle,
    publicKey: optionalBytes(doc, 'public_key'),
    userData: optionalBytes(doc, 'user_data'),
    nonce: optionalBytes(doc, 'nonce'),
  };
}
