/** Public API of src/data: DAG-CBOR, CIDs, the atproto data model and identifier syntax. */
export * from './cbor.ts';
export * from './cid.ts';
export * from './json.ts';
export * from './limits.ts';
export * from './record.ts';
export * from './types.ts';
export * from './validate.ts';
export * from './syntax/index.ts';
