/**
 * CIDs and DIDs of generated operations, computed here with @ipld/dag-cbor and
 * multiformats directly (not through src/), so the generator is an independent
 * witness of what the verifier computes.
 */
import { createHash } from 'node:crypto';
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { base32 } from 'multiformats/bases/base32';

const DAG_CBOR = 0x71;
const SHA2_256 = 0x12;

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest());

/** CIDv1 dag-cbor sha2-256 of a signed operation, base32 string. */
export function cidOf(op: unknown): string {
  return CID.createV1(DAG_CBOR, Digest.create(SHA2_256, sha256(dagCbor.encode(op)))).toString();
}

/** "did:plc:" + first 24 characters of base32(sha256(DAG-CBOR(signed genesis))). */
export function didOf(genesis: unknown): string {
  return 'did:plc:' + base32.baseEncode(sha256(dagCbor.encode(genesis))).slice(0, 24);
}

/** The directory's createdAt format: ISO-8601 UTC with milliseconds. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;
/** The recovery window of the PLC nullification rule (inclusive). */
export const WINDOW_MS = 72 * HOUR_MS;
