/**
 * The whole check of an enclave-signed record, in the order every front end
 * shows it (the CLI's `record verify` and the verification page are shells
 * around this function):
 *  1. the attestation: the evidence (live with the verifier's nonce, or a file)
 *     is about the identity's binding and passes `verifyEvidence` with the
 *     verifier's roots and pinned measurements;
 *  2. the record: `verifyPublishedRecord` against that identity (payload,
 *     enclave entry, receipt, the M-of-N count, co-signer keys in their PLC logs).
 * A missing attestation is a failure unless the caller trusts the identity on
 * purpose. Without a record, the identity's policy is checked against the pin
 * in the attestation section instead.
 *
 * Pure and browser-safe: no I/O, no clock (`at`), nonce and roots are inputs.
 */
import type { ErrorCode } from '../errors.ts';
import type { AttestationCheck } from '../attestation/types.ts';
import { verifyEvidence, type EvidenceInput, type EvidenceOptions, type EvidencePlatform } from './evidence.ts';
import { checkPolicyPin, isPinned, type PolicyPin } from './policy-pin.ts';
import { parsePolicy } from '../policy/policy.ts';
import type { Policy } from '../policy/schema.ts';
import { verifyPublishedRecord, type Identity, type RecordVerifyOptions } from './record.ts';

export interface SignedRecordInput extends Omit<EvidenceOptions, 'policyPin'> {
  /** The enclave's getIdentity answer (key, binding, policy and their CIDs). */
  identity?: Identity;
  /** The published record (data-model JSON); absent: check the attestation (and the identity's policy) only. */
  record?: unknown;
  /** The attestation: evidence bytes, with the binding it claims (from getAttestation) if any. */
  evidence?: EvidenceInput;
  /** No evidence on purpose: the caller already trusts this identity (a row says it was not checked). */
  trustIdentity?: boolean;
  /** The policy the verifier trusts (CID and/or repository); absent: a warning row. */
  pin?: PolicyPin;
  /** Co-signers' audit logs (DID → log), to re-derive each co-signer's key. */
  plcLogs?: Record<string, unknown>;
  /** Where the record was published (its at:// URI). */
  location?: RecordVerifyOptions['location'];
}

export interface SignedRecordReport {
  valid: boolean;
  platform: EvidencePlatform | null;
  /** The rows of each section, in the order they ran; a failed report ends with its failing row. */
  attestation: AttestationCheck[];
  record: AttestationCheck[];
  /** The typed code of the first failure, and the row it failed at. */
  error: { code: ErrorCode; message: string; check: string } | null;
  /** A pin was given and the record (or, with no record, the attestation) matched it. */
  policyPinned: boolean;
  /** Payload CID and co-signers, when the record verified. */
  cid?: string;
  cosigners?: string[];
}

const EVIDENCE_MISSING =
  'no attestation: give the evidence (a file, or a live check with a fresh nonce), or trust the identity explicitly if you already trust it';

export async function verifySignedRecord(input: SignedRecordInput): Promise<SignedRecordReport> {
  const attestation: AttestationCheck[] = [];
  const record: AttestationCheck[] = [];
  let platform: EvidencePlatform | null = null;
  const fail = (rows: AttestationCheck[], code: ErrorCode, message: string, row?: AttestationCheck): SignedRecordReport => {
    if (row) rows.push(row);
    const check = rows.at(-1)?.name ?? 'input';
    return { valid: false, platform, attestation, record, error: { code, message, check }, policyPinned: false };
  };

  // 1. The attestation.
  if (input.evidence) {
    const evidence: EvidenceInput = { ...input.evidence };
    if (input.identity) {
      // Rule: the evidence is about this identity's binding, so the identity must carry it
      // (without the document nothing ties the evidence's key and user data to the identity).
      if (input.identity.binding === undefined) {
        const detail = `the identity names binding ${input.identity.bindingCid} but carries no binding document to check the evidence against`;
        return fail(attestation, 'CheckNotPossible', detail, { name: 'binding', ok: false, detail });
      }
      evidence.binding ??= input.identity.binding;
      evidence.bindingCid ??= input.identity.bindingCid;
      if (evidence.bindingCid !== input.identity.bindingCid) {
        const detail = `evidence is for binding ${evidence.bindingCid}, identity has ${input.identity.bindingCid}`;
        return fail(attestation, 'BindingMismatch', 'evidence and identity name different bindings', { name: 'binding', ok: false, detail });
      }
      // Without a record the identity's policy is shown and compared here; with one, by the record verifier.
      if (input.record === undefined) evidence.policy ??= input.identity.policy;
    }
    const { identity: _i, record: _r, evidence: _e, trustIdentity: _t, pin, plcLogs: _l, location: _loc, ...options } = input;
    const verdict = await verifyEvidence(evidence, { ...options, ...(input.record === undefined ? { policyPin: pin ?? {} } : {}) });
    attestation.push(...verdict.checks);
    platform = verdict.platform ?? null;
    if (!verdict.ok) return fail(attestation, verdict.error.code, verdict.error.message);
    if (input.record === undefined) {
      return { valid: true, platform, attestation, record, error: null, policyPinned: isPinned(pin) };
    }
  } else if (input.trustIdentity) {
    attestation.push({ name: 'attestation', ok: true, skipped: true, detail: 'NOT CHECKED: you chose to trust the identity as it is' });
  } else {
    return fail(attestation, 'EvidenceMissing', EVIDENCE_MISSING, { name: 'attestation', ok: false, detail: EVIDENCE_MISSING });
  }
  if (input.record === undefined) {
    // Rule: a pin asked for is checked against the trusted identity's policy (a check asked for is never skipped).
    if (!isPinned(input.pin)) return { valid: true, platform, attestation, record, error: null, policyPinned: false };
    const pinned = checkPolicyPin(input.pin, trustedPolicy(input.identity));
    attestation.push(pinned.check);
    if (pinned.error) return fail(attestation, pinned.error.code, pinned.error.message);
    return { valid: true, platform, attestation, record, error: null, policyPinned: true };
  }

  // 2. The record, against the attested identity.
  if (!input.identity) {
    const message = 'no identity to check the record against: check the enclave live, or give its getIdentity answer';
    return fail(record, 'CheckNotPossible', message, { name: 'identity', ok: false, detail: message });
  }
  const rv = verifyPublishedRecord(input.identity, input.record, {
    ...(input.plcLogs ? { plcLogs: input.plcLogs } : {}),
    ...(input.pin ? { pin: input.pin } : {}),
    ...(input.location ? { location: input.location } : {}),
  });
  record.push(...rv.checks);
  if (!rv.ok) return fail(record, rv.error.code, rv.error.message);
  return { valid: true, platform, attestation, record, error: null, policyPinned: isPinned(input.pin), cid: rv.cid, cosigners: rv.cosigners };
}

/** The identity's policy, when it is a valid policy that hashes to the identity's policy CID (else nothing to compare). */
function trustedPolicy(identity: Identity | undefined): { policyCid?: string; policy?: Policy } {
  if (!identity) return {};
  try {
    const p = parsePolicy(identity.policy);
    return p.cid.toString() === identity.policyCid ? { policyCid: identity.policyCid, policy: p.policy } : {};
  } catch {
    return {};
  }
}
