/**
 * Member tools for the DID guard (docs/did-guard.md): a draft of a PLC
 * operation for the organisation's DID, built on its verified head, and the
 * members' co-signatures over its dev.encumber.plcOp payload. The draft is
 * exactly a dev.encumber.signPlcOp body `{ repository, operation, cosignatures }`.
 */
import { EncumberError } from '../errors.ts';
import { encodeBase64 } from '../crypto/encoding.ts';
import { parseDidKey } from '../crypto/did-key.ts';
import { verifyAuditLog } from '../plc/verify.ts';
import type { PlcAuditEntry, PlcOperation } from '../plc/types.ts';
import { parseUnsignedPlcOp, plcOpPayload, type UnsignedPlcOp } from '../policy/plc-op.ts';
import { signPlcOpBody } from '../policy/request.ts';
import type { MemberKey } from './keys.ts';

export interface PlcOpDraft {
  repository: string;
  operation: UnsignedPlcOp;
  cosignatures: { issuer: string; sig: { $bytes: string } }[];
}

export interface DidChange {
  handle?: string;
  pds?: string;
  atprotoKey?: string;
}

/**
 * The unsigned operation that applies `change` to the head of `did`'s log
 * (verified here with the enclave's verifier; the directory is not trusted),
 * prev = the head's CID.
 */
export function draftDidOp(did: string, log: unknown, change: DidChange, now: Date): PlcOpDraft {
  const verdict = verifyAuditLog(did, log, { now });
  if (!verdict.ok) throw new EncumberError('UsageError', `the audit log of ${did} does not verify: ${verdict.error.code}: ${verdict.error.message}`);
  const head = (log as PlcAuditEntry[]).find((e) => e.cid === verdict.state.head.cid)!;
  if (head.operation.type !== 'plc_operation') throw new EncumberError('UsageError', `the head of ${did} is a ${head.operation.type}, not a plc_operation`);
  if (change.handle === undefined && change.pds === undefined && change.atprotoKey === undefined) {
    throw new EncumberError('UsageError', 'nothing to change: give --set-handle, --set-pds or --set-atproto-key');
  }
  const { sig: _sig, ...op } = head.operation as PlcOperation;
  const next: UnsignedPlcOp = { ...(op as unknown as UnsignedPlcOp), prev: head.cid };
  if (change.handle !== undefined) {
    if (!/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(change.handle)) throw new EncumberError('UsageError', `not a handle: ${change.handle}`);
    next.alsoKnownAs = [`at://${change.handle}`, ...next.alsoKnownAs.filter((a) => !a.startsWith('at://'))];
  }
  if (change.pds !== undefined) {
    const u = new URL(change.pds);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new EncumberError('UsageError', `not an http(s) URL: ${change.pds}`);
    next.services = { ...next.services, atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: change.pds } };
  }
  if (change.atprotoKey !== undefined) {
    parseDidKey(change.atprotoKey);
    next.verificationMethods = { ...next.verificationMethods, atproto: change.atprotoKey };
  }
  return { repository: did, operation: parseUnsignedPlcOp(next), cosignatures: [] };
}

export function parsePlcOpDraft(value: unknown): PlcOpDraft {
  const parsed = signPlcOpBody.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EncumberError('UsageError', `not a DID operation draft: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  return { ...parsed.data, operation: parseUnsignedPlcOp(parsed.data.operation) };
}

/** A new draft with `issuer`'s co-signature over the dev.encumber.plcOp payload (replacing an earlier one from the same issuer). */
export function cosignPlcOpDraft(draft: PlcOpDraft, key: MemberKey, issuer: string): { draft: PlcOpDraft; cid: string } {
  const payload = plcOpPayload(draft.repository, draft.operation);
  const sig = key.sign(payload.bytes);
  const others = draft.cosignatures.filter((c) => c.issuer !== issuer);
  return { draft: { ...draft, cosignatures: [...others, { issuer, sig: { $bytes: encodeBase64(sig) } }] }, cid: payload.cid.toString() };
}
