/**
 * TID syntax (atproto.com/specs/tid): 13 characters of base32-sortable
 * (`234567a-z`), the first limited so that the top bit of the 64-bit value is 0.
 */
import { syntaxError } from './fail.ts';

const TID = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;

export function isValidTid(s: unknown): s is string {
  return typeof s === 'string' && TID.test(s);
}

export function assertTid(s: unknown): asserts s is string {
  if (!isValidTid(s)) throw syntaxError('TID', s, 'expected 13 base32-sortable characters');
}
