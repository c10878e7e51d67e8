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
import { approveUpgradeBody, signRecordBody } from '../policy/request.ts';
import { parseUpgradeStatement } from '../verifier/upgrade.ts';
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

/**
 * An upgrade draft: exactly a dev.encumber.approveUpgrade body ({ statement,
 * cosignatures, plcLogs? }); members co-sign the statement's DAG-CBOR bytes
 * the way they co-sign a record payload.
 */
export type UpgradeDraft = z.infer<typeof approveUpgradeBody>;

export function isUpgradeDraft(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'statement' in value;
}

export function parseUpgradeDraft(value: unknown): UpgradeDraft {
  const parsed = approveUpgradeBody.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EncumberError('UsageError', `not an upgrade draft: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** A new upgrade draft with `issuer`'s co-signature over the statement added (replacing an earlier one from the same issuer). */
export function cosignUpgradeDraft(draft: UpgradeDraft, key: MemberKey, issuer: string): { draft: UpgradeDraft; cid: string } {
  const statement = parseUpgradeStatement(draft.statement);
  const sig = key.sign(statement.bytes);
  const others = draft.cosignatures.filter((c) => c.issuer !== issuer);
  return {
    draft: { ...draft, cosignatures: [...others, { issuer, sig: { $bytes: encodeBase64(sig) } }] },
    cid: statement.cid.toString(),
  };
}
