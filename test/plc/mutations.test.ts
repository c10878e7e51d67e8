/**
 * Hand-made mutations of real fixture logs. Each mutation breaks exactly one
 * rule of the verifier; removing that rule makes its test fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAuditLog } from '../../src/plc/verify.ts';
import { cidForValue } from '../../src/data/cid.ts';
import type { PlcAuditEntry, PlcVerifyOptions } from '../../src/plc/types.ts';
import { readFixtureJson } from '../support/fixtures.ts';

type Log = PlcAuditEntry[];
type AnyOp = Record<string, unknown>;
const load = (name: string) => readFixtureJson<Log>('plc', 'valid', name);
const op = (log: Log, i: number) => log[i]!.operation as unknown as AnyOp;
/** Recompute the cid of entry i (after a deliberate change to its op). */
const recid = (log: Log, i: number) => {
  log[i]!.cid = cidForValue(log[i]!.operation).toString();
};

function rejects(log: unknown, code: string, index?: number, opts?: PlcVerifyOptions, did?: string) {
  const d = did ?? (log as Log)[0]?.did ?? 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
  const v = verifyAuditLog(d, log, opts);
  assert.equal(v.ok, false, 'expected a rejection');
  if (v.ok) return;
  assert.equal(v.error.code, code, v.error.message);
  if (index !== undefined) assert.equal(v.error.index, index, v.error.message);
}

test('baseline: the logs mutated below verify as they are', () => {
  for (const n of ['log_bskyapp.json', 'log_legacy_dholms.json', 'log_nullification_nontrivial.json', 'log_tombstone.json']) {
    const log = load(n);
    assert.ok(verifyAuditLog(log[0]!.did, log).ok, n);
  }
});

test('log shape: not an array, empty, too long', () => {
  rejects({}, 'InvalidPlcLog');
  rejects([], 'InvalidPlcLog');
  const log = load('log_bskyapp.json');
  rejects(log, 'InvalidPlcLog', undefined, { maxEntries: 1 });
});

test('the DID argument must be a well-formed did:plc', () => {
  const log = load('log_bskyapp.json');
  rejects(log, 'PlcDidMismatch', undefined, undefined, 'did:plc:z72i7hdynmk6r22z27h6tvu');
  rejects(log, 'PlcDidMismatch', undefined, undefined, 'did:web:example.com');
});

test('the DID must be derived from the genesis', () => {
  const log = load('log_bskyapp.json');
  const other = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
  for (const e of log) e.did = other;
  rejects(log, 'PlcDidMismatch', 0, undefined, other);
});

test('every entry must be about the DID', () => {
  const log = load('log_bskyapp.json');
  log[1]!.did = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
  rejects(log, 'PlcDidMismatch', 1);
});

test('audit entries: unknown field, missing field, wrong types, bad createdAt', () => {
  const extra = load('log_bskyapp.json');
  (extra[1] as unknown as AnyOp).extra = 1;
  rejects(extra, 'InvalidPlcLog', 1);
  const missing = load('log_bskyapp.json');
  delete (missing[1] as unknown as AnyOp).nullified;
  rejects(missing, 'InvalidPlcLog', 1);
  const wrongType = load('log_bskyapp.json');
  (wrongType[0] as unknown as AnyOp).nullified = 'false';
  rejects(wrongType, 'InvalidPlcLog', 0);
  const noMillis = load('log_bskyapp.json');
  noMillis[1]!.createdAt = noMillis[1]!.createdAt.replace(/\.\d{3}Z$/, 'Z');
  rejects(noMillis, 'InvalidPlcLog', 1);
  const impossible = load('log_bskyapp.json');
  impossible[1]!.createdAt = '2023-02-30T00:00:00.000Z';
  rejects(impossible, 'InvalidPlcLog', 1);
});

test('operations: unknown field (re-hashed so only the field is wrong)', () => {
  const log = load('log_bskyapp.json');
  op(log, 1).extra = 'x';
  recid(log, 1);
  rejects(log, 'InvalidPlcOperation', 1);
});

