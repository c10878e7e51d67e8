/**
 * Property tests (fast-check): mutate valid generated audit logs anywhere and
 * check that verifyAuditLog
 *   - never throws, and always returns a well-formed verdict: ok:true with a
 *     state, or ok:false with an EncumberError whose code is a PlcErrorCode;
 *   - accepts only what it should. Oracle, by what the mutation produced:
 *       · the same JSON (up to key order)         → must accept;
 *       · entries of the original log, dropped / repeated / reordered / truncated,
 *         or with changed createdAt (still canonical) → must agree with the
 *         reference model of the chain rules (test/plc-gen/model.ts);
 *       · anything else (a changed op, cid, did, flag, a non-canonical createdAt,
 *         an added or dropped key, a value of another type) → must reject;
 *   - gives the same verdict (code and index too) when resumed from the
 *     checkpoint of a valid prefix as when verifying from scratch.
 *
 * Runs are bounded (the whole file takes a few seconds). Set PLC_PROP_SEED to
 * replay a failing run; fast-check prints the seed and the shrunk case.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { verifyAuditLog, verifyAuditLogResumable } from '../../src/plc/verify.ts';
import { EncumberError, type PlcErrorCode } from '../../src/errors.ts';
import type { PlcAuditEntry, PlcVerdict } from '../../src/plc/types.ts';
import { cidOf, generateLog, type GeneratedLog } from '../plc-gen/generate.ts';
import { modelVerdict, type ModelEntry } from '../plc-gen/model.ts';

const PLC_CODES = [
  'InvalidPlcLog',
  'InvalidPlcOperation',
  'PlcDidMismatch',
  'PlcCidMismatch',
  'PlcPrevMismatch',
  'PlcBadSignatureEncoding',
  'PlcInvalidSignature',
  'PlcSignatureNotLowS',
  'PlcForkKeyNotHigherPriority',
  'PlcNoRotationKeys',
  'PlcPrevNullified',
  'PlcPrevTombstoned',
  'PlcLateNullification',
  'PlcNullifiedMismatch',
  'PlcCreatedAtOrder',
  'PlcLegacyCreateNotGenesis',
  'PlcTombstoneGenesis',
  'PlcCreatedInFuture',
  'PlcRotationKeysRule',
] as const satisfies readonly PlcErrorCode[];
// Compile-time check that the list above is the whole union.
type MissingCode = Exclude<PlcErrorCode, (typeof PLC_CODES)[number]>;
const _allCodesListed: [MissingCode] extends [never] ? true : MissingCode = true;
const PLC_CODE_SET: ReadonlySet<string> = new Set(PLC_CODES);

const fcParams = (numRuns: number) => {
  const seed = process.env.PLC_PROP_SEED;
  return seed === undefined ? { numRuns } : { numRuns, seed: Number(seed) };
};

// ---------------------------------------------------------------------------
// Verdict checks

/** Calls the verifier; a throw is a test failure, and so is a malformed verdict. */
function verdictOf(did: unknown, log: unknown): PlcVerdict {
  let v: PlcVerdict;
  try {
    v = verifyAuditLog(did as string, log);
  } catch (e) {
    assert.fail(`verifyAuditLog threw: ${(e as Error)?.stack ?? String(e)}`);
  }
  assert.ok(v !== null && typeof v === 'object' && typeof v.ok === 'boolean', 'verdict has a boolean ok');
  if (v.ok) {
    assert.equal(v.state.did, did);
    assert.equal(v.state.nullified.length, (log as unknown[]).length);
  } else {
    assert.ok(v.error instanceof EncumberError, `error is an EncumberError: ${String(v.error)}`);
    assert.ok(PLC_CODE_SET.has(v.error.code), `code ${v.error.code} is a PlcErrorCode`);
    assert.equal(typeof v.error.message, 'string');
    if (v.error.index !== undefined && Array.isArray(log)) {
      assert.ok(Number.isInteger(v.error.index) && v.error.index >= 0 && v.error.index < log.length, `index ${v.error.index} in range`);
    }
  }
  return v;
}

const why = (v: PlcVerdict) => (v.ok ? 'accepted' : `${v.error.code}: ${v.error.message}`);

// ---------------------------------------------------------------------------
// JSON paths and mutations

type Json = unknown;
type Path = (string | number)[];

function allPaths(v: Json, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (Array.isArray(v)) for (const [i, x] of v.entries()) allPaths(x, [...path, i], out);
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) allPaths((v as Record<string, Json>)[k], [...path, k], out);
  return out;
}

