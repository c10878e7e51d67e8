/**
 * The composition root: from configuration to a serving SigningService. The
 * only place that creates the key, picks the attestation provider and wires
 * the PLC source. Nothing here chooses a test double.
 */
import { KeyHolder } from './key-holder.ts';
import { PlcResolver, type FetchLog } from './plc-resolver.ts';
import { SigningService } from './service.ts';
import type { Attestor } from './attestor.ts';
import type { LoadedPolicy } from '../policy/policy.ts';
import { MemoryHighWaterStore } from '../policy/high-water.ts';
import { fetchAuditLog, type DirectoryClientOptions } from '../plc/directory/client.ts';

export interface BootOptions {
  policy: LoadedPolicy;
  attestor: Attestor;
  clock?: () => Date;
  directory?: DirectoryClientOptions;
  /** Bounds on outbound work (DESIGN.md "Resource rules"); the defaults suit one enclave. */
  limits?: {
    /** Directory requests in flight, all sources together (default: 64 per source). */
    directoryFetchesInFlight?: number;
    /** Attestations running at once and waiting (default: DEFAULT_ATTESTATION_QUEUE). */
    attestation?: { concurrency?: number; maxQueued?: number };
  };
}

export function bootService(opts: BootOptions): SigningService {
  const { policy } = opts;
  const highWater = new MemoryHighWaterStore();
  const { plc } = policy.policy;
  const reader = (url: string): FetchLog => (did) => fetchAuditLog(url, did, opts.directory);
  const resolver = new PlcResolver({
    source: plc.source,
    highWater,
    ...(plc.source === 'fetch'
      ? { fetchLog: reader(plc.directory), mirrors: (plc.mirrors ?? []).map(reader), maxCacheAgeMs: (plc.maxCacheAgeSeconds ?? 0) * 1000 }
      : {}),
    ...(opts.limits?.directoryFetchesInFlight !== undefined ? { maxFetchesInFlight: opts.limits.directoryFetchesInFlight } : {}),
  });
  const service = new SigningService({
    key: KeyHolder.generate(),
    policy,
    attestor: opts.attestor,
    resolver,
    highWater,
    clock: opts.clock ?? (() => new Date()),
    ...(opts.limits?.attestation ? { attestationQueue: opts.limits.attestation } : {}),
  });
  service.start();
  return service;
}
