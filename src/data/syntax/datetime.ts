/**
 * atproto datetimes (atproto.com/specs/lexicon#datetime): the intersection
 * of RFC 3339 and ISO 8601. Two layers, as the interop fixtures separate them:
 *
 * - syntax: `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`, uppercase `T`/`Z`,
 *   no `-00:00` (RFC 3339's "unknown offset"), at most 64 characters;
 * - meaning: every field in range (month 01–12, day within the month,
 *   hour < 24, minute and second < 60: no leap second, as JS Date has none),
 *   and the instant not before 0000-01-01T00:00:00Z.
 *
 * We parse by hand instead of trusting `Date.parse`, which is lenient
 * (it rolls Feb 30 over, accepts year 0 with offsets that go negative, ...).
 */
import { syntaxError } from './fail.ts';

const DATETIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|([+-])([0-9]{2}):([0-9]{2}))$/;
const MAX_DATETIME_LENGTH = 64;
const EARLIEST_MS = Date.parse('0000-01-01T00:00:00.000Z');

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Epoch milliseconds, or a reason the string is not a datetime. */
function parse(s: unknown): number | { syntax: boolean; reason: string } {
  if (typeof s !== 'string') return { syntax: true, reason: 'not a string' };
  if (s.length > MAX_DATETIME_LENGTH) return { syntax: true, reason: `longer than ${MAX_DATETIME_LENGTH}` };
  const m = DATETIME.exec(s);
  if (m === null) return { syntax: true, reason: 'expected YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)' };
  if (s.endsWith('-00:00')) return { syntax: true, reason: 'offset -00:00 is not allowed' };

  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number, number, number, number, number, number,
  ];
  if (month < 1 || month > 12) return { syntax: false, reason: 'month out of range' };
  if (day < 1 || day > daysInMonth(year, month)) return { syntax: false, reason: 'day out of range' };
  if (hour > 23 || minute > 59 || second > 59) return { syntax: false, reason: 'time out of range' };
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return { syntax: false, reason: 'offset out of range' };
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  // Sub-millisecond digits are truncated, never rounded into the next second.
  const millis = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
  const local = Date.parse(`${s.slice(0, 19)}.${millis}Z`);
  const ms = local - offsetMinutes * 60_000;
  if (!(ms >= EARLIEST_MS)) return { syntax: false, reason: 'before year 0000' };
  return ms;
}

/** Shape only: true for the "parse invalid" fixtures (month 13, 25 o'clock...). */
export function isValidDatetimeSyntax(s: unknown): s is string {
  const r = parse(s);
  return typeof r === 'number' || !r.syntax;
}

export function isValidDatetime(s: unknown): s is string {
  return typeof parse(s) === 'number';
}

/** Validate and return the instant in epoch milliseconds. */
export function parseDatetime(s: unknown): number {
  const r = parse(s);
  if (typeof r !== 'number') throw syntaxError('datetime', s, r.reason);
  return r;
}

export function assertDatetime(s: unknown): asserts s is string {
  parseDatetime(s);
}

/**
 * Our own documents use exactly one spelling per instant:
 * `YYYY-MM-DDThh:mm:ss.mmmZ` (what `Date#toISOString` writes for years 0–9999).
 */
const CANONICAL = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;
const LATEST_CANONICAL_MS = Date.parse('9999-12-31T23:59:59.999Z');

export function isCanonicalUtcMillis(s: unknown): s is string {
  return typeof s === 'string' && CANONICAL.test(s) && isValidDatetime(s);
}

export function assertCanonicalUtcMillis(s: unknown): asserts s is string {
  if (typeof s !== 'string' || !CANONICAL.test(s)) {
    throw syntaxError('UTC datetime with milliseconds', s, 'expected YYYY-MM-DDThh:mm:ss.mmmZ');
  }
  parseDatetime(s);
}

export function toCanonicalUtcMillis(time: Date | number): string {
  const ms = typeof time === 'number' ? time : time.getTime();
  if (!Number.isInteger(ms) || ms < EARLIEST_MS || ms > LATEST_CANONICAL_MS) {
    throw syntaxError('UTC datetime with milliseconds', String(ms), 'time not representable in years 0000-9999');
  }
  return new Date(ms).toISOString();
}
