/**
 * Which rotation key signed an operation. Tries the keys in priority order
 * (index 0 first) and returns the first index that verifies; a duplicated key
 * therefore counts at its highest priority.
 */
import { parseDidKeyCached } from '../crypto/key-cache.ts';
import { checkSignature } from '../crypto/verify.ts';
import { curveByName } from '../crypto/curves.ts';

export type SignerSearch =
  | { found: true; index: number }
  | { found: false; reason: 'no-key-verifies' | 'high-s' };

export function findSigner(keys: readonly string[], unsignedBytes: Uint8Array, sig: Uint8Array): SignerSearch {
  let sawHighS = false;
  for (let i = 0; i < keys.length; i++) {
    const key = parseDidKeyCached(keys[i]!);
    const failure = checkSignature(key, unsignedBytes, sig);
    if (failure === undefined) return { found: true, index: i };
    if (failure === 'SignatureNotLowS') sawHighS = true;
  }
  // A high-S signature is rejected before any curve arithmetic. To give the
  // precise reason, check whether its low-S twin would have verified.
  if (sawHighS) {
    for (const did of keys) {
      const key = parseDidKeyCached(did);
      if (checkSignature(key, unsignedBytes, lowSTwin(sig, curveByName(key.curve).n)) === undefined) {
        return { found: false, reason: 'high-s' };
      }
    }
  }
  return { found: false, reason: 'no-key-verifies' };
}

function lowSTwin(sig: Uint8Array, n: bigint): Uint8Array {
  let s = 0n;
  for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(sig[i]!);
  let t = n - s;
  const out = sig.slice();
  for (let i = 63; i >= 32; i--) {
    out[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  return out;
}
