/**
 * Resource limits for untrusted data. Defaults follow the atproto reference
 * implementation (indigo atdata): 1 MiB records, 32 nesting levels,
 * 128 Ki entries per list or map. A policy narrows them (maxRecordBytes).
 */
import { EncumberError } from '../errors.ts';

export interface DataLimits {
  /** Nesting of lists and maps; the top-level value is depth 1. */
  readonly maxDepth: number;
  /** UTF-8 length of any one string, map keys included. */
  readonly maxStringBytes: number;
  /** Length of any one byte string. */
  readonly maxBytesLength: number;
  /** Entries in any one list or map. */
  readonly maxContainerLength: number;
  /** Size of the whole value as DAG-CBOR. */
  readonly maxEncodedBytes: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_DATA_LIMITS: DataLimits = Object.freeze({
  maxDepth: 32,
  maxStringBytes: MIB,
  maxBytesLength: MIB,
  maxContainerLength: 128 * 1024,
  maxEncodedBytes: MIB,
});

export function resolveLimits(limits: Partial<DataLimits> = {}): DataLimits {
  const out = { ...DEFAULT_DATA_LIMITS };
  for (const key of Object.keys(DEFAULT_DATA_LIMITS) as (keyof DataLimits)[]) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new EncumberError('UsageError', `limit ${key} must be a non-negative integer`, { actual: v });
    }
    out[key] = v;
  }
  return out;
}

export function tooLarge(what: string, limit: number, actual: number, path: string): EncumberError {
  return new EncumberError('TooLarge', `${what} at ${path} is ${actual}, limit ${limit}`, {
    expected: limit,
    actual,
    path,
  });
}
