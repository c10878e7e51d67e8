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
