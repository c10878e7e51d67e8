/**
 * Which policy a verifier trusts (DESIGN.md "Binding and attestation": "the
 * policy (CID, or at least its repository) is the one they meant to trust").
 * An attested enclave proves which program holds the key and which policy it
 * enforces, not that this policy is the relying party's: the embedded demo
 * policy, whose member keys are public, is attested just as well. So the
 * verifier names the policy CID and/or the repository it trusts; without
 * either the verdict carries a warning row saying so. Pure.
 */
import type { AttestationCheck } from '../attestation/types.ts';
import type { ErrorCode } from '../errors.ts';
import type { Policy } from '../policy/schema.ts';

export interface PolicyPin {
  /** The policy CID the verifier trusts (e.g. from the operator, or a policy file it hashed itself). */
  policyCid?: string;
  /** The repository DID the verifier expects the policy to govern. */
  repository?: string;
}

export const POLICY_PIN_CHECK = 'policy-pin';

export const NOT_PINNED_DETAIL =
  'NOT PINNED: no --policy-cid or --repository given, so any policy this enclave enforces was accepted (the public demo policy too)';

export type PinOutcome = { check: AttestationCheck; error?: { code: ErrorCode; message: string } };

export function isPinned(pin: PolicyPin | undefined): pin is PolicyPin {
  return pin?.policyCid !== undefined || pin?.repository !== undefined;
}

/**
 * The pin against what the verified documents say: `policyCid` from the
 * binding, `policy` the document that hashes to it (when available).
 */
export function checkPolicyPin(pin: PolicyPin | undefined, facts: { policyCid?: string; policy?: Policy }): PinOutcome {
  const name = POLICY_PIN_CHECK;
  const failed = (code: ErrorCode, message: string): PinOutcome => ({ check: { name, ok: false, detail: message }, error: { code, message } });
  if (!isPinned(pin)) return { check: { name, ok: true, skipped: true, detail: NOT_PINNED_DETAIL } };
  const parts: string[] = [];
  // Rule: the policy CID is the pinned one.
  if (pin.policyCid !== undefined) {
    if (facts.policyCid === undefined) return failed('CheckNotPossible', `--policy-cid ${pin.policyCid} was asked for, but no binding names a policy to compare`);
    if (facts.policyCid !== pin.policyCid) return failed('PolicyPinMismatch', `the enclave enforces policy ${facts.policyCid}, you trust ${pin.policyCid}`);
    parts.push(`policy ${pin.policyCid}`);
  }
  // Rule: the policy governs the pinned repository.
  if (pin.repository !== undefined) {
    if (!facts.policy) return failed('CheckNotPossible', `--repository ${pin.repository} was asked for, but the policy document is not available (give a getIdentity answer)`);
    if (facts.policy.repository !== pin.repository) {
      return failed('PolicyPinMismatch', `the enclave's policy governs ${facts.policy.repository}, you trust ${pin.repository}`);
    }
    parts.push(`repository ${pin.repository}`);
  }
  return { check: { name, ok: true, detail: `pinned: ${parts.join(', ')}` } };
}

/** One line naming what a policy allows (the row a verifier shows on its own). */
export function describePolicy(cid: string, p: Policy): string {
  return `policy ${cid}: repository ${p.repository}; ${p.threshold} of ${p.signers.length} members (${p.signers
    .map((s) => `${s.did}#${s.keyId}`)
    .join(', ')}); collections ${p.collections.join(', ')}`;
}
