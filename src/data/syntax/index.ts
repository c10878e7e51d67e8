export * from './cid.ts';
export * from './datetime.ts';
export * from './did.ts';
export * from './handle.ts';
export * from './nsid.ts';
export * from './record-key.ts';
export * from './tid.ts';
export * from './at-uri.ts';
