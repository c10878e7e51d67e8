/**
 * DID syntax as atproto restricts it (atproto.com/specs/did): `did:`, a
 * lowercase method, then an identifier of ASCII letters, digits and `._:%-`
 * that does not end in `:` or `%`; at most 2048 characters. This is syntax
 * only: it says nothing about whether the DID resolves.
 */
import { syntaxError } from './fail.ts';

const DID = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/;
const MAX_DID_LENGTH = 2048;

/** did:plc is "did:plc:" + 24 characters of lowercase base32. */
const DID_PLC = /^did:plc:[a-z2-7]{24}$/;

export function isValidDid(s: unknown): s is string {
  return typeof s === 'string' && s.length <= MAX_DID_LENGTH && DID.test(s);
}

export function assertDid(s: unknown): asserts s is string {
  if (typeof s !== 'string') throw syntaxError('DID', s, 'not a string');
  if (s.length > MAX_DID_LENGTH) throw syntaxError('DID', s, `longer than ${MAX_DID_LENGTH} characters`);
  if (!DID.test(s)) throw syntaxError('DID', s, 'does not match did:<method>:<identifier>');
}

export function isValidDidPlc(s: unknown): s is string {
  return typeof s === 'string' && DID_PLC.test(s);
}

export function assertDidPlc(s: unknown): asserts s is string {
  if (!isValidDidPlc(s)) throw syntaxError('did:plc', s, 'expected "did:plc:" and 24 base32 characters');
}
