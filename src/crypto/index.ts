export * from './curves.ts';
export * from './did-key.ts';
export * from './encoding.ts';
export * from './verify.ts';
export * from './k256-signer.ts';
