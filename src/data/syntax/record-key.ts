/**
 * Record key syntax (atproto.com/specs/record-key): 1–512 characters of
 * `A-Za-z0-9._:~-`, and not `.` or `..` (they would read as path segments).
 */
import { syntaxError } from './fail.ts';

const RECORD_KEY = /^[a-zA-Z0-9._:~-]{1,512}$/;

export function isValidRecordKey(s: unknown): s is string {
  return typeof s === 'string' && s !== '.' && s !== '..' && RECORD_KEY.test(s);
}

export function assertRecordKey(s: unknown): asserts s is string {
  if (!isValidRecordKey(s)) throw syntaxError('record key', s, 'expected 1-512 of A-Za-z0-9._:~- and not . or ..');
}
