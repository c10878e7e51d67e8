/**
 * The signing request (DESIGN.md "HTTP API", signRecord): what members build
 * and co-sign (src/member) and what the enclave decides on (src/enclave,
 * src/server). Strict: unknown top-level fields are refused, and `{}` (what a
 * validator sees for a wrong Content-Type) fails.
 */
import { z } from 'zod';

const MAX_COSIGNATURES = 64;

const cosignatures = z
  .array(
    z.strictObject({
      issuer: z.string().min(1).max(2048),
      sig: z.strictObject({ $bytes: z.string().max(200) }),
    }),
  )
  .max(MAX_COSIGNATURES);

export const signRecordBody = z.strictObject({
  repository: z.string().min(1).max(2048),
  collection: z.string().min(1).max(317),
  record: z.record(z.string(), z.unknown()),
  cosignatures,
  plcLogs: z.record(z.string().max(2048), z.unknown()).optional(),
});

/**
 * An upgrade draft (dev.encumber.approveUpgrade): a dev.encumber.upgrade
 * statement (data-model JSON) and the members' co-signatures over its bytes,
 * with the co-signers' audit logs when the policy takes them supplied.
 */
export const approveUpgradeBody = z.strictObject({
  statement: z.record(z.string(), z.unknown()),
  cosignatures,
  plcLogs: z.record(z.string().max(2048), z.unknown()).optional(),
});

export type SignRecordRequest = z.infer<typeof signRecordBody>;

/** The DID guard's request (dev.encumber.signPlcOp): members build it too (src/member/did-ops.ts). */
export const signPlcOpBody = z.strictObject({
  repository: z.string().min(1).max(2048),
  operation: z.record(z.string(), z.unknown()),
  cosignatures: z
    .array(
      z.strictObject({
        issuer: z.string().min(1).max(2048),
        sig: z.strictObject({ $bytes: z.string().max(200) }),
      }),
    )
    .max(MAX_COSIGNATURES),
});
