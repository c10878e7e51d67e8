/**
 * Differential tests: our strict verifier against @did-plc/lib 0.0.4 on logs
 * made by the generator (test/plc-gen).
 *
 * 1. On valid logs (forks inside 72 h, tombstones, legacy genesis, p256 and
 *    k256 keys) both accept, and agree on the resulting DID data and on every
 *    `nullified` flag.
 * 2. On "unsafe variants" (one defect, everything else consistent) the lib
 *    accepts and we reject with a precise code. The expected lib verdicts are
 *    asserted, so this file documents the lib's weaknesses — and notices if a
 *    lib upgrade changes them.
 * 3. Fork rules: late forks and forks by a key that is not of higher priority.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAuditLog } from '../../src/plc/verify.ts';
import type { PlcErrorCode } from '../../src/errors.ts';
import type { PlcAuditEntry, PlcState } from '../../src/plc/types.ts';
import { generateLog, HOUR_MS, type GeneratedLog, type GeneratedWithBuilder, type Curve, type CurveChoice } from '../plc-gen/generate.ts';
import { withVariant, type Variant } from '../plc-gen/variants.ts';
import { libReplay, libValidate, type LibDoc } from '../plc-gen/lib-oracle.ts';
import { forkScenario, lateFork, opOnNullified, opOnTombstone, weakFork } from '../plc-gen/scenarios.ts';

const CURVES: readonly CurveChoice[] = ['k256', 'p256', 'mixed'];
const SEEDS_PER_CURVE = 8;

function assertSameData(ours: PlcState, lib: LibDoc | null, label: string) {
  if (lib === null) {
    assert.equal(ours.tombstoned, true, `${label}: lib says tombstoned`);
    assert.deepEqual([ours.rotationKeys, ours.verificationMethods], [[], {}], label);
    return;
  }
  assert.equal(ours.tombstoned, false, label);
  const { rotationKeys, verificationMethods, alsoKnownAs, services } = ours;
  assert.deepEqual({ rotationKeys, verificationMethods, alsoKnownAs, services }, lib, label);
}

function assertChainMatchesFlags(state: PlcState, log: readonly PlcAuditEntry[], label: string) {
  const canonical = log.filter((e) => !e.nullified);
  assert.deepEqual(state.nullified, log.map((e) => e.nullified), label);
  assert.deepEqual(state.canonicalCids, canonical.map((e) => e.cid), label);
  assert.equal(state.head.cid, canonical.at(-1)!.cid, label);
}

function rejects(gen: GeneratedLog, codes: readonly PlcErrorCode[], index: number, label: string) {
  const v = verifyAuditLog(gen.did, gen.log);
  assert.equal(v.ok, false, `${label}: expected a rejection`);
  if (v.ok) return;
  assert.ok(codes.includes(v.error.code), `${label}: got ${v.error.code} (${v.error.message}), expected ${codes.join(' | ')}`);
  assert.equal(v.error.index, index, `${label}: ${v.error.message}`);
}

describe('valid generated logs: ours and @did-plc/lib agree', () => {
  const logs: { label: string; gen: GeneratedWithBuilder }[] = [];
  before(async () => {
    for (const curve of CURVES) {
      for (let seed = 0; seed < SEEDS_PER_CURVE; seed++) {
        // Every fourth log starts with a legacy `create` genesis.
        const legacyRate = seed % 4 === 3 ? 1 : 0;
        logs.push({ label: `${curve}/seed ${seed}`, gen: await generateLog({ ops: 20, curve, seed: `diff-${seed}`, legacyRate }) });
      }
    }
  });

  test('the generated logs cover forks, nullified tombstones, final tombstones, legacy genesis, both curves, custom key ids', () => {
    const all = logs.map((l) => l.gen);
    const count = (f: (g: GeneratedWithBuilder) => boolean) => all.filter(f).length;
    const coverage = {
      withForks: count((g) => g.meta.some((m) => m.displaced.length > 0)),
      withSeveralForks: count((g) => g.meta.filter((m) => m.displaced.length > 0).length >= 2),
      forkDisplacingSeveral: count((g) => g.meta.some((m) => m.displaced.length >= 2)),
      forkAtExactly72h: count((g) => g.meta.some((m, i) => m.displaced.length > 0 && m.createdAtMs - g.meta[m.displaced[0]!]!.createdAtMs === 72 * HOUR_MS && i > 0)),
      nullifiedTombstone: count((g) => g.log.some((e) => e.nullified && e.operation.type === 'plc_tombstone')),
      endsTombstoned: count((g) => g.log.at(-1)!.operation.type === 'plc_tombstone' && !g.log.at(-1)!.nullified),
      legacyGenesis: count((g) => g.meta[0]!.legacy),
      k256Signer: count((g) => g.meta.some((m) => g.keys.get(m.signer)!.curve === 'k256')),
      p256Signer: count((g) => g.meta.some((m) => g.keys.get(m.signer)!.curve === 'p256')),
      encumberKeyId: count((g) => g.log.some((e) => e.operation.type === 'plc_operation' && 'encumber' in e.operation.verificationMethods)),
      keyRotation: count((g) => new Set(g.log.map((e) => (e.operation.type === 'plc_operation' ? e.operation.rotationKeys.join() : ''))).size > 2),
    };
    for (const [what, n] of Object.entries(coverage)) assert.ok(n > 0, `no generated log has ${what}: ${JSON.stringify(coverage)}`);
  });

  test('verifyAuditLog accepts every log; validateOperationLog accepts its canonical ops; same DID data', async () => {
    for (const { label, gen } of logs) {
      const ours = verifyAuditLog(gen.did, gen.log);
      assert.ok(ours.ok, `${label}: ${!ours.ok && ours.error.message}`);
      const lib = await libValidate(gen.did, gen.log);
      assert.ok(lib.ok, `${label}: lib: ${!lib.ok && lib.error}`);
      assertSameData(ours.state, lib.value, label);
      assertChainMatchesFlags(ours.state, gen.log, label);
    }
  });

  test("replaying every entry through the lib's assureValidNextOp gives the same nullified flags", async () => {
    for (const { label, gen } of logs) {
      const replay = await libReplay(gen.did, gen.log);
      assert.ok(replay.ok, `${label}: lib replay failed at ${replay.index}: ${!replay.ok && replay.error}`);
      assert.deepEqual(replay.value, gen.log.map((e) => e.nullified), label);
    }
  });

  test('generation is reproducible: same seed, same bytes', async () => {
    const a = await generateLog({ ops: 12, curve: 'mixed', seed: 'repro' });
    const b = await generateLog({ ops: 12, curve: 'mixed', seed: 'repro' });
    const c = await generateLog({ ops: 12, curve: 'mixed', seed: 'repro2' });
    assert.equal(JSON.stringify(a.log), JSON.stringify(b.log));
    assert.notEqual(a.did, c.did);
  });
});

/**
 * What @did-plc/lib 0.0.4 does with each unsafe variant (observed, asserted):
 * - padded: accepts on both curves (its base64url decoder strips '=').
 * - der: accepts on k256 (noble-secp256k1 1.x reads DER first); rejects on p256 (WebCrypto wants r‖s).
 * - highS: accepts on p256 (WebCrypto has no low-S rule); rejects on k256 (noble 1.x verifies strict by default).
 * - unknownField: accepts (zod `strip` schemas; the signature covers the field).
 * - newline, trailingBits: rejects (its decoder refuses them); listed to show we agree there.
 */
