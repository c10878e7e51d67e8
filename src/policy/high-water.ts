/**
 * Per-DID high-water marks (DESIGN.md "PLC audit-log rules"). Once the
 * enclave has acted on a DID's head, a later log must still hold that head,
 * by chain position: a shorter log, or one whose history no longer has it, is
 * a replay or a rewrite (`StalePlcLog`).
 *
 * Marks compare CIDs, never a log's `createdAt`: an audit entry's `createdAt`
 * is not signed, so a mark that took it could be moved by anyone who re-sends
 * an accepted request with a re-timed head.
 *
 * Whether the marked op may be nullified depends on who vouches for the
 * timestamps the 72-hour recovery rule reads:
 * - `supplied`: the sender writes them, so a fork "within 72 h" proves
 *   nothing; the marked op must stay on the canonical chain (it is the new
 *   head or an ancestor of it). Trust on first use per DID.
 * - `fetch`: the directory's timestamps stand; the marked op may have been
 *   nullified by a recovery fork the verifier accepted, but it must still be
 *   in the log.
 */
import { EncumberError } from '../errors.ts';
import type { PlcState } from '../plc/types.ts';

export type PlcSource = 'supplied' | 'fetch';

export interface HighWaterMark {
  /** CID of the head the enclave acted on. */
  cid: string;
}

export interface HighWaterStore {
  get(did: string): HighWaterMark | undefined;
  set(did: string, mark: HighWaterMark): void;
  /** Every mark (the key hand-off carries them to the joining instance). */
  entries(): Iterable<[string, HighWaterMark]>;
}

export class MemoryHighWaterStore implements HighWaterStore {
  readonly #marks = new Map<string, HighWaterMark>();
  get(did: string): HighWaterMark | undefined {
    return this.#marks.get(did);
  }
  set(did: string, mark: HighWaterMark): void {
    this.#marks.set(did, mark);
  }
  entries(): Iterable<[string, HighWaterMark]> {
    return this.#marks.entries();
  }
}

export function checkHighWater(mark: HighWaterMark | undefined, state: PlcState, source: PlcSource): void {
  if (!mark) return;
  // Rule: the marked op is the new head or one of its ancestors …
  if (state.canonicalCids.includes(mark.cid)) return;
  // … or (fetch mode only) an op of the log that a verified recovery fork nullified.
  if (!state.entryCids.includes(mark.cid)) {
    throw new EncumberError(
      'StalePlcLog',
      `the PLC log for ${state.did} does not contain ${mark.cid}: it is older than or forks away from a state already used`,
      { expected: mark.cid, actual: state.head.cid },
    );
  }
  if (source === 'supplied') {
    throw new EncumberError(
      'StalePlcLog',
      `the PLC log for ${state.did} nullifies ${mark.cid}, a state already used; in supplied mode the log's createdAt is the sender's word, so no fork may displace it`,
      { expected: mark.cid, actual: state.head.cid },
    );
  }
}

/** The mark after accepting `state`: its head. */
export function nextMark(state: PlcState): HighWaterMark {
  return { cid: state.head.cid };
}
