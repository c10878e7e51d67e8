/**
 * Strict schemas for audit-log entries and the three operation types.
 * Unknown fields are rejected everywhere: a field the verifier does not know
 * is still signed and hashed, so accepting it would let meaning hide in it.
 */
import { z } from 'zod';
import { parseDidKeyCached as parseDidKey } from '../crypto/key-cache.ts';

const didKeyString = z.string().refine(
  (s) => {
    try {
      parseDidKey(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a k256 or p256 did:key' },
);

/** Verification methods may name other curves; only lookups need k256/p256. */
const anyDidKey = z.string().regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]+$/, 'must be a did:key (base58btc)');

const cidString = z.string().min(1).max(128);

const service = z.strictObject({ type: z.string(), endpoint: z.string() });

export const plcOperationSchema = z.strictObject({
  type: z.literal('plc_operation'),
  rotationKeys: z.array(didKeyString),
  verificationMethods: z.record(z.string().min(1), anyDidKey),
  alsoKnownAs: z.array(z.string()),
  services: z.record(z.string().min(1), service),
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
  handle: z.string(),
  service: z.string(),
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
