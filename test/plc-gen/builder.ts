/**
 * LogBuilder: the building block for audit-log scenarios. Operations are made
 * and signed by @did-plc/lib (createUpdateOp / addSignature / didForCreateOp);
 * the builder adds what the directory adds: the entry's cid, createdAt (a clock
 * it controls) and the `nullified` flags a fork sets.
 *
 * The builder does not judge validity: it records whatever it is asked to
 * build (a late fork, a fork by a weak key, an op on a nullified op), with the
 * flags the directory would show had it accepted the op. Tests say what the
 * verdict must be.
 */
import * as plc from '@did-plc/lib';
import type { PlcAnyOperation, PlcAuditEntry, PlcOperation } from '../../src/plc/types.ts';
import { cidOf, didOf, iso, DAY_MS, HOUR_MS } from './hash.ts';
import { deriveKey, pickCurve, type Curve, type CurveChoice, type GenKey, type KeyRing } from './keys.ts';
import { Rng, type Seed } from './rng.ts';

/** The mutable content of a plc_operation (everything but type, prev and sig). */
export type OpData = Pick<PlcOperation, 'rotationKeys' | 'verificationMethods' | 'alsoKnownAs' | 'services'>;

export type EntryKind = 'genesis' | 'update' | 'tombstone';

export interface EntryMeta {
  kind: EntryKind;
  /** Genesis in the legacy `create` shape. */
  legacy: boolean;
  prevIndex: number | null;
  /** did:key that signed the op. */
  signer: string;
  /** Index of the signer in the keys allowed to sign (prev's rotation keys; genesis: its own); -1 if not among them. */
  signerIndex: number;
  /** Entries this one nullified when it was appended (a fork). */
  displaced: number[];
  createdAtMs: number;
}

export interface GeneratedLog {
  did: string;
  log: PlcAuditEntry[];
  keys: KeyRing;
  meta: EntryMeta[];
}

export interface AppendOptions {
  /** Entry index of prev (default: the canonical head). */
  prev?: number;
  /** Index into prev's rotation keys, or a key (default: a random key of prev). */
  signer?: number | GenKey;
  /** Absolute createdAt in ms (default: last entry + gap). */
  at?: number;
  /** Gap after the last entry in ms (default: random, see `gaps`). */
  gapMs?: number;
}

export interface GenesisOptions {
  seed?: Seed;
  curve?: CurveChoice;
  /** Rotation keys: a count of fresh keys (default 1–4) or given keys. */
  rotationKeys?: number | GenKey[];
  /** Index into the rotation keys of the genesis signer (default random). */
  signer?: number;
  handle?: string;
  pds?: string;
  /** The #atproto verification method (default: a fresh key). */
  atprotoKey?: string;
  /** Extra verification methods, e.g. { encumber: did:key }. */
  verificationMethods?: Record<string, string>;
  /** Genesis in the legacy `create` shape ([recoveryKey, signingKey] = rotation keys 0 and 1). */
  legacy?: boolean;
  /** createdAt of the genesis in ms (default: 2023-06-01 plus a random offset). */
  start?: number;
  /** Random gaps between entries: [min, max] ms for "short" and "long" gaps. */
  gaps?: { short?: [number, number]; long?: [number, number]; longRate?: number };
}

const DEFAULT_START = Date.UTC(2023, 5, 1);

export class LogBuilder {
  readonly rng: Rng;
  readonly keys: KeyRing = new Map();
  readonly entries: PlcAuditEntry[] = [];
  readonly meta: EntryMeta[] = [];
  /** Entry indexes of the canonical chain (not nullified), genesis first. */
  readonly canonical: number[] = [];
  did = '';
  readonly curve: CurveChoice;
  #keyCount = 0;
  readonly #gaps: { short: [number, number]; long: [number, number]; longRate: number };

