/**
 * The upgrades this instance approved, or inherited with the key
 * (docs/key-handoff.md "Upgrades"): each a statement the quorum co-signed and
 * the receipt the enclave key signed for it. Their measurements extend the
 * hand-off's approved set (`HandoffTrustSource.approved()`); the list is
 * published by dev.encumber.getUpgrades. In memory, like the key: it lives
 * as long as the key does, and moves with it.
 */
import { EncumberError } from '../errors.ts';
import type { Measurements } from '../verifier/measurements.ts';
import { unionMeasurements, type PublishedUpgrade, type UpgradeStatement } from '../verifier/upgrade.ts';

/** At most this many statements are kept (each approval is a quorum's act; the bound keeps memory fixed). */
export const MAX_UPGRADES = 64;

export interface StoredUpgrade {
  statement: UpgradeStatement;
  published: PublishedUpgrade;
}

export class UpgradeStore {
  readonly #byCid = new Map<string, StoredUpgrade>();

  get(cid: string): StoredUpgrade | undefined {
    return this.#byCid.get(cid);
  }

  add(entry: StoredUpgrade): void {
    const cid = entry.statement.cid.toString();
    if (this.#byCid.has(cid)) return;
    if (this.#byCid.size >= MAX_UPGRADES) throw new EncumberError('RateLimited', `at most ${MAX_UPGRADES} upgrade statements are kept`);
    this.#byCid.set(cid, entry);
  }

  /** Keep only the entries `keep` accepts; returns the CIDs dropped. */
  retain(keep: (p: PublishedUpgrade) => boolean): string[] {
    const dropped: string[] = [];
    for (const [cid, e] of this.#byCid) {
      if (!keep(e.published)) {
        this.#byCid.delete(cid);
        dropped.push(cid);
      }
    }
    return dropped;
  }

  list(): PublishedUpgrade[] {
    return [...this.#byCid.values()].map((e) => e.published);
  }

  /** Every measurement an approved statement names. */
  measurements(): Measurements {
    return unionMeasurements(...[...this.#byCid.values()].map((e) => e.statement.measurements));
  }
}
