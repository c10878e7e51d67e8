/**
 * The signing request (DESIGN.md "HTTP API", signRecord): what members build
 * and co-sign (src/member) and what the enclave decides on (src/enclave,
 * src/server). Strict: unknown top-level fields are refused, and `{}` (what a
 * validator sees for a wrong Content-Type) fails.
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

export type SignRecordRequest = z.infer<typeof signRecordBody>;
