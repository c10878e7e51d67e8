/**
 * The M-of-N count, once, for the enclave's decision and for every verifier:
 * each entry's issuer is a policy member, named once, and the distinct members
 * reach the threshold. Entries are checked in order; the first broken rule
 * throws its typed code with the entry's index. Pure.
 */
import { EncumberError } from '../errors.ts';
import type { Policy } from './schema.ts';

/**
 * `check`, when given, runs first for each entry (a signature's form, or its
 * verification), so a bad entry is refused before it is counted.
 */
export function countQuorum(policy: Policy, issuers: readonly string[], check?: (index: number) => void): string[] {
  const members = new Set(policy.signers.map((s) => s.did));
  const seen = new Map<string, number>();
  issuers.forEach((issuer, index) => {
    check?.(index);
    // Rule: every co-signer is named by the policy …
    if (!members.has(issuer)) {
      throw new EncumberError('UnknownSigner', `co-signature ${index} is from ${issuer}, who is not a signer of this policy`, {
        index,
        actual: issuer,
      });
    }
    // … once.
    const first = seen.get(issuer);
    if (first !== undefined) {
      throw new EncumberError('InvalidCosignature', `co-signature ${index} is from ${issuer}, who already co-signed (co-signature ${first}); each member signs once`, {
        index,
        actual: issuer,
      });
    }
    seen.set(issuer, index);
  });
  // Rule: at least `threshold` distinct members.
  if (seen.size < policy.threshold) {
    throw new EncumberError('InsufficientCosigners', `${seen.size} co-signer(s), the policy needs ${policy.threshold}`, {
      expected: policy.threshold,
      actual: seen.size,
    });
  }
  return [...seen.keys()];
}
