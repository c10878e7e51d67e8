/**
 * Request schemas, applied at the edge. Strict: unknown top-level fields are
 * refused, and `{}` (what a validator sees for a wrong Content-Type) fails.
 */
import { z } from 'zod';

/** The signing request lives with the policy rules (members build it too). */
export { approveUpgradeBody, signPlcOpBody, signRecordBody } from '../policy/request.ts';

/** 1–64 bytes as lowercase or uppercase hex. */
export const attestationQuery = z.strictObject({
  nonce: z.string().regex(/^(?:[0-9a-fA-F]{2}){1,64}$/, 'nonce must be 1–64 bytes of hex'),
});

/** `{"$bytes": base64}` within a length (the base64 text's, checked before decoding). */
const bytesJson = (maxChars: number) => z.strictObject({ $bytes: z.string().max(maxChars) });

/** Key hand-off, round 1: the joiner's fresh nonce (32 bytes). */
export const handoffOfferBody = z.strictObject({ nonce: bytesJson(64) });

/** Key hand-off, round 2: the joiner's request document (data-model JSON) and its evidence. */
export const handoffRequestBody = z.strictObject({
  request: z.record(z.string(), z.unknown()),
  evidence: bytesJson(64 * 1024),
});

