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
import { toCanonicalUtcMillis } from '../data/syntax/datetime.ts';
import { verifiedNodes, verifyAuditLogResumable } from '../plc/verify.ts';
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
    // 3. The first verified head is the baseline: what came before the guard is history.
    this.#baseline ??= state.head.cid;
    // 4. The decision (pure).
    const plan = planGuard({ state, nodes: verifiedNodes(checkpoint), baseline: this.#baseline, guardKey: guardKey.did, revert: this.#deps.policy.revert, now });
    if (plan.action === 'halt') return done({ at, result: 'no-action', head: state.head.cid, code: plan.code, message: plan.message });
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
      ...(what.message ? { message: what.message } : {}),
    };
    if (existing) {
      delete existing.recovery;
      delete existing.code;
      delete existing.message;
      Object.assign(existing, fields, { attempts: existing.attempts + 1 });
      return;
    }
    this.#entries.push({ intruder: { ...intruder }, detectedAt: at, ...fields, attempts: 1 });
    const max = this.#deps.maxEntries ?? 256;
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
