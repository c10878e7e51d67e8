/**
 * The one memo of the attestation PKIs: chains that passed every rule of a
 * profile, keyed by the DER bytes of the whole chain and the profile's name,
 * each kept with its validity window. A lookup hits only for the same bytes,
 * the same profile and a time inside that window, so what a hit skips
 * (parsing, constraints, signatures) is exactly what would have passed again;
 * the caller still runs the validity rule and its platform checks.
 *
 * Only successes are stored (a flood of bad chains cannot evict good ones for
 * free) and the map is bounded (oldest entry out first). Why: an enclave's
 * chain recurs in every piece of evidence it sends, and certificate parsing
 * plus signature checks are most of a verification's cost (bench/).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../../crypto/encoding.ts';
import type { ParsedCertificate } from './certificate.ts';
import type { ChainProfile } from './profile.ts';

interface Entry {
  chain: readonly ParsedCertificate[];
  notBefore: number;
  notAfter: number;
}

/** SHA-256 over the chain, each DER preceded by its 4-byte big-endian length (so no two chains share a key). */
function chainKey(ders: readonly Uint8Array[], profile: ChainProfile): string {
  const h = sha256.create();
  const len = new Uint8Array(4);
  for (const der of ders) {
    new DataView(len.buffer).setUint32(0, der.length);
    h.update(len);
    h.update(der);
  }
  return `${profile.name}:${toHex(h.digest())}`;
}

export class ChainMemo {
  readonly #entries = new Map<string, Entry>();
  readonly limit: number;
  constructor(limit = 256) {
    this.limit = limit;
  }

  /** The verified chain, if these exact DERs passed this profile before and `at` lies inside their window. */
  get(ders: readonly Uint8Array[], profile: ChainProfile, at: number): readonly ParsedCertificate[] | undefined {
    const hit = this.#entries.get(chainKey(ders, profile));
    return hit && at >= hit.notBefore && at <= hit.notAfter ? hit.chain : undefined;
  }

  /** Remember a chain that passed every rule of `profile`. */
  set(ders: readonly Uint8Array[], profile: ChainProfile, chain: readonly ParsedCertificate[]): void {
    const key = chainKey(ders, profile);
    if (this.#entries.size >= this.limit && !this.#entries.has(key)) this.#entries.delete(this.#entries.keys().next().value!);
    const notBefore = Math.max(...chain.map((c) => c.notBefore));
    const notAfter = Math.min(...chain.map((c) => c.notAfter));
    this.#entries.set(key, { chain: Object.freeze([...chain]), notBefore, notAfter });
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}

export const chainMemo = new ChainMemo();

/** For benchmarks and tests: forget every verified chain. */
export function clearChainMemo(): void {
  chainMemo.clear();
}
