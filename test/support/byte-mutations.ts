/**
 * Random byte-level mutations of a binary document, for property tests of
 * parsers and verifiers (Nitro documents, SEV-SNP reports, certificates).
 */
import fc from 'fast-check';

export type Mutation =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'truncate'; at: number }
  | { kind: 'copy'; from: number; to: number; length: number };

/** A position as a fraction of the length, spread evenly (fast-check's default bias would favour the first bytes). */
const pos = fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((n) => n / 1_000_000);

/** In-place edits (set, flip) are weighted up: they keep the framing and so reach the signature rules. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), at: pos, value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: pos, length: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: pos, bytes: fc.uint8Array({ minLength: 0, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: pos }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('copy' as const), from: pos, to: pos, length: fc.integer({ min: 1, max: 64 }) }) },
);

/** Positions are fractions of the current length, so every mutation lands inside the document. */
export function applyMutation(bytes: Uint8Array, m: Mutation): Uint8Array {
  const i = (f: number) => Math.floor(f * bytes.length);
  const out = [...bytes];
  switch (m.kind) {
    case 'set': out[i(m.at)] = m.value; break;
    case 'flip': out[i(m.at)]! ^= 1 << m.bit; break;
    case 'delete': out.splice(i(m.at), m.length); break;
    case 'insert': out.splice(i(m.at), 0, ...m.bytes); break;
    case 'truncate': out.length = i(m.at); break;
    case 'copy': out.splice(i(m.to), m.length, ...bytes.subarray(i(m.from), i(m.from) + m.length)); break;
  }
  return new Uint8Array(out);
}
