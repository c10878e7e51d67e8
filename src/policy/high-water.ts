/**
 * Per-DID high-water marks. Once the enclave has acted on a DID's head, a
 * later log must still contain that head: a shorter log, or one whose history
 * no longer has it, is a replay or a rewrite (`StalePlcLog`). A log in which
 * the mark is present but nullified is a legitimate recovery fork and passes.
 */
import { EncumberError } from '../errors.ts';
import type { PlcState } from '../plc/types.ts';

export interface HighWaterMark {
  cid: string;
  createdAt: string;
}

export interface HighWaterStore {
  get(did: string): HighWaterMark | undefined;
  set(did: string, mark: HighWaterMark): void;
}

export class MemoryHighWaterStore implements HighWaterStore {
  readonly #marks = new Map<string, HighWaterMark>();
  get(did: string): HighWaterMark | undefined {
    return this.#marks.get(did);
  }
  set(did: string, mark: HighWaterMark): void {
    this.#marks.set(did, mark);
  }
}

export function checkHighWater(mark: HighWaterMark | undefined, state: PlcState): void {
  if (!mark) return;
  if (!state.entryCids.includes(mark.cid)) {
    throw new EncumberError(
      'StalePlcLog',
      `the PLC log for ${state.did} does not contain ${mark.cid} (seen at ${mark.createdAt}): it is older than or forks away from a state already used`,
      { expected: mark.cid, actual: state.head.cid },
    );
  }
  if (Date.parse(state.head.createdAt) < Date.parse(mark.createdAt)) {
    throw new EncumberError('StalePlcLog', `the PLC head for ${state.did} is older than the high-water mark`, {
      expected: mark.createdAt,
      actual: state.head.createdAt,
    });
  }
}

/** The mark after accepting `state`: its head. */
export function nextMark(state: PlcState): HighWaterMark {
  return { cid: state.head.cid, createdAt: state.head.createdAt };
}
