/**
 * A small seedable PRNG (sfc32, seeded from SHA-256 of the seed) so that a
 * generated audit log is a pure function of its options: same seed, same keys,
 * same operations, same bytes. ECDSA signing is RFC 6979 deterministic, so the
 * signatures repeat too.
 */
import { createHash } from 'node:crypto';

export type Seed = number | string;

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  readonly seed: string;

  constructor(seed: Seed) {
    this.seed = String(seed);
    const h = createHash('sha256').update(`encumber/plc-gen/rng:${this.seed}`).digest();
    this.#a = h.readUInt32LE(0);
    this.#b = h.readUInt32LE(4);
    this.#c = h.readUInt32LE(8);
    this.#d = h.readUInt32LE(12) | 1;
    for (let i = 0; i < 16; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    if (max < min) throw new Error(`Rng.int: empty range [${min}, ${max}]`);
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** Short lowercase word, for handles and host names. */
  word(min = 3, max = 10): string {
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    let s = '';
    for (let i = this.int(min, max); i > 0; i--) s += letters[this.int(0, 25)];
    return s;
  }

  /** 32 bytes derived from the seed and a label (for private keys). */
  bytes32(label: string): Uint8Array {
    return new Uint8Array(createHash('sha256').update(`encumber/plc-gen/${this.seed}/${label}`).digest());
  }
}
