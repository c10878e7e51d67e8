/**
 * Public API of src/data: DAG-CBOR, CIDs, the atproto data model and
 * identifier syntax. Helpers not listed here are internal to the folder.
 */
export { decodeCbor, encodeCbor } from './cbor.ts';
export { CID, DAG_CBOR_CODEC, RAW_CODEC, SHA2_256, cidForCborBytes, cidForValue, parseCid } from './cid.ts';
export { ipldToJson, jsonToIpld, type ConvertOptions } from './json.ts';
export { DEFAULT_DATA_LIMITS, resolveLimits, type DataLimits } from './limits.ts';
export { parseRecordCbor, parseRecordJson } from './record.ts';
export type { IpldMap, IpldValue, JsonMap, JsonValue } from './types.ts';
export { encodeRecord, validateRecord, validateValue } from './validate.ts';
export * from './syntax/index.ts';