test('operations: wrong type, ed25519 rotation key, uncompressed-key garbage, non-did:key method', () => {
  const t = load('log_bskyapp.json');
  op(t, 1).type = 'plc_update';
  rejects(t, 'InvalidPlcOperation', 1);
  const ed = load('log_bskyapp.json');
  (op(ed, 1).rotationKeys as string[])[0] = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
  rejects(ed, 'InvalidPlcOperation', 1);
  const vm = load('log_bskyapp.json');
  (op(vm, 1).verificationMethods as Record<string, string>).atproto = 'https://example.com/key';
  rejects(vm, 'InvalidPlcOperation', 1);
  const offCurve = load('log_bskyapp.json');
  (op(offCurve, 1).rotationKeys as string[])[0] = 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBmf';
  rejects(offCurve, 'InvalidPlcOperation', 1);
});

test('cid must be the CID of the signed operation', () => {
  const log = load('log_bskyapp.json');
  log[1]!.cid = log[0]!.cid;
  rejects(log, 'PlcCidMismatch', 1);
});

test('a tampered operation with a recomputed cid fails its signature', () => {
  const log = load('log_bskyapp.json');
  (op(log, 1).alsoKnownAs as string[])[0] = 'at://mallory.example';
  recid(log, 1);
  rejects(log, 'PlcInvalidSignature', 1);
});

test('a signature from another operation does not verify', () => {
  const log = load('log_bnewbold_robocracy.json');
  op(log, 1).sig = op(log, 0).sig;
  recid(log, 1);
  rejects(log, 'PlcInvalidSignature', 1);
});

test('signature encoding: wrong length', () => {
  const log = load('log_bskyapp.json');
  op(log, 1).sig = (op(log, 1).sig as string).slice(0, 84);
  recid(log, 1);
  rejects(log, 'PlcBadSignatureEncoding', 1);
});

test('prev chain: gap, reorder, second genesis, unknown prev', () => {
  const nontrivial = load('log_nullification_nontrivial.json');
  rejects([nontrivial[0]!, nontrivial[2]!], 'PlcPrevMismatch', 1);
  const bsky = load('log_bskyapp.json');
  rejects([bsky[1]!, bsky[0]!], 'PlcPrevMismatch', 0);
  const robo = load('log_bnewbold_robocracy.json');
  const twice = [robo[0]!, { ...structuredClone(robo[0]!), createdAt: new Date(Date.parse(robo[0]!.createdAt) + 1000).toISOString() }];
  rejects(twice, 'PlcPrevMismatch', 1);
});

test('createdAt must move strictly forward, and not into the future when now is given', () => {
  const log = load('log_bskyapp.json');
  log[1]!.createdAt = log[0]!.createdAt;
  rejects(log, 'PlcCreatedAtOrder', 1);
  const fresh = load('log_bskyapp.json');
  const now = new Date(Date.parse(fresh[1]!.createdAt) - 10 * 60 * 1000);
  rejects(fresh, 'PlcCreatedInFuture', 1, { now });
  assert.ok(verifyAuditLog(fresh[0]!.did, fresh, { now: new Date(Date.parse(fresh[1]!.createdAt)) }).ok);
});

test('a tombstone cannot be the genesis; a legacy create only can', () => {
  const tomb = load('log_tombstone.json');
  rejects([tomb[1]!], 'PlcTombstoneGenesis', 0, undefined, tomb[0]!.did);
  const legacy = load('log_legacy_dholms.json');
  const robo = load('log_bnewbold_robocracy.json');
  const mixed = [robo[0]!, { ...legacy[0]!, did: robo[0]!.did, createdAt: new Date(Date.parse(robo[1]!.createdAt)).toISOString() }];
  rejects(mixed, 'PlcLegacyCreateNotGenesis', 1);
});

test('nullified flags must equal the computed ones', () => {
  const flipped = load('log_nullification_nontrivial.json');
  flipped[4]!.nullified = false;
  rejects(flipped, 'PlcNullifiedMismatch', 4);
  const spurious = load('log_bskyapp.json');
  spurious[1]!.nullified = true;
  rejects(spurious, 'PlcNullifiedMismatch', 1);
});

test('a displaced op cannot be extended; its fork must come from a higher-priority key', () => {
  // In the non-trivial log, #7 forks from #1 with key[0]. Dropping #7 leaves the
  // canonical chain #0,#1,#2,#3,#5,#6; removing the flags of the ones #7 nullified keeps it consistent.
  const log = load('log_nullification_nontrivial.json').slice(0, 7);
  for (const i of [2, 3, 5, 6]) log[i]!.nullified = false;
  const v = verifyAuditLog(log[0]!.did, log);
  assert.ok(v.ok, v.ok ? '' : v.error.message);
  assert.equal(v.state.head.index, 6);
});
