/**
 * NSID syntax (atproto.com/specs/nsid, as the interop fixtures have it):
 * a reversed domain authority of at least two segments, the first starting
 * with a letter, then a name of a letter followed by letters or digits.
 * Segments are 1–63 characters, the whole at most 317. Case is kept.
 */
import { syntaxError } from './fail.ts';

const SEGMENT = '[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?';
const NSID = new RegExp(`^[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.${SEGMENT})+\\.[a-zA-Z][a-zA-Z0-9]{0,62}$`);
const MAX_NSID_LENGTH = 253 + 1 + 63;

export function isValidNsid(s: unknown): s is string {
  return typeof s === 'string' && s.length <= MAX_NSID_LENGTH && NSID.test(s);
}

export function assertNsid(s: unknown): asserts s is string {
  if (typeof s !== 'string') throw syntaxError('NSID', s, 'not a string');
  if (s.length > MAX_NSID_LENGTH) throw syntaxError('NSID', s, `longer than ${MAX_NSID_LENGTH} characters`);
  if (!NSID.test(s)) throw syntaxError('NSID', s, 'expected authority.segments.name');
}