function getAt(root: Json, path: Path): Json {
  return path.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k], root);
}

/** Set at path (root path replaces the whole value); returns the new root. */
function setAt(root: Json, path: Path, value: Json): Json {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, Json>;
  Object.defineProperty(parent, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
  return root;
}

function deleteAt(root: Json, path: Path): Json {
  if (path.length === 0) return undefined;
  const parent = getAt(root, path.slice(0, -1));
  const k = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(k as number, 1);
  else delete (parent as Record<string, Json>)[k as string];
  return root;
}

const isPlainObject = (v: Json): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);
const typeOf = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const OTHER_TYPE_VALUES: readonly Json[] = [null, 0, -1, 1.5, 2 ** 53, true, false, '', 'x', 'did:key:z', [], [null], {}, { type: 'plc_operation' }];

const KINDS = [
  'replaceOtherType',
  'replaceJson',
  'flipBool',
  'dropKey',
  'addKey',
  'charChange',
  'truncateString',
  'shuffleKeys',
  'arrayDrop',
  'arrayDup',
  'arraySwap',
  'entryDrop',
  'entryDup',
  'entrySwap',
  'truncateLog',
  'createdAtShift',
  'createdAtChar',
  'opChangeRecid',
] as const;
type Kind = (typeof KINDS)[number];

interface Recipe {
  kind: Kind;
  pick: number;
  pick2: number;
  value: Json;
  ch: string;
  key: string;
  delta: number;
}

const recipeArb: fc.Arbitrary<Recipe> = fc.record({
  kind: fc.constantFrom(...KINDS),
  pick: fc.nat(),
  pick2: fc.nat(),
  value: fc.jsonValue({ maxDepth: 2 }),
  ch: fc.oneof(fc.constantFrom(...'aAzZ0279=-_+/:.\n "\\é'), fc.string({ minLength: 1, maxLength: 1 })),
  // Added as own properties, as JSON.parse makes them ('__proto__' included).
  key: fc.oneof(fc.constantFrom('extra', 'sig', 'prev', 'type', 'nullified', 'createdAt', 'did', 'cid', 'atproto', 'encumber', '', '__proto__'), fc.string({ maxLength: 8 })),
  delta: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -100 * 86_400_000, max: 100 * 86_400_000 }), fc.constantFrom(72 * 3_600_000, 72 * 3_600_000 + 1, -72 * 3_600_000)),
});

/** Apply one mutation to a deep copy of the log. */
function mutate(original: Json, r: Recipe): Json {
  const log: Json = structuredClone(original);
  const paths = allPaths(log);
  const path = paths[r.pick % paths.length]!;
  const here = getAt(log, path);

  const replaceOtherType = () => {
    const choices = OTHER_TYPE_VALUES.filter((v) => typeOf(v) !== typeOf(here));
    return setAt(log, path, structuredClone(choices[r.pick2 % choices.length]));
  };
  /** The nearest array at or above the path (the log itself at worst). */
  const nearestArray = (): Path | undefined => {
    for (let p = path; ; p = p.slice(0, -1)) {
      if (Array.isArray(getAt(log, p))) return p;
      if (p.length === 0) return undefined;
    }
  };

  switch (r.kind) {
    case 'replaceOtherType':
      return replaceOtherType();
    case 'replaceJson':
      return setAt(log, path, r.value);
    case 'flipBool':
      return typeof here === 'boolean' ? setAt(log, path, !here) : replaceOtherType();
    case 'dropKey':
      return deleteAt(log, path);
    case 'addKey': {
      // To the object at the path, else to the object holding it; arrays get an element.
      const target = isPlainObject(here) || Array.isArray(here) || path.length === 0 ? path : path.slice(0, -1);
      const t = getAt(log, target);
      if (Array.isArray(t)) return (t.push(r.value), log);
      return isPlainObject(t) ? setAt(log, [...target, r.key], r.value) : log;
    }
    case 'charChange': {
      if (typeof here !== 'string') return replaceOtherType();
      const at = here.length === 0 ? 0 : r.pick2 % here.length;
      return setAt(log, path, here.slice(0, at) + r.ch + here.slice(at + 1));
    }
    case 'truncateString':
      return typeof here === 'string' ? setAt(log, path, here.slice(0, r.pick2 % Math.max(1, here.length))) : replaceOtherType();
    case 'shuffleKeys': {
      if (here === null || typeof here !== 'object' || Array.isArray(here)) return log;
      const keys = Object.keys(here);
      const rotated = keys.map((_, i) => keys[(i + r.pick2) % keys.length]!).reverse();
      const copy: Record<string, Json> = {};
      for (const k of rotated) copy[k] = (here as Record<string, Json>)[k];
      return setAt(log, path, copy);
    }
    case 'arrayDrop':
    case 'arrayDup':
    case 'arraySwap': {
      const p = nearestArray();
      if (p === undefined) return log;
      const arr = getAt(log, p) as Json[];
      if (arr.length === 0) return setAt(log, p, [r.value]);
      const i = r.pick2 % arr.length;
      const j = (r.pick2 >>> 4) % arr.length;
      if (r.kind === 'arrayDrop') arr.splice(i, 1);
      else if (r.kind === 'arrayDup') arr.splice(j, 0, structuredClone(arr[i]));
      else [arr[i], arr[j]] = [arr[j], arr[i]];
      return log;
    }
    case 'opChangeRecid':
      return changeOpAndRecid(log, r);
    default:
      return mutateEntries(log, r);
  }
}

