/**
 * Attestation evidence: verify (pure, browser-safe) and, for the dev
 * platform, issue. Verifiers return a verdict with check rows and never throw
 * on bad evidence; see types.ts.
 */
export type { AttestationCheck, AttestationFailure } from './types.ts';
export { isAttestationError } from './checks.ts';
export * from './nitro/index.ts';
export * from './dev/index.ts';
