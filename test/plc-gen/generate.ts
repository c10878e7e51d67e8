/**
 * Random valid did:plc audit logs, reproducible from a seed.
 *
 *   const { did, log, keys, meta } = await generateLog({ ops: 20, curve: 'mixed', seed: 7 });
 *
 * A log has a genesis (current or legacy shape), then updates (handle, PDS,
 * services, verification methods including a dedicated `encumber` key, key
 * rotations), forks inside the 72 h recovery window (signed by a strictly
 * higher-priority key of the fork point; the ops they displace become
 * `nullified: true`), sometimes a tombstone that a fork undoes, and sometimes a
 * tombstone at the end. Every log it returns is valid by the PLC rules.
 *
 * Building blocks for other scenarios: LogBuilder and `change` (./builder.ts),
 * invalid fork scenarios (./scenarios.ts), unsafe variants (./variants.ts).
 */
import { LogBuilder, change, type GeneratedLog, type OpData } from './builder.ts';
import { WINDOW_MS, HOUR_MS } from './hash.ts';
import type { CurveChoice } from './keys.ts';
import { Rng, type Seed } from './rng.ts';

export * from './builder.ts';
export * from './keys.ts';
export * from './hash.ts';
export { Rng, type Seed } from './rng.ts';

export interface GenerateOptions {
  /** Number of log entries, genesis and nullified entries included (default 20). */
  ops?: number;
  curve?: CurveChoice;
  seed?: Seed;
  /** Chance that a step is a fork when one is possible (default 0.2; 0 = a straight chain). */
  forkRate?: number;
  /** Chance of a tombstone that a fork undoes at once (default 0.05). */
  undoneTombstoneRate?: number;
  /** Chance that the last entry is a tombstone (default 0.15). */
  tombstoneRate?: number;
  /** Chance of a legacy `create` genesis (default 0.1). */
  legacyRate?: number;
  /** Chance that a fork comes exactly 72 h after the op it displaces, when that keeps time moving forward (default 0.15). */
  exact72hRate?: number;
}

export type GeneratedWithBuilder = GeneratedLog & { builder: LogBuilder };

export async function generateLog(opts: GenerateOptions = {}): Promise<GeneratedWithBuilder> {
  const total = Math.max(1, opts.ops ?? 20);
  const forkRate = opts.forkRate ?? 0.2;
  const legacy = new Rng(`${String(opts.seed ?? 1)}/options`).chance(opts.legacyRate ?? 0.1);
  const b = await LogBuilder.genesis({
    seed: opts.seed ?? 1,
    curve: opts.curve ?? 'mixed',
    legacy,
    ...(legacy ? { rotationKeys: 2 } : {}),
  });
  const rng = b.rng;

  while (b.entries.length < total) {
    const left = total - b.entries.length;
    if (left === 1 && rng.chance(opts.tombstoneRate ?? 0.15)) {
      await b.tombstone();
      break;
    }
    const fork = forkRate > 0 && rng.chance(forkRate) ? forkCandidate(b) : undefined;
    if (fork) {
      await b.update(randomChange(b, await freshKeys(b)), {
        prev: fork.prev,
        signer: rng.int(0, fork.displacedSignerIndex - 1),
        at: forkTime(b, fork.displacedMs, opts.exact72hRate ?? 0.15),
      });
      continue;
    }
    if (left >= 2 && rng.chance(opts.undoneTombstoneRate ?? 0.05) && b.rotationKeysAt(b.head).length >= 2) {
      // A tombstone by a lower-priority key, undone within the window by a higher one.
      const prev = b.head;
      const n = b.rotationKeysAt(prev).length;
      const weak = rng.int(1, n - 1);
      const t = await b.tombstone({ signer: weak });
      await b.update(randomChange(b, await freshKeys(b)), {
        prev,
        signer: rng.int(0, weak - 1),
        at: b.meta[t]!.createdAtMs + rng.int(1000, 24 * HOUR_MS),
      });
      continue;
    }
    // An ordinary update on the head, often by a lower-priority key so later forks are possible.
    const keys = b.rotationKeysAt(b.head);
    const signer = keys.length > 1 && rng.chance(0.6) ? rng.int(1, keys.length - 1) : rng.int(0, keys.length - 1);
    await b.update(randomChange(b, await freshKeys(b)), { signer });
  }
  return { ...b.result(), builder: b };
}

interface ForkPoint {
  prev: number;
  displacedSignerIndex: number;
  displacedMs: number;
}

/**
 * A fork point on the canonical chain whose next op was signed by a key that
 * has a higher-priority key above it, recent enough that a fork (after the
 * last entry) can still come within 72 h of that next op.
 */
function forkCandidate(b: LogBuilder): ForkPoint | undefined {
  const out: ForkPoint[] = [];
  for (let p = 0; p < b.canonical.length - 1; p++) {
    const prev = b.canonical[p]!;
    const next = b.meta[b.canonical[p + 1]!]!;
    if (next.signerIndex < 1) continue;
    if (b.lastMs + 1000 - next.createdAtMs > WINDOW_MS) continue;
    out.push({ prev, displacedSignerIndex: next.signerIndex, displacedMs: next.createdAtMs });
  }
  return out.length > 0 ? b.rng.pick(out) : undefined;
}

function forkTime(b: LogBuilder, displacedMs: number, exactRate: number): number {
  const latest = displacedMs + WINDOW_MS;
  if (b.rng.chance(exactRate) && latest > b.lastMs) return latest;
  return b.rng.int(b.lastMs + 1000, Math.min(latest, b.lastMs + 6 * HOUR_MS));
}

/** Keys a random change may introduce: a few fresh keys per step. */
async function freshKeys(b: LogBuilder): Promise<string[]> {
  return Promise.all([b.newKey(), b.newKey()]).then((ks) => ks.map((k) => k.did));
}

function randomChange(b: LogBuilder, fresh: string[]): (d: OpData) => OpData {
  const rng = b.rng;
  const r = rng.float();
  if (r < 0.2) return change.handle(`${rng.word()}.${rng.pick(['test', 'example.com', 'bsky.social'])}`);
  if (r < 0.32) return change.pds(`https://${rng.word()}.pds.test`);
  if (r < 0.4) return change.service(rng.pick(['encumber', 'atproto_labeler']), 'EncumberService', `https://${rng.word()}.test`);
  if (r < 0.52) return change.verificationMethod('encumber', fresh[0]!);
  if (r < 0.6) return change.verificationMethod('atproto', fresh[0]!);
  if (r < 0.65) return change.verificationMethod(rng.pick(['labeler', 'enc_2', 'k']), fresh[1]!);
  if (r < 0.7) {
    return (d) => {
      const ids = Object.keys(d.verificationMethods).filter((id) => id !== 'atproto');
      return ids.length > 0 ? change.removeVerificationMethod(rng.pick(ids))(d) : change.handle(`${rng.word()}.test`)(d);
    };
  }
  if (r < 0.95) {
    // Key rotation: keep some keys, add fresh ones, new order; 1–5 distinct keys.
    return (d) => {
      const pool = rng.shuffle([...new Set([...d.rotationKeys, ...fresh])]);
      return change.rotationKeys(pool.slice(0, rng.int(1, Math.min(5, pool.length))))(d);
    };
  }
  return change.alsoKnownAs([`at://${rng.word()}.test`, `https://${rng.word()}.example`]);
}