/**
 * Change something inside one entry's operation AND recompute that entry's cid,
 * so the cid check passes and the signature (or the prev links after it) must
 * catch the change.
 */
function changeOpAndRecid(log: Json, r: Recipe): Json {
  const opPaths = allPaths(log).filter((p) => p.length >= 3 && p[1] === 'operation');
  if (opPaths.length === 0) return log;
  const path = opPaths[r.pick % opPaths.length]!;
  const here = getAt(log, path);
  const changed =
    typeof here === 'string' && here.length > 0 && r.pick2 % 2 === 0
      ? here.slice(0, r.pick2 % here.length) + r.ch + here.slice((r.pick2 % here.length) + 1)
      : OTHER_TYPE_VALUES.filter((v) => typeOf(v) !== typeOf(here))[r.pick2 % 10];
  setAt(log, path, structuredClone(changed));
  const entry = getAt(log, path.slice(0, 1)) as PlcAuditEntry;
  try {
    entry.cid = cidOf(entry.operation);
  } catch {
    // not encodable as DAG-CBOR: leave the cid as it was
  }
  return log;
}

/** Mutations of the log's list of entries and of their createdAt (which no signature covers). */
function mutateEntries(log: Json, r: Recipe): Json {
  if (!Array.isArray(log) || log.length === 0) return log;
  const entries = log as Json[];
  const n = entries.length;
  const pickedEntry = entries[r.pick2 % n];
  switch (r.kind) {
    case 'entryDrop':
      return entries.filter((_, i) => i !== r.pick2 % n);
    case 'entryDup':
      return (entries.splice(r.pick % (n + 1), 0, structuredClone(entries[r.pick2 % n])), log);
    case 'entrySwap': {
      const i = r.pick % n;
      const j = r.pick2 % n;
      [entries[i], entries[j]] = [entries[j], entries[i]];
      return log;
    }
    case 'truncateLog':
      return entries.slice(0, r.pick2 % (n + 1));
    case 'createdAtShift':
    case 'createdAtChar': {
      if (!isPlainObject(pickedEntry) || typeof pickedEntry.createdAt !== 'string') return log;
      const was = pickedEntry.createdAt;
      const ms = Date.parse(was) + r.delta;
      const at = r.pick % Math.max(1, was.length);
      pickedEntry.createdAt =
        r.kind === 'createdAtChar' ? was.slice(0, at) + r.ch + was.slice(at + 1) : Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : was;
      return log;
    }
    default:
      return log;
  }
}

// ---------------------------------------------------------------------------
// The oracle

const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const canonicalTime = (s: unknown): s is string =>
  typeof s === 'string' && CREATED_AT.test(s) && Number.isFinite(Date.parse(s)) && new Date(Date.parse(s)).toISOString() === s;

type Expectation = { accept: true } | { accept: false } | { model: ModelEntry[] };

/**
 * What the verifier must do with `mutated`, judged from what it is, not from
 * how it was made.
 */
