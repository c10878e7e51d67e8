/**
 * A reference model of the audit-log ordering rules, for property tests.
 *
 * It judges a log that is made of entries of a valid generated log, possibly
 * dropped, repeated or reordered, with possibly changed createdAt, using only
 * the generator's metadata (who signed each op, with which key index, on which
 * prev). The entries' contents are untouched, so their signatures, cids and
 * DID stay right; what can break is the chain: prev links, fork priority, the
 * 72 h window, createdAt order and the `nullified` flags.
 */
import type { EntryMeta } from './builder.ts';
import { WINDOW_MS } from './hash.ts';

export interface ModelEntry {
  /** Index of the entry in the original generated log. */
  from: number;
  createdAtMs: number;
  nullified: boolean;
}

export type ModelVerdict = { ok: true; nullified: boolean[] } | { ok: false; why: string };

export function modelVerdict(meta: readonly EntryMeta[], entries: readonly ModelEntry[]): ModelVerdict {
  if (entries.length === 0) return { ok: false, why: 'empty log' };
  const seen = new Set<number>();
  /** Positions (in `entries`) of the canonical chain. */
  const chain: number[] = [];
  const computed: boolean[] = [];
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    const m = meta[e.from]!;
    if (seen.has(e.from)) return { ok: false, why: `entry ${k} repeats original entry ${e.from}` };
    seen.add(e.from);
    if (k > 0 && e.createdAtMs <= entries[k - 1]!.createdAtMs) return { ok: false, why: `entry ${k}: createdAt does not advance` };
    computed.push(false);
    if (k === 0) {
      if (m.prevIndex !== null) return { ok: false, why: 'first entry is not a genesis' };
      chain.push(k);
      continue;
    }
    if (m.prevIndex === null) return { ok: false, why: `entry ${k}: a second genesis` };
    const pos = chain.findIndex((p) => entries[p]!.from === m.prevIndex);
    if (pos < 0) return { ok: false, why: `entry ${k}: prev is not on the canonical chain` };
    if (meta[entries[chain[pos]!]!.from]!.kind === 'tombstone') return { ok: false, why: `entry ${k}: prev is a tombstone` };
    if (m.signerIndex < 0) return { ok: false, why: `entry ${k}: signer is not a rotation key of prev` };
    if (pos < chain.length - 1) {
      const displaced = entries[chain[pos + 1]!]!;
      if (m.signerIndex >= meta[displaced.from]!.signerIndex) return { ok: false, why: `entry ${k}: fork key not higher priority` };
      if (e.createdAtMs - displaced.createdAtMs > WINDOW_MS) return { ok: false, why: `entry ${k}: fork after 72 h` };
      for (const gone of chain.splice(pos + 1)) computed[gone] = true;
    }
    chain.push(k);
  }
  for (let k = 0; k < entries.length; k++) {
    if (computed[k] !== entries[k]!.nullified) return { ok: false, why: `entry ${k}: nullified flag should be ${computed[k]}` };
  }
  return { ok: true, nullified: computed };
}
