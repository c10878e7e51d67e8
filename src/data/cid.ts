/**
 * CIDv1 (dag-cbor 0x71, sha2-256) of DAG-CBOR documents, and strict parsing of
 * CID strings. The CID's multihash digest is the SHA-256 that gets signed.
 */
import { CID } from 'multiformats/cid';
import { sha256 } from '@noble/hashes/sha2.js';
import * as Digest from 'multiformats/hashes/digest';
import { EncumberError } from '../errors.ts';
import { encodeCbor } from './cbor.ts';

export const DAG_CBOR_CODEC = 0x71;
export const RAW_CODEC = 0x55;
export const SHA2_256 = 0x12;

export { CID };

export function cidForCborBytes(bytes: Uint8Array): CID {
  return CID.createV1(DAG_CBOR_CODEC, Digest.create(SHA2_256, sha256(bytes)));
}

export function cidForValue(value: unknown): CID {
  return cidForCborBytes(encodeCbor(value));
}

/** A document with its DAG-CBOR bytes and their CID (what is signed, and what attestations name). */
export interface EncodedDocument<T> {
  value: T;
  bytes: Uint8Array;
  cid: CID;
}

export function encodeDocument<T>(value: T): EncodedDocument<T> {
  const bytes = encodeCbor(value);
  return { value, bytes, cid: cidForCborBytes(bytes) };
}

/**
 * Parse a CID string. With `strictDagCbor` (the default), only CIDv1 dag-cbor
 * sha2-256 in base32 is accepted, and the string must be canonical (it must
 * re-encode to itself).
 */
export function parseCid(s: string, opts: { strictDagCbor?: boolean } = {}): CID {
  const strict = opts.strictDagCbor ?? true;
  if (typeof s !== 'string' || s.length === 0 || s.length > 256) {
    throw new EncumberError('InvalidCid', 'expected a CID string');
  }
  let cid: CID;
  try {
    cid = CID.parse(s);
  } catch (cause) {
    throw new EncumberError('InvalidCid', `not a CID: ${JSON.stringify(s.slice(0, 80))}`, { cause });
  }
  if (strict) {
    if (cid.version !== 1 || cid.code !== DAG_CBOR_CODEC || cid.multihash.code !== SHA2_256) {
      throw new EncumberError('InvalidCid', 'expected CIDv1 dag-cbor sha2-256', {
        actual: { version: cid.version, codec: cid.code, hash: cid.multihash.code },
      });
    }
    if (cid.toString() !== s) {
      throw new EncumberError('InvalidCid', 'CID string is not in canonical base32 form', { actual: s });
    }
  }
  return cid;
}
