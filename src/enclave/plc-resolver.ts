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
 */
import { EncumberError } from '../errors.ts';
import { verifyAuditLogResumable, type PlcCheckpoint } from '../plc/verify.ts';
import type { PlcState, PlcVerifyOptions } from '../plc/types.ts';
import { checkHighWater, type HighWaterStore } from '../policy/high-water.ts';

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
}

export class PlcResolver {
  readonly #opts: PlcResolverOptions;
  readonly #checkpoints = new Map<string, PlcCheckpoint>();
  readonly #fresh = new Map<string, { state: PlcState; fetchedAt: number }>();

  constructor(opts: PlcResolverOptions) {
    if (opts.source === 'fetch' && !opts.fetchLog) throw new Error('fetch mode needs a fetchLog function');
    this.#opts = opts;
  }

  async resolve(dids: string[], supplied: Record<string, unknown> | undefined, now: Date): Promise<Map<string, PlcState>> {
    const states = await Promise.all(dids.map((did) => this.#resolveOne(did, supplied, now)));
    return new Map(dids.map((did, i) => [did, states[i]!]));
  }

  async #resolveOne(did: string, supplied: Record<string, unknown> | undefined, now: Date): Promise<PlcState> {
    if (this.#opts.source === 'supplied') {
      if (!supplied || !Object.hasOwn(supplied, did)) {
        throw new EncumberError('MissingPlcLog', `the policy reads PLC logs from the request (supplied mode), and plcLogs has none for ${did}`);
      }
      return this.#verify(did, supplied[did], now);
    }
    const cached = this.#fresh.get(did);
    const age = cached ? now.getTime() - cached.fetchedAt : NaN;
    if (cached && age >= 0 && age < (this.#opts.maxCacheAgeMs ?? 0)) {
      checkHighWater(this.#opts.highWater.get(did), cached.state);
      return cached.state;
    }
    const sources = [this.#opts.fetchLog!, ...(this.#opts.mirrors ?? [])];
    const logs = await Promise.all(sources.map((fetchLog) => fetchLog(did)));
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
    checkHighWater(this.#opts.highWater.get(did), primary);
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
    if (checkMark) checkHighWater(this.#opts.highWater.get(did), verdict.state);
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
