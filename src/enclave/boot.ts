/**
 * The composition root: from a configuration to a serving SigningService.
 * The only place that constructs one (a test scans src/ and test/ for
 * `new SigningService(`): it creates the key, picks the attestation provider,
 * wires the PLC sources and the high-water marks, and starts the service.
 * Used by `encumber serve`, by the enclave image's entry point (./main.ts)
 * and by the tests' service fixture (test/support/world.ts).
 *
 * Nothing here chooses a test double: a caller that wants one passes it (an
 * attestor, a directory reader); from a platform name only real providers
 * are built (./platforms.ts).
 */
import { readFile } from 'node:fs/promises';
import { EncumberError } from '../errors.ts';
import { installLibsecp256k1 } from '../crypto/k256-libsecp256k1.ts';
import { isDemoPolicy, loadDefaultPolicy } from '../policy/default-policy.ts';
import { parsePolicyJson, type LoadedPolicy } from '../policy/policy.ts';
import { didGuardOf } from '../policy/schema.ts';
import { MemoryHighWaterStore, type HighWaterStore } from '../policy/high-water.ts';
import { fetchAuditLog, submitOperation, type DirectoryClientOptions } from '../plc/directory/client.ts';
import { DidGuard, type GuardTimer } from './did-guard.ts';
import { KeyHolder } from './key-holder.ts';
import { PlcResolver, type FetchLog } from './plc-resolver.ts';
import { failureOf, SigningService } from './service.ts';
import { AWS_NITRO_ROOT_G1_DER } from '../attestation/nitro/index.ts';
import { encodeCbor } from '../data/cbor.ts';
import { cidForCborBytes } from '../data/cid.ts';
import type { Measurements } from '../verifier/measurements.ts';
import { approvedSetOf, ownMeasurement } from '../verifier/handoff.ts';
import { UpgradeStore } from './upgrades.ts';
import { unionMeasurements } from '../verifier/upgrade.ts';
import { fetchUpgrades, joinFrom, type HandoffLimits, type HandoffTrustSource, type JoinDeps } from './handoff.ts';
import type { Attestor } from './attestor.ts';
import type { Platform } from './documents.ts';
import { createAttestor } from './platforms.ts';
import { attestationSelfCheck } from './self-check.ts';

/** A platform to open: the hardware interface (or the dev root) is found from these. */
export interface PlatformConfig {
  platform: Platform;
  /** Where the dev root lives (dev platform). */
  dataDir: string;
  /** SEV-SNP: a certificate table (auxblob format) used when the host supplies none. */
  snpCertsFile?: string;
  /** Where the hardware interfaces are (tests point these at stand-ins). */
  nsmDevice?: string;
  tsmReportDir?: string;
}

export interface ServiceConfig {
  policy: LoadedPolicy;
  /** The attestation provider: a platform to open, or a ready attestor. */
  attestor: PlatformConfig | Attestor;
  /** Run the demo policy (public member keys) on nitro or sev-snp anyway. */
  allowDemoPolicy?: boolean;
  clock?: () => Date;
  /** The HTTP directory client's bounds (fetch mode). */
  directory?: DirectoryClientOptions;
  /**
   * Reads one DID's audit log from one source (the policy's directory or one
   * of its mirrors, by URL). Default: the HTTP directory client.
   */
  fetchLog?: (source: string, did: string) => Promise<unknown>;
  /** Where the per-DID high-water marks live (default: in memory, for the key's lifetime). */
  highWater?: HighWaterStore;
  /** Bounds on outbound work (DESIGN.md "Resource rules"); the defaults suit one enclave. */
  limits?: {
    /** Directory requests in flight, all sources together (default: 64 per source). */
    directoryFetchesInFlight?: number;
    /** Attestations running at once and waiting (default: DEFAULT_ATTESTATION_QUEUE). */
    attestation?: { concurrency?: number; maxQueued?: number };
  };
  /** Where the key's 32 random bytes come from (default: the CSPRNG); only the key-leak tests pass one. */
  drawKey?: () => Uint8Array;
  /** The same for the DID guard's key (drawn only when the policy's didGuard is enabled). */
  drawGuardKey?: () => Uint8Array;
  /** The DID guard's timer (default: setTimeout, unref'd); tests pass a manual one. */
  guardTimer?: GuardTimer;
  /** POST /:did to a directory (default: the HTTP directory client); tests pass a stand-in. */
  submitPlcOp?: (directory: string, did: string, operation: unknown) => Promise<{ status: number; body: unknown }>;
  /** Start-up notes and warnings, one line each (default: none). */
  log?: (line: string) => void;
  /**
   * Join: take the enclave key from the running instance at `url` by the
   * attested hand-off (./handoff.ts, docs/key-handoff.md) instead of drawing
   * one. The service stays booting (health 503) until it holds the key, and
   * fails, for good, if the hand-off fails.
   */
  join?: { url: string } & Pick<JoinDeps, 'fetch' | 'timeoutMs' | 'random'>;
  /** The hand-off's trust: default roots of the platform, approved = this instance's own measurement. */
  handoff?: { roots?: Uint8Array[]; approved?: Measurements | (() => Promise<Measurements>); limits?: Partial<HandoffLimits> };
}

