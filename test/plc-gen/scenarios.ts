/**
 * Fixed-shape scenarios around the nullification rule, valid and invalid:
 *
 *   genesis(keys K0..K{n-1}) → `before` updates → [fork point]
 *     → displaced op (signed by K[displacedSigner]) → `after` more ops
 *     → fork from the fork point (signed by K[forkSigner]) at displaced.createdAt + delayMs
 *
 * Valid iff forkSigner < displacedSigner and delayMs ≤ 72 h. The entries the
 * fork displaces are flagged `nullified: true` either way (as the directory
 * would show them had it accepted the fork).
 */
import * as plc from '@did-plc/lib';
import type { PlcAnyOperation } from '../../src/plc/types.ts';
import { LogBuilder, change, type GeneratedLog } from './builder.ts';
import { HOUR_MS, WINDOW_MS } from './hash.ts';
import type { CurveChoice } from './keys.ts';
import type { Seed } from './rng.ts';

export interface ForkScenarioOptions {
  seed?: Seed;
  curve?: CurveChoice;
  /** Rotation keys of the fork point (default 3). */
  keys?: number;
  /** Updates between the genesis and the fork point (default 1). */
  before?: number;
  /** Signer of the displaced op, as an index into the fork point's keys (default 1). */
  displacedSigner?: number;
  /** Ops after the displaced one, also displaced by the fork (default 1). */
  after?: number;
  /** Signer of the fork (default 0). */
  forkSigner?: number;
  /** Time from the displaced op to the fork (default 1 h). */
  delayMs?: number;
  /** The fork is a tombstone rather than an update. */
  forkIsTombstone?: boolean;
}

export interface ForkScenario extends GeneratedLog {
  builder: LogBuilder;
  forkPoint: number;
  displaced: number;
  fork: number;
}

export async function forkScenario(opts: ForkScenarioOptions = {}): Promise<ForkScenario> {
  const b = await LogBuilder.genesis({ seed: opts.seed ?? 'fork', curve: opts.curve ?? 'mixed', rotationKeys: opts.keys ?? 3, signer: 0 });
  for (let i = 0; i < (opts.before ?? 1); i++) await b.update(change.handle(`before${i}.test`), { signer: 0 });
  const forkPoint = b.head;
  const displaced = await b.update(change.handle('displaced.test'), { signer: opts.displacedSigner ?? 1, gapMs: HOUR_MS });
  for (let i = 0; i < (opts.after ?? 1); i++) await b.update(change.pds(`https://after${i}.test`), { gapMs: 1000 });
  const at = b.meta[displaced]!.createdAtMs + (opts.delayMs ?? HOUR_MS);
  if (at <= b.lastMs) throw new Error('delayMs too small: the fork must come after the last entry');
  const forkOpts = { prev: forkPoint, signer: opts.forkSigner ?? 0, at };
  const fork = opts.forkIsTombstone ? await b.tombstone(forkOpts) : await b.update(change.handle('recovered.test'), forkOpts);
  return { ...b.result(), builder: b, forkPoint, displaced, fork };
}

/** A fork that comes `lateByMs` after the end of the 72 h window (0 = exactly 72 h: valid). */
export function lateFork(lateByMs = 1, opts: ForkScenarioOptions = {}): Promise<ForkScenario> {
  return forkScenario({ ...opts, delayMs: WINDOW_MS + lateByMs });
}

/** A fork signed by a key that is not of higher priority than the displaced op's signer. */
export function weakFork(forkSigner: number, displacedSigner: number, opts: ForkScenarioOptions = {}): Promise<ForkScenario> {
  return forkScenario({ ...opts, forkSigner, displacedSigner });
}

/** A valid fork, then an op (validly signed by the fork point's key 0) whose prev is a nullified entry. */
export async function opOnNullified(opts: ForkScenarioOptions = {}): Promise<ForkScenario & { bad: number }> {
  const s = await forkScenario(opts);
  const b = s.builder;
  const bad = await b.update(change.handle('zombie.test'), { prev: s.displaced, signer: 0, gapMs: 1000 });
  return { ...s, ...b.result(), bad };
}

/** A tombstone, then an op built on it (signed by a key of the op before the tombstone). */
export async function opOnTombstone(opts: { seed?: Seed; curve?: CurveChoice } = {}): Promise<GeneratedLog & { bad: number }> {
  const b = await LogBuilder.genesis({ seed: opts.seed ?? 'tomb', curve: opts.curve ?? 'mixed', rotationKeys: 2, signer: 0 });
  const before = b.head;
  const t = await b.tombstone({ signer: 1 });
  const signer = b.keys.get(b.rotationKeysAt(before)[1]!)!;
  const op = (await plc.signOperation(
    { type: 'plc_operation', ...b.dataAt(before), prev: b.entries[t]!.cid },
    signer.keypair,
  )) as PlcAnyOperation;
  const bad = await b.appendSigned(op, signer, { gapMs: 60_000 });
  return { ...b.result(), bad };
}
