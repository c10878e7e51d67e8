/**
 * One rotation key spelled two ways (uncompressed and compressed did:key) in
 * the same rotationKeys list. did:key parsing normalises both to one key, and
 * docs/decisions.md says a duplicated key counts at its highest priority
 * (lowest index). findSigner returns the index of the *spelling* it tried
 * first (the parent's signer spelling), so the displaced op can be credited
 * to a low-priority index and a weaker key can nullify it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAuditLog } from '../../src/plc/verify.ts';
import { cidOf, didOf, entry, plcOp, rkey, signOp } from './plc-kit.ts';

const K = rkey(1); // the member's top-priority recovery key
const B = rkey(2); // a weaker key (e.g. the PDS's)
const T0 = Date.UTC(2025, 0, 1);
const H = 3600_000;

function forkLog() {
  const g = signOp(plcOp([K.did], null, B.did), K);
  const did = didOf(g);
  // op1: K is listed first (uncompressed spelling) and again last (compressed).
  const op1 = signOp(plcOp([K.didUncompressed, B.did, K.did], cidOf(g), B.did), K);
  // op2: K (priority 0) changes the atproto key.
  const op2 = signOp(plcOp([K.didUncompressed, B.did, K.did], cidOf(op1), K.did), K);
  // op3: B (priority 1) forks from op1 within 72 h, displacing K's op2.
  const op3 = signOp(plcOp([B.did], cidOf(op1), B.did), B);
  return {
    did,
    log: [entry(did, g, T0), entry(did, op1, T0 + H), entry(did, op2, T0 + 2 * H, true), entry(did, op3, T0 + 3 * H)],
  };
}

test('fixed: the log that spells K twice is refused where the second spelling appears', () => {
  const { did, log } = forkLog();
  const v = verifyAuditLog(did, log.slice(0, 3).map((e) => ({ ...e, nullified: false })));
  assert.equal(v.ok, false);
  if (!v.ok) {
    assert.equal(v.error.code, 'InvalidPlcOperation');
    assert.equal(v.error.index, 1);
  }
});

test('a key at priority 1 must not nullify an op signed by the priority-0 key, whatever spelling the list uses', () => {
  const { did, log } = forkLog();
  const v = verifyAuditLog(did, log);
  assert.equal(v.ok, false, 'the verifier accepted B nullifying K’s op');
});

test('with K listed twice in the same (canonical) spelling, K counts at index 0 and B cannot nullify it', () => {
  const g = signOp(plcOp([K.did], null, B.did), K);
  const did = didOf(g);
  const op1 = signOp(plcOp([K.did, B.did, K.did], cidOf(g), B.did), K);
  const op2 = signOp(plcOp([K.did, B.did, K.did], cidOf(op1), K.did), K);
  const op3 = signOp(plcOp([B.did], cidOf(op1), B.did), B);
  const log = [entry(did, g, T0), entry(did, op1, T0 + H), entry(did, op2, T0 + 2 * H, true), entry(did, op3, T0 + 3 * H)];
  const v = verifyAuditLog(did, log);
  assert.equal(v.ok, false);
  if (!v.ok) assert.equal(v.error.code, 'PlcForkKeyNotHigherPriority');
  // And the same log without the fork is fine (the duplicate is only a warning).
  const base = verifyAuditLog(did, log.slice(0, 3).map((e) => ({ ...e, nullified: false })));
  assert.ok(base.ok, base.ok ? '' : base.error.message);
});

test('uncompressed did:keys in rotationKeys are refused (DESIGN: did:key is the compressed 33-byte point)', () => {
  const g = signOp(plcOp([K.didUncompressed], null, B.did), K);
  const did = didOf(g);
  const v = verifyAuditLog(did, [entry(did, g, T0)]);
  assert.equal(v.ok, false, 'an uncompressed did:key rotation key was accepted');
  if (!v.ok) assert.equal(v.error.code, 'InvalidPlcOperation');
});

test('rotationKeys longer than the resource bound are refused before any key is parsed', () => {
  const keys = Array.from({ length: 65 }, () => K.did);
  const g = signOp(plcOp(keys, null, B.did), K);
  const did = didOf(g);
  const v = verifyAuditLog(did, [entry(did, g, T0)]);
  assert.equal(v.ok, false);
  if (!v.ok) assert.equal(v.error.code, 'InvalidPlcOperation');
});
