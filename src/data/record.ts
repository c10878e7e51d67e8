/**
 * Entry points for untrusted records, from either wire form. Both give the
 * same IPLD map, and both refuse anything that would not re-encode to the
 * same DAG-CBOR bytes.
 */
import { EncumberError } from '../errors.ts';
import { decodeCbor } from './cbor.ts';
import { bytesEqual } from '../crypto/encoding.ts';
import { jsonToIpld } from './json.ts';
import { resolveLimits, type DataLimits } from './limits.ts';
import { encodeRecord, validateRecord } from './validate.ts';
import type { IpldMap } from './types.ts';

/** A record as atproto JSON (already JSON.parse'd) → validated IPLD map. */
export function parseRecordJson(json: unknown, limits?: Partial<DataLimits>): IpldMap {
  const l = resolveLimits(limits);
  const value = jsonToIpld(json, { maxDepth: l.maxDepth });
  validateRecord(value, l);
  return value;
}

/**
 * A record as DAG-CBOR bytes → validated IPLD map. The decoder alone is not
 * enough: it reads floats such as 1.0 back as integers, non-64-bit floats and
 * invalid UTF-8 without complaint, so we also require that the value encodes
 * back to exactly the bytes we were given.
 */
export function parseRecordCbor(bytes: Uint8Array, limits?: Partial<DataLimits>): IpldMap {
  const l = resolveLimits(limits);
  const value = decodeCbor(bytes, l.maxEncodedBytes);
  if (!bytesEqual(encodeRecord(value, l), bytes)) {
    throw new EncumberError('InvalidCbor', 'DAG-CBOR is not in canonical form (it does not re-encode to itself)');
  }
  return value as IpldMap;
}
