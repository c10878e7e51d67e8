/**
 * From DIDs to verified PLC states for one request: gets each log (from the
 * request in `supplied` mode, from the directory in `fetch` mode), verifies it
 * (resuming from the last verified checkpoint of that DID, so an extended log
 * costs only its new entries) and checks it against the DID's high-water mark.
 */
import { EncumberError } from '../errors.ts';
import { verifyAuditLogResumable, type PlcCheckpoint } from '../plc/verify.ts';
import type { PlcState, PlcVerifyOptions } from '../plc/types.ts';
import { checkHighWater, type HighWaterStore } from '../policy/high-water.ts';

export type FetchLog = (did: string) => Promise<unknown>;

export interface PlcResolverOptions {
  source: 'supplied' | 'fetch';
  fetchLog?: FetchLog;
  highWater: HighWaterStore;
  verify?: Omit<PlcVerifyOptions, 'now'>;
  /** Bound on cached checkpoints (one per DID). */
  maxCached?: number;
}

export class PlcResolver {
  readonly #opts: PlcResolverOptions;
  readonly #checkpoints = new Map<string, PlcCheckpoint>();

  constructor(opts: PlcResolverOptions) {
    if (opts.source === 'fetch' && !opts.fetchLog) throw new Error('fetch mode needs a fetchLog function');
    this.#opts = opts;
  }

  async resolve(dids: string[], supplied: Record<string, unknown> | undefined, now: Date): Promise<Map<string, PlcState>> {
    const logs = await Promise.all(dids.map((did) => this.#getLog(did, supplied)));
    const states = new Map<string, PlcState>();
    dids.forEach((did, i) => states.set(did, this.#verify(did, logs[i], now)));
    return states;
  }

  async #getLog(did: string, supplied: Record<string, unknown> | undefined): Promise<unknown> {
    if (this.#opts.source === 'fetch') return this.#opts.fetchLog!(did);
    if (!supplied || !Object.hasOwn(supplied, did)) {
      throw new EncumberError('MissingPlcLog', `the policy reads PLC logs from the request (supplied mode), and plcLogs has none for ${did}`);
    }
    return supplied[did];
  }

  #verify(did: string, log: unknown, now: Date): PlcState {
    const { verdict, checkpoint } = verifyAuditLogResumable(did, log, { ...this.#opts.verify, now }, this.#checkpoints.get(did));
    if (!verdict.ok) {
      throw new EncumberError('InvalidPlcLog', `PLC log of ${did} is invalid: ${verdict.error.code}: ${verdict.error.message}`, {
        cause: verdict.error,
        ...(verdict.error.index !== undefined ? { index: verdict.error.index } : {}),
        actual: verdict.error.code,
      });
    }
    checkHighWater(this.#opts.highWater.get(did), verdict.state);
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
