import { parseDidKeyCached } from '../crypto/key-cache.ts';
import { checkSignature } from '../crypto/verify.ts';
import { curveByName } from '../crypto/curves.ts';
import { negateS } from '../crypto/scalar.ts';

export type SignerSearch =
  | { found: true; index: number; key: string }
  | { found: false; reason: 'no-key-verifies' | 'high-s' };

/**
 * Which rotation key signed an operation, as an index into `keys`: the index
 * of the first occurrence of the verifying key (a duplicated key counts at its
 * highest priority).
 *
 * `preferKey` (the key that signed the parent op) is tried first: logs are
 * usually signed by the same key op after op, so this mostly costs one
 * verification instead of one per higher-priority key. The answer does not
 * depend on the order: two distinct keys named before this signature existed
 * cannot both verify it without breaking ECDSA, so the verifying key, and
 * therefore its first index, is unique.
 */
export function findSigner(
  keys: readonly string[],
  unsignedBytes: Uint8Array,
  sig: Uint8Array,
  preferKey?: string,
): SignerSearch {
  let sawHighS = false;
  const order = preferKey !== undefined && keys.includes(preferKey) ? [preferKey, ...keys.filter((k) => k !== preferKey)] : keys;
  const tried = new Set<string>();
  for (const did of order) {
    if (tried.has(did)) continue;
    tried.add(did);
    const failure = checkSignature(parseDidKeyCached(did), unsignedBytes, sig);
    if (failure === undefined) return { found: true, index: keys.indexOf(did), key: did };
    if (failure === 'SignatureNotLowS') sawHighS = true;
  }
  // A high-S signature is rejected before any curve arithmetic. To give the
  // precise reason, check whether its low-S twin would have verified.
  if (sawHighS) {
    for (const did of tried) {
      const key = parseDidKeyCached(did);
      if (checkSignature(key, unsignedBytes, negateS(sig, curveByName(key.curve).n)) === undefined) {
        return { found: false, reason: 'high-s' };
      }
    }
  }
  return { found: false, reason: 'no-key-verifies' };
}
