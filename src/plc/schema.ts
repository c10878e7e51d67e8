/**
 * Strict schemas for audit-log entries and the three operation types.
 * Unknown fields are rejected everywhere: a field the verifier does not know
 * is still signed and hashed, so accepting it would let meaning hide in it.
 */
import { z } from 'zod';
import { parseDidKeyCached as parseDidKey } from '../crypto/key-cache.ts';

/**
 * Resource bounds (not the spec's creation-time rules, which historic logs may
 * break): checked by the schema before any key is parsed, so a hostile log
 * cannot make the verifier decompress thousands of points.
 */
export const PLC_LIMITS = { maxKeys: 64, maxMapEntries: 64, maxStringBytes: 4096 } as const;

/**
 * A k256/p256 did:key in its one canonical spelling (compressed point). A key
 * written uncompressed names the same point under another string, which would
 * let one key appear at two priorities; @did-plc/lib refuses it too.
 */
const didKeyString = z
  .string()
  .max(256)
  .refine(
    (s) => {
      try {
        return parseDidKey(s).did === s;
      } catch {
        return false;
      }
    },
    { message: 'must be a canonical (compressed) k256 or p256 did:key' },
  );

/** Verification methods may name other curves; only lookups need k256/p256. */
const anyDidKey = z.string().max(256).regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]+$/, 'must be a did:key (base58btc)');

const cidString = z.string().min(1).max(128);
const boundedString = z.string().max(PLC_LIMITS.maxStringBytes);

/** Bound the number of entries before any entry is examined. */
function boundedRecord<T extends z.ZodType>(value: T) {
  return z
    .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length <= PLC_LIMITS.maxMapEntries, {
      message: `must be an object with at most ${PLC_LIMITS.maxMapEntries} entries`,
    })
    .pipe(z.record(z.string().min(1).max(256), value));
}

/** Bound the length before any element is examined. */
function boundedArray<T extends z.ZodType>(item: T) {
  return z
    .custom<unknown[]>((v) => Array.isArray(v) && v.length <= PLC_LIMITS.maxKeys, { message: `must be an array of at most ${PLC_LIMITS.maxKeys} items` })
    .pipe(z.array(item));
}

const service = z.strictObject({ type: boundedString, endpoint: boundedString });

export const plcOperationSchema = z.strictObject({
  type: z.literal('plc_operation'),
  rotationKeys: boundedArray(didKeyString),
  verificationMethods: boundedRecord(anyDidKey),
  alsoKnownAs: boundedArray(boundedString),
  services: boundedRecord(service),
  prev: cidString.nullable(),
  sig: z.string(),
});

export const plcTombstoneSchema = z.strictObject({
  type: z.literal('plc_tombstone'),
  prev: cidString,
  sig: z.string(),
});

export const plcLegacyCreateSchema = z.strictObject({
  type: z.literal('create'),
  signingKey: didKeyString,
  recoveryKey: didKeyString,
  handle: boundedString,
  service: boundedString,
  prev: z.null(),
  sig: z.string(),
});

export const plcAnyOperationSchema = z.discriminatedUnion('type', [
  plcOperationSchema,
  plcTombstoneSchema,
  plcLegacyCreateSchema,
]);

/** ISO-8601 UTC with milliseconds, as the directory writes createdAt. */
export const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const plcAuditEntrySchema = z.strictObject({
  did: z.string(),
  operation: z.unknown(),
  cid: z.string(),
  nullified: z.boolean(),
  createdAt: z.string().regex(CREATED_AT, 'must be ISO-8601 UTC with milliseconds and Z'),
});

export function describeZodIssue(error: z.ZodError): { message: string; path: string } {
  const issue = error.issues[0];
  const path = issue ? issue.path.map(String).join('.') : '';
  return { message: issue ? `${path || '(root)'}: ${issue.message}` : 'invalid', path };
}
