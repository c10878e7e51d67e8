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

/**
 * Two kinds of entry, one bound. An approval (this instance signed its
 * receipt, or an inherited one whose receipt the key verified) is kept once
 * per statement. An inherited candidate waits for the key: every copy of the
 * same statement the sender published whose quorum passed here is held, and
 * `settle` keeps one whose receipt verifies, whatever order they came in (so a
 * bad copy placed before a genuine one cannot make it be dropped).
 */
export class UpgradeStore {
  readonly #byCid = new Map<string, StoredUpgrade>();
  readonly #candidates = new Map<string, StoredUpgrade[]>();

  get(cid: string): StoredUpgrade | undefined {
    return this.#byCid.get(cid);
  }

  /** Whether a statement not yet kept would be refused (`RateLimited`): the cap, checked before any work. */
  full(): boolean {
    return this.#byCid.size + this.#candidates.size >= MAX_UPGRADES;
  }

  #admit(cid: string): void {
    if (!this.#byCid.has(cid) && !this.#candidates.has(cid) && this.full()) {
      throw new EncumberError('RateLimited', `at most ${MAX_UPGRADES} upgrade statements are kept`);
    }
  }

  /**
   * Keep an approval; returns the one kept for its statement (an approval
   * already there stays, and is what every caller is answered).
   */
  add(entry: StoredUpgrade): StoredUpgrade {
    const cid = entry.statement.cid.toString();
    const known = this.#byCid.get(cid);
    if (known) return known;
    this.#admit(cid);
    this.#candidates.delete(cid);
    this.#byCid.set(cid, entry);
    return entry;
  }

  /** Hold an inherited copy of a statement until the key is here (`settle`); every copy is held. */
  addCandidate(entry: StoredUpgrade): void {
    const cid = entry.statement.cid.toString();
    if (this.#byCid.has(cid)) return;
    this.#admit(cid);
    this.#candidates.set(cid, [...(this.#candidates.get(cid) ?? []), entry]);
  }

  /**
   * For each statement held as candidates, keep one copy `verifies` accepts
   * (copies tried in a fixed order of their published form, so which one is
   * kept does not depend on the order they came in); returns the CIDs of the
   * statements no copy of which verified.
   */
  settle(verifies: (p: PublishedUpgrade) => boolean): string[] {
    const dropped: string[] = [];
    for (const [cid, copies] of this.#candidates) {
      const ordered = copies.map((e) => ({ e, key: JSON.stringify(e.published) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const kept = ordered.find((c) => verifies(c.e.published));
      this.#candidates.delete(cid);
      if (kept) this.#byCid.set(cid, kept.e);
      else dropped.push(cid);
    }
    return dropped;
  }

  /** The approvals, in the order they were kept (candidates are not published). */
  list(): PublishedUpgrade[] {
    return [...this.#byCid.values()].map((e) => e.published);
  }

  /** Every measurement an approved statement or a held candidate names (the approved set while the key is on its way). */
  measurements(): Measurements {
    const statements = [...this.#byCid.values(), ...[...this.#candidates.values()].map((c) => c[0]!)].map((e) => e.statement.measurements);
    return unionMeasurements(...statements);
  }
}