interface VariantCase {
  variant: Variant;
  curve: Curve;
  libAccepts: boolean;
  ours: readonly PlcErrorCode[];
}
const VARIANT_CASES: readonly VariantCase[] = [
  { variant: 'padded', curve: 'k256', libAccepts: true, ours: ['PlcBadSignatureEncoding'] },
  { variant: 'padded', curve: 'p256', libAccepts: true, ours: ['PlcBadSignatureEncoding'] },
  { variant: 'der', curve: 'k256', libAccepts: true, ours: ['PlcBadSignatureEncoding', 'PlcInvalidSignature'] },
  { variant: 'der', curve: 'p256', libAccepts: false, ours: ['PlcBadSignatureEncoding', 'PlcInvalidSignature'] },
  { variant: 'highS', curve: 'p256', libAccepts: true, ours: ['PlcSignatureNotLowS'] },
  { variant: 'highS', curve: 'k256', libAccepts: false, ours: ['PlcSignatureNotLowS'] },
  { variant: 'unknownField', curve: 'k256', libAccepts: true, ours: ['InvalidPlcOperation'] },
  { variant: 'unknownField', curve: 'p256', libAccepts: true, ours: ['InvalidPlcOperation'] },
  { variant: 'newline', curve: 'k256', libAccepts: false, ours: ['PlcBadSignatureEncoding'] },
  { variant: 'trailingBits', curve: 'p256', libAccepts: false, ours: ['PlcBadSignatureEncoding'] },
];

