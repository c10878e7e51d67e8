/**
 * The DID guard's watcher (docs/did-guard.md "Guard"): every `pollSeconds` it
 * reads the organisation's audit log from the policy's directory, verifies it
 * with the enclave's own verifier, and reverts the first operation it did not
 * sign (per the policy's `revert` option) by signing and submitting a
 * recovery operation with the guard key. Everything it sees and does goes to
 * a bounded public log (`dev.encumber.getGuardLog`).
 *
 * Fails closed: a directory that does not answer, or a log that does not
 * verify, means no action (logged; the next poll tries again). Clock and
 * timer are injected; only the composition root (./boot.ts) starts one.
 */
import { EncumberError, type ErrorCode } from '../errors.ts';
import { encodeBase64Url } from '../crypto/encoding.ts';
import { decodeCbor, encodeCbor } from '../data/cbor.ts';
import { toCanonicalUtcMillis } from '../data/syntax/datetime.ts';
import { verifiedNodes, verifyAuditLogResumable } from '../plc/verify.ts';
import type { PlcState } from '../plc/types.ts';
import type { DidGuardPolicy } from '../policy/schema.ts';
import { planGuard } from '../policy/did-guard.ts';
import { plcOpSigningBytes, signedPlcOpCid, type UnsignedPlcOp } from '../policy/plc-op.ts';

/** One intrusion: what the guard saw, and what it did. */
export interface GuardLogEntry {
  intruder: { cid: string; createdAt: string; signer: string };
  detectedAt: string;
  /** reverted: the directory accepted the recovery; failed: the submission failed (retried next poll); not-revertible: a rule forbids it. */
  outcome: 'reverted' | 'failed' | 'not-revertible';
  recovery?: { cid: string; prev: string; submittedAt: string };
  code?: ErrorCode;
  message?: string;
  attempts: number;
}

/** The last poll: when, and what came of it. */
export interface GuardPoll {
  at: string;
  result: 'clean' | 'reverted' | 'no-action';
  head?: string;
  code?: ErrorCode;
  message?: string;
}

/** A timer the guard schedules its next poll with; returns a cancel function. */
export type GuardTimer = (run: () => void, ms: number) => () => void;

export interface DidGuardDeps {
  did: string;
  policy: DidGuardPolicy;
  guardKey: { did: string; sign: (message: Uint8Array) => Uint8Array };
  fetchLog: (did: string) => Promise<unknown>;
  submit: (did: string, operation: unknown) => Promise<unknown>;
  clock: () => Date;
  timer: GuardTimer;
  /** Console notes (public data only). */
  log?: (line: string) => void;
  /** Entries kept (oldest dropped first). Default 256. */
  maxEntries?: number;
}

/** Entries kept by default, and the most a hand-off accepts; a message's length in an entry. */
export const MAX_GUARD_ENTRIES = 256;
const MAX_GUARD_MESSAGE = 500;
/** The guard state's encoded size bound: 256 entries of at most about 1 KiB. */
export const MAX_GUARD_STATE_BYTES = 320 * 1024;

/** The guard's state as the key hand-off carries it (`exportState`, `parseGuardState`). */
export interface GuardState {
  baseline?: string;
  entries: GuardLogEntry[];
}

export class DidGuard {
  readonly #deps: DidGuardDeps;
  readonly #entries: GuardLogEntry[] = [];
  #baseline: string | undefined;
  #lastPoll: GuardPoll | undefined;
  #polling: Promise<GuardPoll> | undefined;
  #cancel: (() => void) | undefined;
  #stopped = false;

  constructor(deps: DidGuardDeps) {
    this.#deps = deps;
  }

