/**
 * Parsed did:key memo. Audit logs name the same few keys over and over, and a
 * parse costs a base58 decode plus a point decompression. Pure: the cache only
 * remembers results of a pure function. Failures are not cached.
 */
import { parseDidKey, type PublicKey } from './did-key.ts';

const LIMIT = 4096;
const cache = new Map<string, PublicKey>();

export function parseDidKeyCached(did: string): PublicKey {
  let key = cache.get(did);
  if (key) return key;
  key = parseDidKey(did);
  if (cache.size >= LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(did, key);
  return key;
}
