/**
 * An enclave's identity (getIdentity) and the first rules every verifier
 * applies to it: its policy and binding hash to the CIDs it names, and the
 * binding names its key, its policy and, exactly when the policy enables the
 * DID guard, its guard key. Pure.
 */
import { parseDidKey } from '../crypto/did-key.ts';
import { cidForValue, CID } from '../data/cid.ts';
import { jsonToIpld } from '../data/json.ts';
import { parsePolicy } from '../policy/policy.ts';
import { didGuardOf, type Policy } from '../policy/schema.ts';
import { failRule, type RuleWalk } from './rows.ts';

export interface Identity {
  key: string;
  /** The DID guard's key (getIdentity names it exactly when the policy's didGuard is enabled). */
  guardKey?: string;
  binding: unknown;
  bindingCid: string;
  policy: unknown;
  policyCid: string;
  platform: string;
}

/** Rows identity-policy and identity-binding; the parsed policy and binding, or the walk ends (BindingMismatch). */
export function identitySteps(walk: RuleWalk, identity: Identity): { policy: Policy; binding: Record<string, unknown> } {
  const policy = identityPolicyStep(walk, identity);
  return { policy, binding: identityBindingStep(walk, identity, policy) };
}

/** Row identity-policy: the identity's policy hashes to the CID it names. */
export function identityPolicyStep(walk: RuleWalk, identity: Pick<Identity, 'policy' | 'policyCid'>): Policy {
  return walk.step('identity-policy', () => {
    const p = parsePolicy(identity.policy);
    if (p.cid.toString() !== identity.policyCid) failRule('BindingMismatch', `policy hashes to ${p.cid}, identity says ${identity.policyCid}`);
    return p.policy;
  }, (p) => `policy ${identity.policyCid}: ${p.threshold} of ${p.signers.length} for ${p.repository}`);
}

/** Row identity-binding: the binding hashes to its CID and names the key, the policy and the guard key as the policy says. */
function identityBindingStep(walk: RuleWalk, identity: Identity, policy: Policy): Record<string, unknown> {
  const fail = failRule;
  return walk.step('identity-binding', () => {
    const b = jsonToIpld(identity.binding) as Record<string, unknown>;
    const cid = cidForValue(b).toString();
    if (cid !== identity.bindingCid) fail('BindingMismatch', `binding hashes to ${cid}, identity says ${identity.bindingCid}`);
    if (b.$type !== 'dev.encumber.binding' || b.version !== 1) fail('BindingMismatch', 'not a dev.encumber.binding v1 document');
    if (b.key !== identity.key) fail('BindingMismatch', `binding names key ${String(b.key)}, identity key is ${identity.key}`);
    if (!(b.policy instanceof CID) || b.policy.toString() !== identity.policyCid) fail('BindingMismatch', 'binding does not name the identity policy');
    // The DID guard's key: bound exactly when the policy turns the guard on, k256, the one the identity names.
    if (didGuardOf(policy)) {
      if (typeof b.guardKey !== 'string') fail('BindingMismatch', 'the policy enables the DID guard, but the binding names no guardKey');
      let curve: string | undefined;
      try {
        curve = parseDidKey(b.guardKey as string).curve;
      } catch {
        curve = undefined;
      }
      if (curve !== 'k256') fail('BindingMismatch', 'the binding\'s guardKey is not a k256 did:key');
      if (b.guardKey === b.key) fail('BindingMismatch', 'the binding\'s guardKey is the signing key');
      if (identity.guardKey !== undefined && identity.guardKey !== b.guardKey) {
        fail('BindingMismatch', `binding names guard key ${String(b.guardKey)}, identity says ${identity.guardKey}`);
      }
    } else if (b.guardKey !== undefined || identity.guardKey !== undefined) {
      fail('BindingMismatch', 'a guardKey is named, but the policy does not enable the DID guard');
    }
    return b;
  }, (b) => `binding ${identity.bindingCid} (${String(b.platform)}) names key and policy`);
}
