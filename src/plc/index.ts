export * from './types.ts';
export { verifyAuditLog, NULLIFICATION_WINDOW_MS } from './verify.ts';
export { verificationMethodKey } from './methods.ts';
export { didForGenesisBytes, PLC_DID } from './did.ts';
