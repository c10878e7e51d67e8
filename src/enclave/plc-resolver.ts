/**
 * From DIDs to verified PLC states for one request: gets each log (from the
 * request in `supplied` mode, from the directory in `fetch` mode), verifies it
 * (resuming from the last verified checkpoint of that DID, so an extended log
 * costs only its new entries) and checks it against the DID's high-water mark.
 *
 * Fetch mode, freshness: with mirrors, every source is read and verified and
 * they must agree on the head (`PlcSourcesDisagree` otherwise), so a host
 * that withholds the newest operation must do so on every path. A verified
 * state is reused only while younger than `maxCacheAgeMs` (0 or absent: every
 * request reads the directory again), and every new answer is checked
 * against the high-water mark.
 *
 * Fetch mode, load (DESIGN.md "Resource rules"): one request reads each DID
 * at most once per source; concurrent requests for the same DID and source
 * share one directory request (single-flight); and the directory requests in
 * flight are bounded: a request whose new fetches would pass the bound is
 * refused whole, before any of them starts (`RateLimited`, HTTP 429).
 */
import { EncumberError } from '../errors.ts';
import { verifyAuditLogResumable, type PlcCheckpoint } from '../plc/verify.ts';
import type { PlcState, PlcVerifyOptions } from '../plc/types.ts';
import { checkHighWater, type HighWaterStore } from '../policy/high-water.ts';
import { InFlightBound } from './limits.ts';

/** Default bound on directory requests in flight, per source (the directory and each mirror). */
export const DEFAULT_FETCHES_IN_FLIGHT_PER_SOURCE = 64;

export type FetchLog = (did: string) => Promise<unknown>;

export interface PlcResolverOptions {
  source: 'supplied' | 'fetch';
  fetchLog?: FetchLog;
  /** Further sources (the policy's mirrors), read alongside `fetchLog`. */
  mirrors?: FetchLog[];
  /** Reuse a fetched state while younger than this (fetch mode). Default 0: never. */
  maxCacheAgeMs?: number;
  highWater: HighWaterStore;
  verify?: Omit<PlcVerifyOptions, 'now'>;
  /** Bound on cached checkpoints (one per DID). */
  maxCached?: number;
  /**
   * Bound on directory requests in flight, all sources together (fetch mode).
   * Default: DEFAULT_FETCHES_IN_FLIGHT_PER_SOURCE for each source, which lets
   * one request of the largest policy (64 members) through on an idle enclave.
   */
  maxFetchesInFlight?: number;
}

export class PlcResolver {
  readonly #opts: PlcResolverOptions;
  readonly #checkpoints = new Map<string, PlcCheckpoint>();
  readonly #fresh = new Map<string, { state: PlcState; fetchedAt: number }>();
  readonly #sources: FetchLog[];
  /** Directory requests in flight, by source index and DID: joined, never repeated. */
  readonly #inFlight = new Map<string, Promise<unknown>>();
  readonly #bound: InFlightBound;

