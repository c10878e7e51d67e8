/**
 * The embedded default policy: 2 of the 3 demo members (alice, bob, carol in
 * test/fixtures/demo, keys public) may post to the demo org's repository.
 * For trying encumber out only; production passes --policy FILE.
 */
import defaultPolicy from './default-policy.json' with { type: 'json' };
import { parsePolicy, type LoadedPolicy } from './policy.ts';

export function loadDefaultPolicy(): LoadedPolicy {
  return parsePolicy(structuredClone(defaultPolicy));
}

/** The demo policy, embedded or passed as a file (same CID): its member keys are public. */
export function isDemoPolicy(policy: LoadedPolicy): boolean {
  return policy.cid.equals(loadDefaultPolicy().cid);
}