function isAttestor(a: PlatformConfig | Attestor): a is Attestor {
  return typeof (a as Attestor).attest === 'function';
}

/**
 * Build the service and start it. Throws `UsageError` for a configuration
 * that must not run (the demo policy on hardware without consent; a hardware
 * platform whose interface is absent).
 */
export function bootService(config: ServiceConfig): SigningService {
  // k256 verification (co-signatures, PLC operations) on libsecp256k1; the key holder signs with it too.
  installLibsecp256k1();
  const { policy } = config;
  const log = config.log ?? (() => {});
  const platform = config.attestor.platform;

  // The demo policy's member keys are public (test/fixtures/demo): on hardware
  // an attested key under it would sign anything for the demo repository.
  if (platform !== 'dev' && isDemoPolicy(policy)) {
    if (!config.allowDemoPolicy) {
      throw new EncumberError(
        'UsageError',
        `refusing the demo policy ${policy.cid} on ${platform}: its member keys are public, so anyone could get records signed; give --policy FILE (your organisation's policy), or --allow-demo-policy to run the demo anyway`,
      );
    }
    log(`encumber: WARNING: running the demo policy ${policy.cid} on ${platform} (--allow-demo-policy): its member keys are public`);
  }

  const clock = config.clock ?? (() => new Date());
  let attestor: Attestor;
  if (isAttestor(config.attestor)) {
    attestor = config.attestor;
  } else {
    const { platform: p, dataDir, snpCertsFile, nsmDevice, tsmReportDir } = config.attestor;
    const made = createAttestor(p, {
      dataDir,
      now: clock(),
      ...(snpCertsFile ? { snpCertsFile } : {}),
      ...(nsmDevice ? { nsmDevice } : {}),
      ...(tsmReportDir ? { tsmReportDir } : {}),
    });
    attestor = made.attestor;
    for (const note of made.notes) log(note);
  }

  const highWater = config.highWater ?? new MemoryHighWaterStore();
  const { plc } = policy.policy;
  const read = config.fetchLog ?? ((source: string, did: string) => fetchAuditLog(source, did, config.directory));
  const reader = (source: string): FetchLog => (did) => read(source, did);
  const resolver = new PlcResolver({
    source: plc.source,
    highWater,
    ...(plc.source === 'fetch'
      ? { fetchLog: reader(plc.directory), mirrors: (plc.mirrors ?? []).map(reader), maxCacheAgeMs: (plc.maxCacheAgeSeconds ?? 0) * 1000 }
      : {}),
    ...(config.limits?.directoryFetchesInFlight !== undefined ? { maxFetchesInFlight: config.limits.directoryFetchesInFlight } : {}),
  });
  // The DID guard's key (docs/did-guard.md, decisions.md "DID guard key"): a
  // second holder, drawn here like the signing key, never derived from it.
  // A joining instance receives it with the enclave key, in the same seal (docs/key-handoff.md).
  const guarded = didGuardOf(policy.policy) !== undefined;
  let guardKey = guarded && !config.join ? (config.drawGuardKey ? KeyHolder.generate(config.drawGuardKey) : KeyHolder.generate()) : undefined;
  const upgrades = new UpgradeStore();
  const trust = handoffTrust(attestor, clock, config.handoff, upgrades);
  // The watcher (fetch mode, the policy's directory): one per service, started with it, stopped when it fails.
  const built: { service?: SigningService } = {};
  const guardPolicy = didGuardOf(policy.policy);
  const didGuard = guardPolicy
    ? (() => {
        const fetchLog = (did: string) => read(plc.directory, did);
        const submitTo = config.submitPlcOp ?? ((dir: string, did: string, op: unknown) => submitOperation(dir, did, op, config.directory));
        const submit = (did: string, op: unknown) => submitTo(plc.directory, did, op);
        const watcher = new DidGuard({
          did: policy.policy.repository,
          policy: guardPolicy,
          guardKey: {
            // The watcher starts only once the key is there (at boot, or when the hand-off delivered it).
            get did() {
              if (!guardKey) throw new EncumberError('ServiceNotReady', 'the service holds no guard key yet');
              return guardKey.did;
            },
            // Fail closed: nothing is signed by a service that is not serving.
            sign: (m) => {
              if (built.service?.state !== 'serving' || !guardKey) throw new EncumberError('ServiceNotReady', 'the service is not serving');
              return guardKey.sign(m);
            },
          },
          fetchLog,
          submit,
          clock,
          timer: config.guardTimer ?? realTimer,
          log,
        });
        return { watcher, fetchLog, submit };
      })()
    : undefined;
  const handoffLimits = config.handoff?.limits;
  const service = new SigningService({
    ...(config.join ? {} : { key: config.drawKey ? KeyHolder.generate(config.drawKey) : KeyHolder.generate() }),
    ...(guardKey ? { guardKey } : {}),
    ...(didGuard ? { didGuard } : {}),
    policy,
    attestor,
    resolver,
    highWater,
    clock,
    ...(config.limits?.attestation ? { attestationQueue: config.limits.attestation } : {}),
    handoff: { trust, ...(handoffLimits ? { limits: handoffLimits } : {}) },
    upgrades,
  });
  built.service = service;
  if (!config.join) {
    service.start();
    didGuard?.watcher.start();
    return service;
  }

  // Joining: booting (health 503) until the key arrives; failed, for good, on any doubt.
  const { url, ...joinOptions } = config.join;
  log(`encumber: joining ${url}: asking for the enclave key by attested hand-off`);
  // The sender's approved upgrades first, each re-checked here: a new release accepts the one it takes over from
  // only if a quorum approved it (docs/key-handoff.md "Upgrades").
  const inherit = async () => {
    const refused = await service.inheritUpgrades(await fetchUpgrades({ url, ...joinOptions }));
    for (const r of refused) log(`encumber: hand-off from ${url}: upgrade ${r.cid} not inherited: ${r.code}: ${r.message}`);
    return joinFrom({
      url,
      policy,
      platform: attestor.platform,
      clock,
      attestor,
      trust,
      ...joinOptions,
      ...(handoffLimits ? { limits: handoffLimits } : {}),
      // The sender's marks, before this instance serves: the same key never accepts a log older than one it used.
      onMarks: (marks) => {
        for (const m of marks) highWater.set(m.did, { cid: m.cid });
      },
    });
  };
  inherit().then(
    ({ key, guard }) => {
      // Keys that arrive after the service failed or stopped are not kept.
      if (service.state !== 'booting') {
        key.wipe();
        guard?.key.wipe();
        return;
      }
      try {
        service.installKey(key, guard?.key);
        guardKey = guard?.key;
        // The sender's baseline and public log, before the first poll.
        if (guard) didGuard?.watcher.restore(guard.state);
        for (const cid of service.keepInheritedWithKey()) log(`encumber: hand-off from ${url}: upgrade ${cid} dropped: its receipt is not signed by the enclave key`);
        service.start();
        didGuard?.watcher.start();
      } catch (e) {
        // Whatever went wrong, the instance fails closed and keeps no key.
        const failure = failureOf(e);
        service.fail(failure);
        key.wipe();
        guard?.key.wipe();
        log(`encumber: hand-off from ${url} FAILED after the keys arrived: ${failure.code}: ${failure.message}`);
        return;
      }
      log(`encumber: hand-off from ${url}: holding enclave key ${key.did}${guard ? ` and DID guard key ${guard.key.did}` : ''}`);
    },
    (e: unknown) => {
      const failure = failureOf(e);
      service.fail(failure);
      log(`encumber: hand-off from ${url} FAILED: ${failure.code}: ${failure.message}`);
    },
  );
  return service;
}