describe('unsafe variants: the lib lets them through, we reject with a precise code', () => {
  const bases = new Map<Curve, GeneratedWithBuilder>();
  let forked: Awaited<ReturnType<typeof forkScenario>>;
  let tombstoned: GeneratedWithBuilder;
  before(async () => {
    for (const curve of ['k256', 'p256'] as const) {
      bases.set(curve, await generateLog({ ops: 6, curve, seed: `variants-${curve}`, forkRate: 0, tombstoneRate: 0, legacyRate: 0 }));
    }
    forked = await forkScenario({ seed: 'variants-fork', curve: 'p256', after: 2 });
    tombstoned = await generateLog({ ops: 4, curve: 'k256', seed: 'variants-tomb', forkRate: 0, tombstoneRate: 1, legacyRate: 0 });
  });

  test('the base logs are valid for both verifiers', async () => {
    for (const gen of [...bases.values(), forked, tombstoned]) {
      assert.ok(verifyAuditLog(gen.did, gen.log).ok);
      assert.ok((await libValidate(gen.did, gen.log)).ok);
    }
    assert.equal(tombstoned.log.at(-1)!.operation.type, 'plc_tombstone');
  });

  for (const c of VARIANT_CASES) {
    test(`${c.variant} sig on ${c.curve}: lib ${c.libAccepts ? 'ACCEPTS' : 'rejects'}, ours ${c.ours.join(' | ')}`, async (t) => {
      const base = bases.get(c.curve)!;
      // At the genesis (the DID changes with it), in the middle (later ops re-signed), and at the head.
      for (const index of [0, 2, base.log.length - 1]) {
        const gen = await withVariant(base, index, c.variant);
        const label = `${c.variant}/${c.curve} at entry ${index}`;
        if (index === 0) assert.notEqual(gen.did, base.did, `${label}: the DID follows the changed genesis`);
        const lib = await libValidate(gen.did, gen.log);
        assert.equal(lib.ok, c.libAccepts, `${label}: lib ${lib.ok ? 'accepted' : `rejected: ${lib.error}`}`);
        rejects(gen, c.ours, index, label);
      }
      t.diagnostic(`lib ${c.libAccepts ? 'accepts' : 'rejects'} ${c.variant} on ${c.curve}`);
    });
  }

  test('unknown field on a tombstone: lib accepts, ours InvalidPlcOperation', async () => {
    const index = tombstoned.log.length - 1;
    const gen = await withVariant(tombstoned, index, 'unknownField');
    const lib = await libValidate(gen.did, gen.log);
    assert.ok(lib.ok && lib.value === null, 'lib accepts the tombstone with an extra field');
    rejects(gen, ['InvalidPlcOperation'], index, 'unknownField on tombstone');
  });

  test('variants of the op that performs a fork (p256): padded and high-S accepted by the lib, rejected by us', async () => {
    for (const variant of ['padded', 'highS', 'unknownField'] as const) {
      const gen = await withVariant(forked, forked.fork, variant);
      assert.ok((await libValidate(gen.did, gen.log)).ok, `${variant}: lib accepts`);
      const replay = await libReplay(gen.did, gen.log);
      assert.ok(replay.ok, `${variant}: the lib's own replay accepts the fork too: ${!replay.ok && replay.error}`);
      rejects(gen, VARIANT_CASES.find((c) => c.variant === variant)!.ours, forked.fork, variant);
    }
  });
});