function expectation(gen: GeneratedLog, mutated: Json): Expectation {
  const original = gen.log;
  if (isDeepStrictEqual(mutated, original)) return { accept: true };
  if (!Array.isArray(mutated)) return { accept: false };
  const model: ModelEntry[] = [];
  for (const m of mutated) {
    // An entry of the original log, as it was …
    let from = original.findIndex((o) => isDeepStrictEqual(m, o));
    if (from >= 0) {
      model.push({ from, createdAtMs: Date.parse(original[from]!.createdAt), nullified: original[from]!.nullified });
      continue;
    }
    // … or with only its createdAt changed (still the same set of keys).
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return { accept: false };
    const { createdAt, ...rest } = m as Record<string, unknown>;
    from = original.findIndex(({ createdAt: _c, ...o }) => isDeepStrictEqual(rest, o));
    if (from < 0 || !('createdAt' in m)) return { accept: false };
    if (!canonicalTime(createdAt)) return { accept: false };
    model.push({ from, createdAtMs: Date.parse(createdAt), nullified: original[from]!.nullified });
  }
  return { model };
}

function check(gen: GeneratedLog, mutated: Json, label: string): void {
  const v = verdictOf(gen.did, mutated);
  const exp = expectation(gen, mutated);
  if ('model' in exp) {
    const m = modelVerdict(gen.meta, exp.model);
    assert.equal(v.ok, m.ok, `${label}: model says ${m.ok ? 'valid' : `invalid (${m.why})`}, verifier: ${why(v)}`);
    if (v.ok && m.ok) assert.deepEqual(v.state.nullified, m.nullified, label);
  } else {
    assert.equal(v.ok, exp.accept, `${label}: expected ${exp.accept ? 'accept' : 'reject'}, verifier: ${why(v)}`);
  }
}

// ---------------------------------------------------------------------------