  private constructor(rng: Rng, curve: CurveChoice, gaps: GenesisOptions['gaps']) {
    this.rng = rng;
    this.curve = curve;
    this.#gaps = {
      short: gaps?.short ?? [1000, 6 * HOUR_MS],
      long: gaps?.long ?? [6 * HOUR_MS, 30 * DAY_MS],
      longRate: gaps?.longRate ?? 0.35,
    };
  }

  /** A fresh key, derived from the seed (curve defaults to the builder's choice). */
  async newKey(curve?: Curve): Promise<GenKey> {
    const c = curve ?? pickCurve(this.rng, this.curve);
    const key = await deriveKey(this.rng, c, `key${this.#keyCount++}`);
    this.keys.set(key.did, key);
    return key;
  }

  /** Start a log with its genesis operation. */
  static async genesis(opts: GenesisOptions = {}): Promise<LogBuilder> {
    const b = new LogBuilder(new Rng(opts.seed ?? 1), opts.curve ?? 'mixed', opts.gaps);
    const rot = Array.isArray(opts.rotationKeys)
      ? opts.rotationKeys
      : await Promise.all(Array.from({ length: opts.rotationKeys ?? b.rng.int(1, 4) }, () => b.newKey()));
    for (const k of rot) b.keys.set(k.did, k);
    const handle = opts.handle ?? `${b.rng.word()}.test`;
    const pds = opts.pds ?? `https://${b.rng.word()}.pds.test`;
    const atprotoKey = opts.atprotoKey ?? (await b.newKey()).did;
    const signerIndex = opts.signer ?? b.rng.int(0, (opts.legacy ? 2 : rot.length) - 1);
    const start = opts.start ?? DEFAULT_START + b.rng.int(0, 180) * DAY_MS + b.rng.int(0, DAY_MS - 1);

    let op: PlcAnyOperation;
    if (opts.legacy) {
      if (rot.length !== 2) throw new Error('legacy genesis needs exactly 2 keys: [recoveryKey, signingKey]');
      const signer = rot[signerIndex]!;
      op = (await plc.deprecatedSignCreate(
        { type: 'create', signingKey: rot[1]!.did, recoveryKey: rot[0]!.did, handle, service: pds, prev: null },
        signer.keypair,
      )) as PlcAnyOperation;
    } else {
      const signer = rot[signerIndex]!;
      op = (await plc.signOperation(
        {
          type: 'plc_operation',
          rotationKeys: rot.map((k) => k.did),
          verificationMethods: { atproto: atprotoKey, ...opts.verificationMethods },
          alsoKnownAs: [`at://${handle}`],
          services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: pds } },
          prev: null,
        },
        signer.keypair,
      )) as PlcAnyOperation;
    }
    b.did = didOf(op);
    const libDid = await plc.didForCreateOp(op as plc.CompatibleOp);
    if (libDid !== b.did) throw new Error(`generator and @did-plc/lib disagree on the DID: ${b.did} vs ${libDid}`);
    b.#push(op, null, rot[signerIndex]!.did, signerIndex, start, opts.legacy ?? false);
    return b;
  }

  get head(): number {
    return this.canonical[this.canonical.length - 1]!;
  }

  get lastMs(): number {
    return this.meta[this.meta.length - 1]!.createdAtMs;
  }

  op(i: number): PlcAnyOperation {
    const e = this.entries[i];
    if (!e) throw new Error(`no entry ${i}`);
    return e.operation;
  }

  /** Rotation keys an op establishes (legacy create: [recoveryKey, signingKey]; tombstone: none). */
  rotationKeysAt(i: number): string[] {
    const op = this.op(i);
    if (op.type === 'plc_operation') return [...op.rotationKeys];
    if (op.type === 'create') return [op.recoveryKey, op.signingKey];
    return [];
  }

  /** The content of op i in the current shape (legacy create normalised the way the directory does). */
  dataAt(i: number): OpData {
    const op = this.op(i);
    if (op.type === 'plc_tombstone') throw new Error(`entry ${i} is a tombstone`);
    const n = plc.normalizeOp(op as plc.CompatibleOp);
    return structuredClone({
      rotationKeys: n.rotationKeys,
      verificationMethods: n.verificationMethods,
      alsoKnownAs: n.alsoKnownAs,
      services: n.services,
    });
  }

  /** Append a plc_operation made from prev's content by `change`, signed by @did-plc/lib's createUpdateOp. */
  async update(change: (d: OpData) => OpData, opts: AppendOptions = {}): Promise<number> {
    const prev = opts.prev ?? this.head;
    const signer = this.#signer(prev, opts.signer);
    const op = (await plc.createUpdateOp(this.op(prev) as plc.CompatibleOp, signer.keypair, (n) => ({
      type: 'plc_operation',
      ...change({
        rotationKeys: [...n.rotationKeys],
        verificationMethods: { ...n.verificationMethods },
        alsoKnownAs: [...n.alsoKnownAs],
        services: structuredClone(n.services),
      }),
    }))) as PlcAnyOperation;
    if (op.prev !== this.entries[prev]!.cid) {
      throw new Error(`@did-plc/lib computed prev ${op.prev}, the generator ${this.entries[prev]!.cid}`);
    }
    return this.#append(op, prev, signer, opts);
  }

  /** Append a plc_tombstone. */
  async tombstone(opts: AppendOptions = {}): Promise<number> {
    const prev = opts.prev ?? this.head;
    const signer = this.#signer(prev, opts.signer);
    const op = (await plc.addSignature({ type: 'plc_tombstone', prev: this.entries[prev]!.cid }, signer.keypair)) as PlcAnyOperation;
    return this.#append(op, prev, signer, opts);
  }

  /** Append an op signed elsewhere (its prev must name an entry of this log). */
  async appendSigned(op: PlcAnyOperation, signer: GenKey, opts: Omit<AppendOptions, 'prev' | 'signer'> = {}): Promise<number> {
    const prev = this.entries.findIndex((e) => e.cid === op.prev);
    if (prev < 0) throw new Error(`prev ${String(op.prev)} is not in this log`);
    return this.#append(op, prev, signer, opts);
  }

  /** A random gap: mostly short (seconds to hours), sometimes long (hours to weeks). */
  randomGap(): number {
    const [min, max] = this.rng.chance(this.#gaps.longRate) ? this.#gaps.long : this.#gaps.short;
    return this.rng.int(min, max);
  }

  /** A deep copy of the log so far. */
  result(): GeneratedLog {
    return { did: this.did, log: structuredClone(this.entries), keys: this.keys, meta: structuredClone(this.meta) };
  }

  #signer(prev: number, choice: AppendOptions['signer']): GenKey {
    if (typeof choice === 'object') return choice;
    const allowed = this.rotationKeysAt(prev);
    const did = choice === undefined ? this.rng.pick(allowed) : allowed[choice];
    const key = did === undefined ? undefined : this.keys.get(did);
    if (!key) throw new Error(`no private key for rotation key ${String(choice)} of entry ${prev}`);
    return key;
  }

  #append(op: PlcAnyOperation, prev: number, signer: GenKey, opts: AppendOptions): number {
    const at = opts.at ?? this.lastMs + (opts.gapMs ?? this.randomGap());
    return this.#push(op, prev, signer.did, this.rotationKeysAt(prev).indexOf(signer.did), at, false);
  }

  #push(op: PlcAnyOperation, prev: number | null, signer: string, signerIndex: number, at: number, legacy: boolean): number {
    const index = this.entries.length;
    this.entries.push({ did: this.did, operation: op, cid: cidOf(op), nullified: false, createdAt: iso(at) });
    const displaced: number[] = [];
    if (prev === null) {
      this.canonical.push(index);
    } else {
      // A fork: everything on the canonical chain after prev is nullified.
      // (prev not on the chain = an op on a nullified op; kept off-chain, flags untouched.)
      const pos = this.canonical.indexOf(prev);
      if (pos >= 0) {
        displaced.push(...this.canonical.splice(pos + 1));
        for (const d of displaced) this.entries[d]!.nullified = true;
        this.canonical.push(index);
      }
    }
    const kind: EntryKind = prev === null ? 'genesis' : op.type === 'plc_tombstone' ? 'tombstone' : 'update';
    this.meta.push({ kind, legacy, prevIndex: prev, signer, signerIndex, displaced, createdAtMs: at });
    return index;
  }
}

