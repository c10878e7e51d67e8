/**
 * Verification-method lookup: the did:key a DID names under a key id
 * (`atproto` is the repo signing key; others, e.g. `encumber`, are added by
 * PLC operations). Accepts the id with or without a leading '#'.
 */
import type { PlcAnyOperation, PlcState } from './types.ts';

function lookup(methods: Record<string, string>, keyId: string): string | undefined {
  const id = keyId.startsWith('#') ? keyId.slice(1) : keyId;
  return Object.hasOwn(methods, id) ? methods[id] : undefined;
}

/** In a verified state (none when tombstoned). */
export function verificationMethodKey(state: PlcState, keyId: string): string | undefined {
  return state.tombstoned ? undefined : lookup(state.verificationMethods, keyId);
}

/** As of one operation (legacy create: #atproto = signingKey; a tombstone names none). */
export function verificationMethodAtOperation(op: PlcAnyOperation, keyId: string): string | undefined {
  if (op.type === 'plc_operation') return lookup(op.verificationMethods, keyId);
  if (op.type === 'create') return lookup({ atproto: op.signingKey }, keyId);
  return undefined;
}
