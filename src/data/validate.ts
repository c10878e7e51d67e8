/**
 * Is this value atproto data (atproto.com/specs/data-model)? Checked in one
 * walk, before anything is encoded, hashed or signed:
 *
 * - kinds: null, boolean, integer, string, bytes (Uint8Array), link (CID),
 *   list, map (plain object with string keys). Nothing else: no undefined,
 *   functions, symbols, bigints, Dates, Maps or class instances, which DAG-CBOR
 *   would reject or, worse, silently encode as something else.
 * - numbers: integers within ±(2^53−1); floats, NaN and ±Infinity are refused.
 * - strings and keys: well-formed Unicode (a lone surrogate would become U+FFFD).
 * - links: CIDv1 with the dag-cbor or raw codec (atproto's blessed CIDs).
 * - map keys `$bytes` and `$link` are refused: in JSON they would read back
 *   as bytes or a link, so the data would not round-trip.
 * - `$type`, where present, is a non-empty string; `$type: "blob"` needs
 *   `ref` (a raw-codec link), a non-empty `mimeType` and a positive integer `size`.
 * - limits (see limits.ts) → TooLarge; everything else → InvalidDataModel.
 */
import type { CID } from 'multiformats/cid';
import { EncumberError } from '../errors.ts';
import { encodeCbor } from './cbor.ts';
import { RAW_CODEC } from './cid.ts';
import { asCid, describe, isPlainObject, isWellFormedString } from './kinds.ts';
import { resolveLimits, tooLarge, type DataLimits } from './limits.ts';
import { formatPath, type PathSegment } from './path.ts';
import { linkCidProblem } from './syntax/cid.ts';
import type { IpldMap, IpldValue } from './types.ts';

