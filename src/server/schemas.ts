/**
 * Request schemas, applied at the edge. Strict: unknown top-level fields are
 * refused, and `{}` (what a validator sees for a wrong Content-Type) fails.
 */
import { z } from 'zod';

/** The signing request lives with the policy rules (members build it too). */
export { signRecordBody } from '../policy/request.ts';

/** 1–64 bytes as lowercase or uppercase hex. */
export const attestationQuery = z.strictObject({
  nonce: z.string().regex(/^(?:[0-9a-fA-F]{2}){1,64}$/, 'nonce must be 1–64 bytes of hex'),
});