describe('property: mutated audit logs', () => {
  const pool: GeneratedLog[] = [];
  before(async () => {
    const shapes = [
      { ops: 20, curve: 'k256', forkRate: 0.3 },
      { ops: 20, curve: 'p256', forkRate: 0.3 },
      { ops: 16, curve: 'mixed', forkRate: 0.4, tombstoneRate: 1 },
      { ops: 12, curve: 'mixed', forkRate: 0.3, legacyRate: 1 },
      { ops: 10, curve: 'mixed', forkRate: 0, tombstoneRate: 0 },
      { ops: 8, curve: 'k256', forkRate: 0.5, undoneTombstoneRate: 0.3 },
      { ops: 3, curve: 'p256', forkRate: 0 },
      { ops: 1, curve: 'k256' },
    ] as const;
    for (const [i, shape] of shapes.entries()) pool.push(await generateLog({ ...shape, seed: `prop-${i}` }));
    for (const g of pool) assert.ok(verifyAuditLog(g.did, g.log).ok, 'pool logs are valid');
    assert.ok(pool.some((g) => g.log.some((e) => e.nullified)), 'the pool has forks');
  });

  test('one mutation anywhere: a well-formed verdict that the oracle agrees with', () => {
    const arb = fc.tuple(fc.nat({ max: pool.length - 1 }), recipeArb);
    fc.assert(
      fc.property(arb, ([li, r]) => {
        const gen = pool[li]!;
        check(gen, mutate(gen.log, r), `${r.kind} on log ${li}`);
      }),
      fcParams(400),
    );
  });

  test('one to four mutations: never throws; whatever it accepts was signed (every entry is an original entry, up to createdAt)', () => {
    const arb = fc.tuple(fc.nat({ max: pool.length - 1 }), fc.array(recipeArb, { minLength: 1, maxLength: 4 }));
    fc.assert(
      fc.property(arb, ([li, rs]) => {
        const gen = pool[li]!;
        let log: Json = gen.log;
        for (const r of rs) log = mutate(log, r);
        const v = verdictOf(gen.did, log);
        if (!v.ok) return;
        for (const e of log as PlcAuditEntry[]) {
          const signed = { did: e.did, operation: e.operation, cid: e.cid };
          assert.ok(
            gen.log.some((o) => isDeepStrictEqual(signed, { did: o.did, operation: o.operation, cid: o.cid })),
            `accepted an entry that is not in the original log: ${JSON.stringify(e).slice(0, 200)}`,
          );
        }
      }),
      fcParams(300),
    );
  });

  test('resuming from the checkpoint of a valid prefix gives the same verdict as verifying from scratch', () => {
    /** The prefix as the directory served it then: only forks inside the prefix have nullified anything yet. */
    const prefixOf = (gen: GeneratedLog, k: number): PlcAuditEntry[] => {
      const gone = new Set(gen.meta.slice(0, k).flatMap((m) => m.displaced));
      return structuredClone(gen.log.slice(0, k)).map((e, i) => ({ ...e, nullified: gone.has(i) }));
    };
    const arb = fc.tuple(fc.nat({ max: pool.length - 1 }), fc.nat(), recipeArb);
    fc.assert(
      fc.property(arb, ([li, kk, r]) => {
        const gen = pool[li]!;
        const k = 1 + (kk % gen.log.length);
        const first = verifyAuditLogResumable(gen.did, prefixOf(gen, k));
        assert.ok(first.verdict.ok && first.checkpoint, `prefix of ${k} entries verifies: ${why(first.verdict)}`);
        const mutated = mutate(gen.log, r);
        const scratch = verdictOf(gen.did, mutated);
        const resumed = verifyAuditLogResumable(gen.did, mutated, {}, first.checkpoint);
        const label = `${r.kind} on log ${li}, checkpoint after ${k}, resumed at ${resumed.resumedAt}`;
        assert.equal(resumed.verdict.ok, scratch.ok, `${label}: scratch ${why(scratch)}, resumed ${why(resumed.verdict)}`);
        if (resumed.verdict.ok && scratch.ok) assert.deepEqual(resumed.verdict.state, scratch.state, label);
        if (!resumed.verdict.ok && !scratch.ok) {
          assert.deepEqual([resumed.verdict.error.code, resumed.verdict.error.index], [scratch.error.code, scratch.error.index], label);
        }
      }),
      fcParams(400),
    );
  });

  test('the DID argument: any change is rejected; a non-string never throws', () => {
    fc.assert(
      fc.property(fc.nat({ max: pool.length - 1 }), fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), fc.jsonValue({ maxDepth: 1 }), (li, at, ch, other) => {
        const gen = pool[li]!;
        const i = at % gen.did.length;
        const did = gen.did.slice(0, i) + ch + gen.did.slice(i + 1);
        assert.equal(verdictOf(did, gen.log).ok, did === gen.did);
        if (other !== gen.did) assert.equal(verdictOf(other, gen.log).ok, false);
      }),
      fcParams(200),
    );
  });

  test('not a log at all: any JSON value is rejected without throwing', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
        assert.equal(verdictOf(pool[0]!.did, value).ok, false);
      }),
      fcParams(200),
    );
  });

  test('key order inside entries and operations does not matter', () => {
    const reorder = (v: Json): Json => {
      if (Array.isArray(v)) return v.map(reorder);
      if (v === null || typeof v !== 'object') return v;
      const out: Record<string, Json> = {};
      for (const k of Object.keys(v).reverse()) out[k] = reorder((v as Record<string, Json>)[k]);
      return out;
    };
    for (const gen of pool) assert.ok(verdictOf(gen.did, reorder(gen.log)).ok);
  });

  // Regression (found by the resume property above, fixed in 228a780): a resumed
  // prefix entry skipped the schema check of its `nullified` field.
  test('resumed: a non-boolean nullified in the reused prefix gets the same code as from scratch', () => {
    const gen = pool[0]!;
    const first = verifyAuditLogResumable(gen.did, gen.log.slice(0, 1).map((e) => ({ ...e, nullified: false })));
    const log = structuredClone(gen.log) as unknown as Record<string, unknown>[];
    log[0]!.nullified = null;
    const scratch = verdictOf(gen.did, log);
    const resumed = verifyAuditLogResumable(gen.did, log, {}, first.checkpoint);
    assert.ok(!scratch.ok && !resumed.verdict.ok);
    assert.equal(resumed.verdict.error.code, scratch.error.code, `resumed ${resumed.verdict.error.code}, from scratch ${scratch.error.code}`);
  });

  // Regression (found by this suite, fixed in 228a780). JSON.parse turns
  // {"__proto__": …} into an own property; zod's z.record skipped that key
  // without validating its value, so the op was hashed and signature-checked
  // WITHOUT it and the log was accepted with bytes nobody signed. The random
  // key pool above includes "__proto__" too.
  test('an own "__proto__" key inside services / verificationMethods is rejected', () => {
    const gen = pool.find((g) => !g.meta[0]!.legacy)!;
    for (const field of ['services', 'verificationMethods'] as const) {
      const log = JSON.parse(JSON.stringify(gen.log).replace(`"${field}":{`, `"${field}":{"__proto__":{"type":"x","endpoint":"https://evil.example"},`));
      assert.ok(Object.keys(log[0].operation[field]).includes('__proto__'));
      const v = verdictOf(gen.did, log);
      assert.equal(v.ok, false, `${field}.__proto__ was accepted`);
      assert.equal(!v.ok && v.error.code, 'InvalidPlcOperation');
    }
  });
});
