/**
 * Verification-method lookup: the did:key a DID's current state names under
 * a key id (`atproto` is the repo signing key; others, e.g. `encumber`, are
 * added by PLC operations). Accepts the id with or without a leading '#'.
 */
import type { PlcState } from './types.ts';

export function verificationMethodKey(state: PlcState, keyId: string): string | undefined {
  const id = keyId.startsWith('#') ? keyId.slice(1) : keyId;
  if (state.tombstoned) return undefined;
  return Object.hasOwn(state.verificationMethods, id) ? state.verificationMethods[id] : undefined;
}