describe('fork rules', () => {
  for (const curve of CURVES) {
    test(`${curve}: a fork 1 h and exactly 72 h after the displaced op is valid, for both`, async () => {
      for (const delayMs of [HOUR_MS, 72 * HOUR_MS]) {
        const s = await forkScenario({ seed: `fork-ok-${curve}-${delayMs}`, curve, after: 2, delayMs });
        const ours = verifyAuditLog(s.did, s.log);
        assert.ok(ours.ok, !ours.ok ? ours.error.message : '');
        assert.deepEqual(s.log.map((e) => e.nullified), s.log.map((_, i) => i >= s.displaced && i < s.fork));
        assertChainMatchesFlags(ours.state, s.log, curve);
        const replay = await libReplay(s.did, s.log);
        assert.ok(replay.ok && JSON.stringify(replay.value) === JSON.stringify(ours.state.nullified));
        const lib = await libValidate(s.did, s.log);
        assert.ok(lib.ok);
        assertSameData(ours.state, lib.value, curve);
      }
    });

    test(`${curve}: a fork 72 h + 1 ms after the displaced op is PlcLateNullification (lib replay: LateRecoveryError)`, async () => {
      const s = await lateFork(1, { seed: `late-${curve}`, curve });
      rejects(s, ['PlcLateNullification'], s.fork, 'late fork');
      const replay = await libReplay(s.did, s.log);
      assert.equal(replay.ok, false);
      assert.ok(!replay.ok && replay.name === 'LateRecoveryError' && replay.index === s.fork, JSON.stringify(replay));
      // Fed only the canonical ops, the lib cannot see that anything was nullified at all.
      assert.ok((await libValidate(s.did, s.log)).ok, 'validateOperationLog on the canonical chain accepts the late fork');
    });

    test(`${curve}: a fork by the same key, or a lower-priority key, is rejected (lib replay: InvalidSignatureError)`, async () => {
      for (const [forkSigner, displacedSigner] of [[1, 1], [2, 1], [2, 0]] as const) {
        const s = await weakFork(forkSigner, displacedSigner, { seed: `weak-${curve}-${forkSigner}${displacedSigner}`, curve });
        rejects(s, ['PlcForkKeyNotHigherPriority', 'PlcInvalidSignature'], s.fork, `fork by key ${forkSigner} over key ${displacedSigner}`);
        const replay = await libReplay(s.did, s.log);
        assert.ok(!replay.ok && replay.name === 'InvalidSignatureError' && replay.index === s.fork, JSON.stringify(replay));
        assert.ok((await libValidate(s.did, s.log)).ok, 'validateOperationLog on the canonical chain accepts it');
      }
    });
  }

  test('a fork that is a tombstone, inside the window: tombstoned for both', async () => {
    const s = await forkScenario({ seed: 'tomb-fork', forkIsTombstone: true });
    const ours = verifyAuditLog(s.did, s.log);
    assert.ok(ours.ok && ours.state.tombstoned);
    const lib = await libValidate(s.did, s.log);
    assert.ok(lib.ok && lib.value === null);
  });

  test('an op on a nullified op, and an op on a tombstone: rejected by both', async () => {
    const n = await opOnNullified({ seed: 'zombie' });
    rejects(n, ['PlcPrevNullified'], n.bad, 'op on nullified');
    assert.equal((await libReplay(n.did, n.log)).ok, false);
    const t = await opOnTombstone({ seed: 'after-tomb' });
    rejects(t, ['PlcPrevTombstoned', 'PlcNoRotationKeys'], t.bad, 'op on tombstone');
    assert.equal((await libReplay(t.did, t.log)).ok, false);
  });
});