  constructor(opts: PlcResolverOptions) {
    if (opts.source === 'fetch' && !opts.fetchLog) throw new Error('fetch mode needs a fetchLog function');
    this.#opts = opts;
    this.#sources = opts.source === 'fetch' ? [opts.fetchLog!, ...(opts.mirrors ?? [])] : [];
    const max = opts.maxFetchesInFlight ?? DEFAULT_FETCHES_IN_FLIGHT_PER_SOURCE * Math.max(1, this.#sources.length);
    this.#bound = new InFlightBound(max, 'PLC directory requests');
  }

  /** Directory requests in flight now (fetch mode). */
  get fetchesInFlight(): number {
    return this.#bound.inFlight;
  }

  /**
   * Each DID is read once, however often it is named. In fetch mode every
   * directory request this call needs is admitted (or the call refused) and
   * started before its first await.
   */
  async resolve(dids: string[], supplied: Record<string, unknown> | undefined, now: Date): Promise<Map<string, PlcState>> {
    const unique = [...new Set(dids)];
    let states: PlcState[];
    if (this.#opts.source === 'supplied') {
      states = unique.map((did) => this.#fromRequest(did, supplied, now));
    } else {
      // Cached states first (a stale one refuses the request before any fetch), then every fetch at once.
      const cached = new Map(unique.map((did) => [did, this.#cached(did, now)]));
      const pending = this.#startFetches(unique.filter((did) => !cached.get(did)));
      // Settle every fetch before answering, so a refused request leaves none of its own in flight.
      const settled = await Promise.allSettled(unique.map((did) => cached.get(did) ?? this.#fromSources(did, pending.get(did)!, now)));
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      states = settled.map((r) => (r as PromiseFulfilledResult<PlcState>).value);
    }
    return new Map(unique.map((did, i) => [did, states[i]!]));
  }

  #fromRequest(did: string, supplied: Record<string, unknown> | undefined, now: Date): PlcState {
    if (!supplied || !Object.hasOwn(supplied, did)) {
      throw new EncumberError('MissingPlcLog', `the policy reads PLC logs from the request (supplied mode), and plcLogs has none for ${did}`);
    }
    return this.#verify(did, supplied[did], now);
  }

  /** A verified state still young enough to reuse (checked against the mark), if any. */
  #cached(did: string, now: Date): PlcState | undefined {
    const cached = this.#fresh.get(did);
    const age = cached ? now.getTime() - cached.fetchedAt : NaN;
    if (!cached || !(age >= 0 && age < (this.#opts.maxCacheAgeMs ?? 0))) return undefined;
    checkHighWater(this.#opts.highWater.get(did), cached.state, 'fetch');
    return cached.state;
  }

  /**
   * Synchronously: join the fetches already in flight, admit the new ones
   * against the bound (all or none), and start them. One promise per DID,
   * resolving to the logs of every source in order.
   */
  #startFetches(dids: string[]): Map<string, Promise<unknown[]>> {
    const key = (source: number, did: string) => `${source} ${did}`;
    let fresh = 0;
    for (const did of dids) for (let i = 0; i < this.#sources.length; i++) if (!this.#inFlight.has(key(i, did))) fresh++;
    this.#bound.acquire(fresh);
    const out = new Map<string, Promise<unknown[]>>();
    for (const did of dids) {
      const perSource = this.#sources.map((fetchLog, i) => {
        const k = key(i, did);
        let p = this.#inFlight.get(k);
        if (!p) {
          p = new Promise<unknown>((ok) => ok(fetchLog(did)));
          this.#inFlight.set(k, p);
          const done = () => {
            this.#inFlight.delete(k);
            this.#bound.release();
          };
          p.then(done, done);
        }
        return p;
      });
      out.set(did, Promise.all(perSource));
    }
    return out;
  }

  async #fromSources(did: string, pending: Promise<unknown[]>, now: Date): Promise<PlcState> {
    // A shared answer is only read: the verifier never modifies its input.
    const logs = await pending;
    // Every source verified on its own; agreement first, then the high-water mark.
    const states = logs.map((log) => this.#verify(did, log, now, false));
    const primary = states[0]!;
    states.forEach((state, i) => {
      if (state.head.cid !== primary.head.cid) {
        throw new EncumberError(
          'PlcSourcesDisagree',
          `the PLC directory and plc.mirrors[${i - 1}] serve different heads for ${did}: ${primary.head.cid} (${primary.head.createdAt}) vs ${state.head.cid} (${state.head.createdAt})`,
          { expected: primary.head.cid, actual: state.head.cid, index: i - 1 },
        );
      }
    });
    checkHighWater(this.#opts.highWater.get(did), primary, 'fetch');
    this.#fresh.delete(did);
    if (this.#fresh.size >= (this.#opts.maxCached ?? 10_000)) this.#fresh.delete(this.#fresh.keys().next().value!);
    this.#fresh.set(did, { state: primary, fetchedAt: now.getTime() });
    return primary;
  }

  #verify(did: string, log: unknown, now: Date, checkMark = true): PlcState {
    const { verdict, checkpoint } = verifyAuditLogResumable(did, log, { ...this.#opts.verify, now }, this.#checkpoints.get(did));
    if (!verdict.ok) {
      throw new EncumberError('InvalidPlcLog', `PLC log of ${did} is invalid: ${verdict.error.code}: ${verdict.error.message}`, {
        cause: verdict.error,
        ...(verdict.error.index !== undefined ? { index: verdict.error.index } : {}),
        actual: verdict.error.code,
      });
    }
    if (checkMark) checkHighWater(this.#opts.highWater.get(did), verdict.state, this.#opts.source);
    this.#remember(did, checkpoint!);
    return verdict.state;
  }

  #remember(did: string, checkpoint: PlcCheckpoint): void {
    const limit = this.#opts.maxCached ?? 10_000;
    this.#checkpoints.delete(did);
    if (this.#checkpoints.size >= limit) this.#checkpoints.delete(this.#checkpoints.keys().next().value!);
    this.#checkpoints.set(did, checkpoint);
  }
}