/** The guard's production timer: a timeout that does not keep the process alive. */
const realTimer: GuardTimer = (run, ms) => {
  const t = setTimeout(run, ms);
  t.unref?.();
  return () => clearTimeout(t);
};

/**
 * Whom this instance trusts in a hand-off peer: its platform's root (AWS
 * Nitro root G1; the dev root its own attestor uses; SEV-SNP: the pinned AMD
 * ARKs, inside the verifier), and the approved measurements: unless given,
 * exactly its own, read once from evidence about itself. Upgrades approved
 * by a quorum would be added here (docs/key-handoff.md "Upgrades").
 */
function handoffTrust(attestor: Attestor, clock: () => Date, given: ServiceConfig['handoff'], upgrades: UpgradeStore): HandoffTrustSource {
  const base = ownTrust(attestor, clock, given);
  // The approved set: this instance's own measurement (or the given set), and every quorum-approved upgrade's.
  return { roots: base.roots, approved: async () => unionMeasurements(await base.approved(), upgrades.measurements()) };
}

function ownTrust(attestor: Attestor, clock: () => Date, given: ServiceConfig['handoff']): HandoffTrustSource {
  const platform = attestor.platform;
  const roots = given?.roots ?? (platform === 'nitro' ? [AWS_NITRO_ROOT_G1_DER] : platform === 'dev' && attestor.devRoot ? [attestor.devRoot] : []);
  const fixed = given?.approved;
  if (typeof fixed === 'function') return { roots, approved: fixed };
  let approved: Promise<Measurements> | undefined = fixed ? Promise.resolve(fixed) : undefined;
  const self = async (): Promise<Measurements> => {
    const probe = encodeCbor({ $type: 'dev.encumber.measurementProbe' });
    const now = clock();
    const evidence = await attestor.attest({
      publicKey: new Uint8Array(33),
      bindingBytes: probe,
      bindingCid: cidForCborBytes(probe).bytes,
      nonce: crypto.getRandomValues(new Uint8Array(32)),
      now,
    });
    return approvedSetOf(await ownMeasurement(evidence, { platform, roots, at: now }));
  };
  return {
    roots,
    approved: () => {
      approved ??= self().catch((e: unknown) => {
        approved = undefined;
        throw e;
      });
      return approved;
    },
  };
}

