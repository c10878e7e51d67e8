/**
 * Co-signing a draft. A draft is exactly a signRecord request body
 * ({ repository, collection, record, cosignatures, plcLogs? }), so members
 * pass one file around, each adds a co-signature, and the last submits it.
 */
import type { z } from 'zod';
import { EncumberError } from '../errors.ts';
import { encodeBase64 } from '../crypto/encoding.ts';
import { parseRecordJson } from '../data/record.ts';
import { buildPayload, type IpldRecord } from '../policy/payload.ts';
import { signRecordBody } from '../policy/request.ts';
import type { MemberKey } from './keys.ts';

export type Draft = z.infer<typeof signRecordBody>;

export function parseDraft(value: unknown): Draft {
  const parsed = signRecordBody.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EncumberError('UsageError', `not a draft: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The payload CID and bytes a draft's co-signers sign. */
export function draftPayload(draft: Draft) {
  return buildPayload(parseRecordJson(draft.record) as IpldRecord, draft.repository, draft.collection);
}

/** A new draft with `issuer`'s co-signature added (replacing an earlier one from the same issuer). */
export function cosignDraft(draft: Draft, key: MemberKey, issuer: string): { draft: Draft; cid: string } {
  const payload = draftPayload(draft);
  const sig = key.sign(payload.bytes);
  const others = draft.cosignatures.filter((c) => c.issuer !== issuer);
  return {
    draft: { ...draft, cosignatures: [...others, { issuer, sig: { $bytes: encodeBase64(sig) } }] },
    cid: payload.cid.toString(),
  };
}
