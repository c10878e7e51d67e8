/**
 * Request schemas, applied at the edge. Strict: unknown top-level fields are
 * refused, and `{}` (what a validator sees for a wrong Content-Type) fails.
 */
import { z } from 'zod';

const MAX_COSIGNATURES = 64;

export const signRecordBody = z.strictObject({
  repository: z.string().min(1).max(2048),
  collection: z.string().min(1).max(317),
  record: z.record(z.string(), z.unknown()),
  cosignatures: z
    .array(
      z.strictObject({
        issuer: z.string().min(1).max(2048),
        sig: z.strictObject({ $bytes: z.string().max(200) }),
      }),
    )
    .max(MAX_COSIGNATURES),
  plcLogs: z.record(z.string().max(2048), z.unknown()).optional(),
});

/** 1–64 bytes as lowercase or uppercase hex. */
export const attestationQuery = z.strictObject({
  nonce: z.string().regex(/^(?:[0-9a-fA-F]{2}){1,64}$/, 'nonce must be 1–64 bytes of hex'),
});