/** The policy from a file, or the embedded demo policy when no file is given. */
export async function loadPolicy(file?: string): Promise<LoadedPolicy> {
  if (!file) return loadDefaultPolicy();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new EncumberError('UsageError', `cannot read policy ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return parsePolicyJson(text);
  } catch (e) {
    if (e instanceof EncumberError) throw new EncumberError('UsageError', `${file}: ${e.code}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * On a hardware platform, one attestation before the service is exposed
 * (./self-check.ts): a broken NSM or configfs-tsm stops the start-up here
 * (the attestor's failure has already failed the service), and the console
 * gets the identity and the document (public data). The dev platform skips it.
 */
export async function checkAttestationAtStart(service: SigningService, log: (line: string) => void): Promise<void> {
  if (service.platform === 'dev') return;
  const id = service.identity();
  log(`encumber: identity: key=${id.key} binding=${id.bindingCid} policy=${id.policyCid} platform=${id.platform}`);
  try {
    for (const line of (await attestationSelfCheck(service, service.attestor)).lines) log(line);
  } catch (e) {
    service.fail(service.failure ?? { code: 'InternalError', message: String((e as Error)?.message ?? e) });
    const err = e as EncumberError & { reason?: string };
    log(`encumber: attestation self-check FAILED: ${err.code ?? 'InternalError'}${err.reason ? ` (${err.reason})` : ''}: ${err.message}`);
    throw e;
  }
}