  /** Poll now, then every `pollSeconds` until `stop`. */
  start(): void {
    this.#stopped = false;
    const loop = () => {
      if (this.#stopped) return;
      void this.poll().finally(() => {
        if (!this.#stopped) this.#cancel = this.#deps.timer(loop, this.#deps.policy.pollSeconds * 1000);
      });
    };
    loop();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  /** One poll (polls never overlap: a call during one waits for it). */
  poll(): Promise<GuardPoll> {
    this.#polling ??= this.#pollOnce().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  /**
   * What a joining instance needs to go on where this one stands (it travels with the guard key in the key
   * hand-off, authenticated by the seal): the baseline and the public log. DAG-CBOR.
   */
  exportState(): Uint8Array {
    return encodeCbor({ version: 1, ...(this.#baseline ? { baseline: this.#baseline } : {}), entries: this.#entries });
  }

  /**
   * Take over a sender's state (a joiner, before its first poll): its public log, and the first head its lineage
   * read, so `getGuardLog` goes on as one record.
   */
  restore(state: GuardState): void {
    if (this.#baseline !== undefined || this.#entries.length > 0 || this.#polling) throw new Error('the guard has already started');
    if (state.baseline !== undefined) this.#baseline = state.baseline;
    this.#entries.push(...state.entries.map((e) => structuredClone(e)));
  }

  /** The operation this guard would revert in a verified audit log of its DID, if any, judged as a poll would. */
  pendingIntrusion(checkpoint: Parameters<typeof verifiedNodes>[0], state: PlcState, now: Date): GuardLogEntry['intruder'] | undefined {
    const plan = planGuard({ state, nodes: verifiedNodes(checkpoint), guardKey: this.#deps.guardKey.did, revert: this.#deps.policy.revert, now });
    return plan.action === 'revert' ? plan.intruder : undefined;
  }

  /** The public log: the DID, the guard key, the baseline, the last poll, every intrusion. */
  report() {
    return {
      did: this.#deps.did,
      guardKey: this.#deps.guardKey.did,
      revert: this.#deps.policy.revert,
      pollSeconds: this.#deps.policy.pollSeconds,
      ...(this.#baseline ? { baseline: this.#baseline } : {}),
      ...(this.#lastPoll ? { lastPoll: { ...this.#lastPoll } } : {}),
      entries: this.#entries.map((e) => structuredClone(e)),
    };
  }

  async #pollOnce(): Promise<GuardPoll> {
    const { did, guardKey } = this.#deps;
    const now = this.#deps.clock();
    const at = toCanonicalUtcMillis(now);
    const done = (p: GuardPoll): GuardPoll => {
      this.#lastPoll = p;
      if (p.code) this.#note(`encumber: DID guard: ${p.result}: ${p.code}: ${p.message ?? ''}`);
      return p;
    };

    // 1. The log, from the policy's directory (no answer: nothing done, next poll retries).
    let log: unknown;
    try {
      log = await this.#deps.fetchLog(did);
    } catch (e) {
      const err = asError(e);
      return done({ at, result: 'no-action', code: err.code, message: err.message });
    }
    // 2. Verified by the enclave's own verifier (does not verify: nothing done).
    const { verdict, checkpoint } = verifyAuditLogResumable(did, log, { now });
    if (!verdict.ok || !checkpoint) {
      const err = verdict.ok ? new EncumberError('InvalidPlcLog', 'no checkpoint') : verdict.error;
      return done({ at, result: 'no-action', code: err.code, message: err.message });
    }
    const state = verdict.state;
    // 3. The first verified head, for the public log (where this guard's lineage started reading; the decision
    //    judges the whole chain).
    this.#baseline ??= state.head.cid;
    // A recovery this guard failed to submit that is now on the canonical chain was made by another instance
    // holding the same key (the same operation: RFC 6979 signatures): the intrusion is reverted, say so.
    const canonical = new Set(state.canonicalCids);
    for (const e of this.#entries) {
      if (e.outcome !== 'failed' || !e.recovery || !canonical.has(e.recovery.cid)) continue;
      e.outcome = 'reverted';
      delete e.code;
      delete e.message;
    }
    // 4. The decision (pure).
    const plan = planGuard({ state, nodes: verifiedNodes(checkpoint), guardKey: guardKey.did, revert: this.#deps.policy.revert, now });
    for (const u of plan.unrevertable) {
      if (this.#entries.some((e) => e.intruder.cid === u.intruder.cid && e.outcome === 'not-revertible' && e.code === u.code)) continue;
      this.#record(u.intruder, at, { outcome: 'not-revertible', code: u.code, message: u.message });
      this.#note(`encumber: DID guard: cannot revert ${u.intruder.cid}: ${u.code}: ${u.message}`);
    }
    if (plan.action === 'none') {
      const last = plan.unrevertable.at(-1);
      return done(last ? { at, result: 'no-action', head: state.head.cid, code: last.code, message: last.message } : { at, result: 'clean', head: state.head.cid });
    }
    // 5. Sign the recovery with the guard key and submit it.
    const signed = signPlcOp(plan.recovery, guardKey.sign);
    const recovery = { cid: signedPlcOpCid(signed), prev: plan.forkAt, submittedAt: at };
    try {
      await this.#deps.submit(did, signed);
    } catch (e) {
      const err = asError(e);
      this.#record(plan.intruder, at, { outcome: 'failed', recovery, code: err.code, message: err.message });
      return done({ at, result: 'no-action', head: state.head.cid, code: err.code, message: err.message });
    }
    this.#record(plan.intruder, at, { outcome: 'reverted', recovery });
    this.#note(`encumber: DID guard: reverted ${plan.intruder.cid} (signed by ${plan.intruder.signer}) with ${recovery.cid}`);
    return done({ at, result: 'reverted', head: recovery.cid });
  }

  #record(intruder: GuardLogEntry['intruder'], at: string, what: Pick<GuardLogEntry, 'outcome' | 'recovery' | 'code' | 'message'>): void {
    const existing = this.#entries.find((e) => e.intruder.cid === intruder.cid);
    const fields = {
      outcome: what.outcome,
      ...(what.recovery ? { recovery: what.recovery } : {}),
      ...(what.code ? { code: what.code } : {}),
      ...(what.message ? { message: what.message.slice(0, MAX_GUARD_MESSAGE) } : {}),
    };
    if (existing) {
      delete existing.recovery;
      delete existing.code;
      delete existing.message;
      Object.assign(existing, fields, { attempts: existing.attempts + 1 });
      return;
    }
    this.#entries.push({ intruder: { ...intruder }, detectedAt: at, ...fields, attempts: 1 });
    const max = this.#deps.maxEntries ?? MAX_GUARD_ENTRIES;
    while (this.#entries.length > max) this.#entries.shift();
  }

  #note(line: string): void {
    this.#deps.log?.(line);
  }
}

/** A PLC signature: base64url (no padding) of the 64-byte low-S signature over SHA-256 of the unsigned operation's DAG-CBOR. */
export function signPlcOp(operation: UnsignedPlcOp, sign: (message: Uint8Array) => Uint8Array): UnsignedPlcOp & { sig: string } {
  return { ...operation, sig: encodeBase64Url(sign(plcOpSigningBytes(operation))) };
}

function asError(e: unknown): EncumberError {
  return e instanceof EncumberError ? e : new EncumberError('InternalError', String((e as Error)?.message ?? e), { cause: e });
}

/**
 * A sender's guard state (`exportState`), checked field by field before it is used: at most
 * MAX_GUARD_STATE_BYTES, MAX_GUARD_ENTRIES entries, every field of the right type and no other field.
 * Anything else is HandoffEvidenceInvalid.
 */
export function parseGuardState(bytes: Uint8Array): GuardState {
  const bad = (why: string): never => {
    throw new EncumberError('HandoffEvidenceInvalid', `the sender's DID guard state ${why}`);
  };
  let v: unknown;
  try {
    v = decodeCbor(bytes, MAX_GUARD_STATE_BYTES);
  } catch (e) {
    return bad(`is not DAG-CBOR of at most ${MAX_GUARD_STATE_BYTES} bytes: ${(e as Error).message}`);
  }
  const o = record(v, ['version', 'baseline', 'entries']) ?? bad('is not a { version, baseline?, entries } map');
  if (o.version !== 1) bad('is not version 1');
  if (o.baseline !== undefined && !shortString(o.baseline)) bad('has a baseline that is not a CID string');
  if (!Array.isArray(o.entries) || o.entries.length > MAX_GUARD_ENTRIES) bad(`entries must be a list of at most ${MAX_GUARD_ENTRIES}`);
  const entries = (o.entries as unknown[]).map((raw, i): GuardLogEntry => {
    const at = (why: string) => bad(`entry ${i}: ${why}`);
    const e = record(raw, ['intruder', 'detectedAt', 'outcome', 'recovery', 'code', 'message', 'attempts']) ?? at('not a map of the entry fields');
    const intruder = record(e.intruder, ['cid', 'createdAt', 'signer']);
    if (!intruder || !shortString(intruder.cid) || !shortString(intruder.createdAt) || !shortString(intruder.signer)) at('intruder must be { cid, createdAt, signer }');
    if (!shortString(e.detectedAt)) at('detectedAt must be a string');
    if (e.outcome !== 'reverted' && e.outcome !== 'failed' && e.outcome !== 'not-revertible') at('outcome is not reverted, failed or not-revertible');
    if (!Number.isSafeInteger(e.attempts) || (e.attempts as number) < 1) at('attempts must be a positive integer');
    const recovery = e.recovery === undefined ? undefined : record(e.recovery, ['cid', 'prev', 'submittedAt']);
    if (e.recovery !== undefined && (!recovery || !shortString(recovery.cid) || !shortString(recovery.prev) || !shortString(recovery.submittedAt))) {
      at('recovery must be { cid, prev, submittedAt }');
    }
    if (e.code !== undefined && !(typeof e.code === 'string' && /^[A-Za-z]{1,64}$/.test(e.code))) at('code must be an error code');
    if (e.message !== undefined && !(typeof e.message === 'string' && e.message.length <= MAX_GUARD_MESSAGE)) at(`message must be a string of at most ${MAX_GUARD_MESSAGE}`);
    const i0 = intruder as Record<string, string>;
    const r0 = recovery as Record<string, string> | undefined;
    return {
      intruder: { cid: i0.cid!, createdAt: i0.createdAt!, signer: i0.signer! },
      detectedAt: e.detectedAt as string,
      outcome: e.outcome as GuardLogEntry['outcome'],
      ...(r0 ? { recovery: { cid: r0.cid!, prev: r0.prev!, submittedAt: r0.submittedAt! } } : {}),
      ...(e.code !== undefined ? { code: e.code as ErrorCode } : {}),
      ...(e.message !== undefined ? { message: e.message as string } : {}),
      attempts: e.attempts as number,
    };
  });
  return { ...(o.baseline !== undefined ? { baseline: o.baseline as string } : {}), entries };
}

/** A plain map whose keys are all among `allowed`, or undefined. */
function record(v: unknown, allowed: readonly string[]): Record<string, unknown> | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) return undefined;
  const o = v as Record<string, unknown>;
  return Object.keys(o).every((k) => allowed.includes(k)) ? o : undefined;
}

const shortString = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
