/**
 * atproto JSON ↔ IPLD data model (atproto.com/specs/data-model#json-representation).
 *
 * JSON has no bytes and no links, so atproto spells them as one-key objects:
 * `{"$bytes": base64}` and `{"$link": cid}`. Such an object with any other key,
 * or with a value of the wrong type, is not valid data (it is never a plain map).
 * Both directions only convert; `validate.ts` enforces the rest of the model.
 */
import type { CID } from 'multiformats/cid';
import { decodeBase64, encodeBase64 } from '../crypto/encoding.ts';
import { EncumberError } from '../errors.ts';
import { asCid, describe, isPlainObject, setField } from './kinds.ts';
import { DEFAULT_DATA_LIMITS, tooLarge } from './limits.ts';
import { formatPath, type PathSegment } from './path.ts';
import { parseLinkCid } from './syntax/cid.ts';
import type { IpldValue, JsonValue } from './types.ts';

export interface ConvertOptions {
  /** Nesting of lists and maps allowed before giving up (TooLarge). */
  maxDepth?: number;
}

function invalid(message: string, path: readonly PathSegment[], cause?: unknown): EncumberError {
  const at = formatPath(path);
  return new EncumberError('InvalidDataModel', `${message} at ${at}`, { path: at, cause });
}

/**
 * `$bytes` is RFC 4648 §4 base64. The spec makes `=` padding optional, so we
 * read both forms (exact padding only) and always write the unpadded one.
 * Non-zero trailing bits are refused: each byte string has one spelling.
 */
function decodeBytesField(s: string, path: readonly PathSegment[]): Uint8Array {
  try {
    return decodeBase64(s, 'optional');
  } catch (cause) {
    throw invalid(`$bytes is not valid base64: ${(cause as Error).message}`, path, cause);
  }
}

function convertSpecial(obj: Record<string, unknown>, key: '$bytes' | '$link', path: PathSegment[]): IpldValue {
  path.push(key);
  try {
    if (Object.keys(obj).length !== 1) throw invalid(`a ${key} object must have no other fields`, path);
    const v = obj[key];
    if (typeof v !== 'string') throw invalid(`${key} must be a string`, path);
    if (key === '$bytes') return decodeBytesField(v, path);
    try {
      return parseLinkCid(v);
    } catch (cause) {
      throw invalid('$link is not a valid CID link', path, cause);
    }
  } finally {
    path.pop();
  }
}

function depthCheck(depth: number, max: number, path: readonly PathSegment[]): void {
  if (depth > max) throw tooLarge('nesting depth', max, depth, formatPath(path));
}

/** atproto JSON (as parsed by JSON.parse) → IPLD value. The input is not modified. */
export function jsonToIpld(value: unknown, opts: ConvertOptions = {}): IpldValue {
  const maxDepth = opts.maxDepth ?? DEFAULT_DATA_LIMITS.maxDepth;
  const path: PathSegment[] = [];

  const convert = (v: unknown, depth: number): IpldValue => {
    if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
    if (Array.isArray(v)) {
      depthCheck(depth + 1, maxDepth, path);
      const out: IpldValue[] = [];
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        out.push(convert(v[i], depth + 1));
        path.pop();
      }
      return out;
    }
    if (isPlainObject(v)) {
      // Checked first: bytes and links are not containers, they add no depth.
      if (Object.hasOwn(v, '$bytes')) return convertSpecial(v, '$bytes', path);
      if (Object.hasOwn(v, '$link')) return convertSpecial(v, '$link', path);
      depthCheck(depth + 1, maxDepth, path);
      const out: Record<string, IpldValue> = {};
      for (const key of Object.keys(v)) {
        path.push(key);
        setField(out, key, convert(v[key], depth + 1));
        path.pop();
      }
      return out;
    }
    throw invalid(`${describe(v)} is not a JSON value`, path);
  };

  return convert(value, 0);
}

/** IPLD value → atproto JSON: bytes as unpadded `$bytes`, CIDs as `$link` strings. */
export function ipldToJson(value: unknown, opts: ConvertOptions = {}): JsonValue {
  const maxDepth = opts.maxDepth ?? DEFAULT_DATA_LIMITS.maxDepth;
  const path: PathSegment[] = [];

  const convert = (v: unknown, depth: number): JsonValue => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw invalid(`number ${v} is not a safe integer`, path);
      return v;
    }
    if (v instanceof Uint8Array) return { $bytes: encodeBase64(v) };
    const cid: CID | null = asCid(v);
    if (cid !== null) return { $link: cid.toString() };
    if (Array.isArray(v)) {
      depthCheck(depth + 1, maxDepth, path);
      const out: JsonValue[] = [];
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        out.push(convert(v[i], depth + 1));
        path.pop();
      }
      return out;
    }
    if (isPlainObject(v)) {
      depthCheck(depth + 1, maxDepth, path);
      // A map keyed "$bytes"/"$link" would read back as bytes or a link.
      for (const reserved of ['$bytes', '$link']) {
        if (Object.hasOwn(v, reserved)) throw invalid(`map key ${reserved} is reserved`, [...path, reserved]);
      }
      const out: Record<string, JsonValue> = {};
      for (const key of Object.keys(v)) {
        path.push(key);
        setField(out, key, convert(v[key], depth + 1));
        path.pop();
      }
      return out;
    }
    throw invalid(`${describe(v)} is not in the data model`, path);
  };

  return convert(value, 0);
}
