/**
 * Type tests shared by the JSON converter and the validator. Only plain
 * objects count as maps: a class instance, Map or Date would otherwise be
 * encoded by DAG-CBOR as a map of its own enumerable fields, silently.
 */
import { CID } from 'multiformats/cid';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** CID.asCID also recognises CIDs built by another copy of multiformats. */
export function asCid(value: unknown): CID | null {
  return typeof value === 'object' && value !== null ? CID.asCID(value) : null;
}

/** Own-property write that stays a plain field even for the key "__proto__". */
export function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** A lone UTF-16 surrogate would be replaced by U+FFFD when encoded as UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;

export function isWellFormedString(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** A short name of a value's type for error messages. */
export function describe(v: unknown): string {
  if (typeof v !== 'object' || v === null) return v === null ? 'null' : typeof v;
  const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name ? `${name} object` : 'object';
}
