/**
 * Handle syntax (atproto.com/specs/handle): a DNS hostname of at least two
 * labels, ASCII only, labels 1–63 characters not starting or ending with a
 * hyphen, the last label starting with a letter; at most 253 characters.
 * Reserved TLDs (.local, .invalid, ...) are a resolution rule, not syntax.
 */
import { syntaxError } from './fail.ts';

const HANDLE =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const MAX_HANDLE_LENGTH = 253;

export function isValidHandle(s: unknown): s is string {
  return typeof s === 'string' && s.length <= MAX_HANDLE_LENGTH && HANDLE.test(s);
}

export function assertHandle(s: unknown): asserts s is string {
  if (!isValidHandle(s)) throw syntaxError('handle', s, 'expected a hostname such as alice.example.com');
}
