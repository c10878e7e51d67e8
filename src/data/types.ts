/**
 * The two shapes of atproto data: the IPLD data model (what DAG-CBOR encodes
 * and what gets hashed and signed) and its JSON representation (what travels
 * over HTTP, with `$bytes` and `$link` objects standing in for bytes and CIDs).
 */
import type { CID } from 'multiformats/cid';

export type IpldValue = null | boolean | number | string | Uint8Array | CID | IpldValue[] | IpldMap;
export interface IpldMap {
  [key: string]: IpldValue;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonMap;
export interface JsonMap {
  [key: string]: JsonValue;
}