/** UTF-8 byte length of a well-formed string (no Buffer: this module also runs in a browser). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4; // a surrogate pair: one 4-byte code point
      i++;
    } else n += 3;
  }
  return n;
}

class Walker {
  private readonly path: PathSegment[] = [];
  /** Lower bound of the DAG-CBOR size, so huge values fail before encoding. */
  private size = 0;

  private readonly limits: DataLimits;

  constructor(limits: DataLimits) {
    this.limits = limits;
  }

  invalid(message: string, extra?: PathSegment): EncumberError {
    const at = formatPath(extra === undefined ? this.path : [...this.path, extra]);
    return new EncumberError('InvalidDataModel', `${message} at ${at}`, { path: at });
  }

  private grow(n: number): void {
    this.size += n;
    if (this.size > this.limits.maxEncodedBytes) {
      throw tooLarge('encoded size', this.limits.maxEncodedBytes, this.size, formatPath(this.path));
    }
  }

  private string(s: string, what: string): void {
    if (!isWellFormedString(s)) throw this.invalid(`${what} has an unpaired UTF-16 surrogate`);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: skip the count when it cannot matter.
    const bytes = s.length * 3 <= this.limits.maxStringBytes ? s.length : utf8Length(s);
    if (bytes > this.limits.maxStringBytes) {
      throw tooLarge(`${what} length`, this.limits.maxStringBytes, bytes, formatPath(this.path));
    }
    this.grow(1 + bytes);
  }

  private enter(depth: number, length: number): void {
    if (depth > this.limits.maxDepth) {
      throw tooLarge('nesting depth', this.limits.maxDepth, depth, formatPath(this.path));
    }
    if (length > this.limits.maxContainerLength) {
      throw tooLarge('container length', this.limits.maxContainerLength, length, formatPath(this.path));
    }
    this.grow(1);
  }

  value(v: unknown, depth: number): void {
    switch (typeof v) {
      case 'boolean':
        this.grow(1);
        return;
      case 'number':
        if (Number.isNaN(v) || !Number.isFinite(v)) throw this.invalid(`${v} is not allowed`);
        if (!Number.isInteger(v)) throw this.invalid('floats are not allowed');
        if (!Number.isSafeInteger(v)) throw this.invalid('integer is outside ±(2^53-1)');
        this.grow(1);
        return;
      case 'string':
        this.string(v, 'string');
        return;
      case 'object':
        if (v === null) {
          this.grow(1);
          return;
        }
        if (v instanceof Uint8Array) {
          if (v.length > this.limits.maxBytesLength) {
            throw tooLarge('bytes length', this.limits.maxBytesLength, v.length, formatPath(this.path));
          }
          this.grow(1 + v.length);
          return;
        }
        {
          const cid = asCid(v);
          if (cid !== null) {
            this.link(cid);
            return;
          }
        }
        if (Array.isArray(v)) {
          this.list(v, depth + 1);
          return;
        }
        if (isPlainObject(v)) {
          this.map(v, depth + 1);
          return;
        }
        throw this.invalid(`${describe(v)} is not in the data model`);
      default:
        throw this.invalid(`${describe(v)} is not in the data model`);
    }
  }

  private link(cid: CID): void {
    const problem = linkCidProblem(cid);
    if (problem !== undefined) throw this.invalid(problem);
    this.grow(cid.bytes.length);
  }

  private list(list: unknown[], depth: number): void {
    this.enter(depth, list.length);
    for (let i = 0; i < list.length; i++) {
      this.path.push(i);
      this.value(list[i], depth);
      this.path.pop();
    }
  }

  private map(map: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(map);
    this.enter(depth, keys.length);
    for (const key of keys) {
      this.path.push(key);
      this.string(key, 'map key');
      if (key === '$bytes' || key === '$link') throw this.invalid(`map key ${key} is reserved`);
      this.path.pop();
    }
    if (Object.hasOwn(map, '$type')) this.typeField(map);
    for (const key of keys) {
      this.path.push(key);
      this.value(map[key], depth);
      this.path.pop();
    }
  }

  private typeField(map: Record<string, unknown>): void {
    const type = map.$type;
    if (typeof type !== 'string' || type.length === 0) throw this.invalid('$type must be a non-empty string', '$type');
    if (type !== 'blob') return;
    const ref = asCid(map.ref);
    if (ref === null) throw this.invalid('blob ref must be a link', 'ref');
    if (ref.code !== RAW_CODEC) throw this.invalid('blob ref must use the raw codec', 'ref');
    const mimeType = map.mimeType;
    if (typeof mimeType !== 'string' || mimeType.length === 0) {
      throw this.invalid('blob mimeType must be a non-empty string', 'mimeType');
    }
    const size = map.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
      throw this.invalid('blob size must be a positive integer', 'size');
    }
  }
}

function check(value: unknown, limits: DataLimits): Uint8Array {
  new Walker(limits).value(value, 0);
  const bytes = encodeCbor(value);
  if (bytes.length > limits.maxEncodedBytes) throw tooLarge('encoded size', limits.maxEncodedBytes, bytes.length, '$');
  return bytes;
}

function checkRecord(value: unknown, limits: DataLimits): Uint8Array {
  if (!isPlainObject(value)) {
    throw new EncumberError('InvalidDataModel', `a record must be a map, got ${describe(value)}`, { path: '$' });
  }
  return check(value, limits);
}

/** Any data-model value (a list, a string, ...). */
export function validateValue(value: unknown, limits?: Partial<DataLimits>): asserts value is IpldValue {
  check(value, resolveLimits(limits));
}

/** A record: a data-model map at the top level. */
export function validateRecord(value: unknown, limits?: Partial<DataLimits>): asserts value is IpldMap {
  checkRecord(value, resolveLimits(limits));
}

/** Validate a record and return its DAG-CBOR bytes (encoded once, for CID and size). */
export function encodeRecord(value: unknown, limits?: Partial<DataLimits>): Uint8Array {
  return checkRecord(value, resolveLimits(limits));
}