/** Ready-made `change` functions for LogBuilder.update. */
export const change = {
  handle:
    (handle: string) =>
    (d: OpData): OpData => ({ ...d, alsoKnownAs: [`at://${handle}`, ...d.alsoKnownAs.filter((a) => !a.startsWith('at://'))] }),
  alsoKnownAs:
    (aka: string[]) =>
    (d: OpData): OpData => ({ ...d, alsoKnownAs: aka }),
  pds:
    (endpoint: string) =>
    (d: OpData): OpData => ({
      ...d,
      services: { ...d.services, atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint } },
    }),
  service:
    (id: string, type: string, endpoint: string) =>
    (d: OpData): OpData => ({ ...d, services: { ...d.services, [id]: { type, endpoint } } }),
  verificationMethod:
    (id: string, didKey: string) =>
    (d: OpData): OpData => ({ ...d, verificationMethods: { ...d.verificationMethods, [id]: didKey } }),
  removeVerificationMethod:
    (id: string) =>
    (d: OpData): OpData => {
      const { [id]: _gone, ...rest } = d.verificationMethods;
      return { ...d, verificationMethods: rest };
    },
  rotationKeys:
    (keys: string[]) =>
    (d: OpData): OpData => ({ ...d, rotationKeys: keys }),
  none: (d: OpData): OpData => d,
};
