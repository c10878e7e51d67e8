/**
 * Every upstream audit-log fixture (../shared/fixtures/plc) gives its expected
 * verdict, and each invalid one fails with the precise code at the entry that
 * carries the defect (see PROVENANCE.md there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAuditLog } from '../../src/plc/verify.ts';
import { verificationMethodKey } from '../../src/plc/methods.ts';
import type { PlcAuditEntry } from '../../src/plc/types.ts';
import { listFixtures, readFixtureJson } from '../support/fixtures.ts';

const load = (dir: string, name: string) => readFixtureJson<PlcAuditEntry[]>('plc', dir, name);

const EXPECTED_INVALID: Record<string, { code: string; index: number }> = {
  'log_invalid_nullification_reused_key.json': { code: 'PlcForkKeyNotHigherPriority', index: 2 },
  'log_invalid_nullification_too_slow.json': { code: 'PlcLateNullification', index: 2 },
  'log_invalid_sig_b64_newline.json': { code: 'PlcBadSignatureEncoding', index: 0 },
  'log_invalid_sig_b64_padding_bits.json': { code: 'PlcBadSignatureEncoding', index: 0 },
  'log_invalid_sig_b64_padding_chars.json': { code: 'PlcBadSignatureEncoding', index: 0 },
  'log_invalid_sig_der.json': { code: 'PlcInvalidSignature', index: 0 },
  'log_invalid_sig_k256_high_s.json': { code: 'PlcSignatureNotLowS', index: 0 },
  'log_invalid_sig_p256_high_s.json': { code: 'PlcSignatureNotLowS', index: 0 },
  // Two defects: #4 builds on nullified #2 and repeats #3's createdAt; ordering is checked first.
  'log_invalid_update_nullified.json': { code: 'PlcCreatedAtOrder', index: 4 },
  'log_invalid_update_tombstoned.json': { code: 'PlcPrevTombstoned', index: 2 },
};

const EXPECTED_VALID: Record<string, { head: number; nullified: number[]; tombstoned?: boolean; warnings?: string[] }> = {
  'log_bnewbold_robocracy.json': { head: 1, nullified: [] },
  'log_bskyapp.json': { head: 1, nullified: [] },
  'log_duplicate_rotation_keys.json': { head: 0, nullified: [], warnings: ['DuplicateRotationKeys'] },
  'log_empty_rotation_keys.json': { head: 1, nullified: [], warnings: ['EmptyRotationKeys'] },
  'log_legacy_dholms.json': { head: 4, nullified: [] },
  'log_nullification.json': { head: 2, nullified: [1], warnings: ['EmptyRotationKeys'] },
  'log_nullification_at_exactly_72h.json': { head: 3, nullified: [2] },
  'log_nullification_nontrivial.json': { head: 7, nullified: [2, 3, 4, 5, 6] },
  'log_nullified_tombstone.json': { head: 3, nullified: [2] },
  'log_tombstone.json': { head: 1, nullified: [], tombstoned: true },
};

test('the fixture folders hold exactly the cases this test knows', () => {
  assert.deepEqual(listFixtures('plc', 'valid'), Object.keys(EXPECTED_VALID).sort());
  assert.deepEqual(listFixtures('plc', 'invalid'), Object.keys(EXPECTED_INVALID).sort());
});

for (const [name, want] of Object.entries(EXPECTED_VALID)) {
  test(`valid/${name} verifies`, () => {
    const log = load('valid', name);
    const v = verifyAuditLog(log[0]!.did, log);
    assert.ok(v.ok, v.ok ? '' : `${v.error.code}: ${v.error.message}`);
    assert.equal(v.state.head.index, want.head);
    assert.equal(v.state.head.cid, log[want.head]!.cid);
    assert.equal(v.state.tombstoned, want.tombstoned ?? false);
    const nullified = v.state.nullified.flatMap((n, i) => (n ? [i] : []));
    assert.deepEqual(nullified, want.nullified);
    assert.deepEqual(v.state.nullified, log.map((e) => e.nullified));
    assert.deepEqual(v.state.warnings.map((w) => w.code), want.warnings ?? []);
  });
}

for (const [name, want] of Object.entries(EXPECTED_INVALID)) {
  test(`invalid/${name} is rejected with ${want.code} at entry ${want.index}`, () => {
    const log = load('invalid', name);
    const v = verifyAuditLog(log[0]!.did, log);
    assert.equal(v.ok, false);
    if (v.ok) return;
    assert.equal(v.error.code, want.code, v.error.message);
    assert.equal(v.error.index, want.index);
  });
}

test('update_nullified with its timestamp repaired fails for building on a nullified op', () => {
  // createdAt is not signed, so moving it 1 ms leaves the intended defect alone.
  const log = load('invalid', 'log_invalid_update_nullified.json');
  const t = Date.parse(log[4]!.createdAt) + 1;
  log[4]!.createdAt = new Date(t).toISOString();
  const v = verifyAuditLog(log[0]!.did, log);
  assert.equal(v.ok, false);
  if (!v.ok) {
    assert.equal(v.error.code, 'PlcPrevNullified');
    assert.equal(v.error.index, 4);
  }
});

test('spec-strict mode turns the disputed rotation-key cases into errors', () => {
  for (const name of ['log_duplicate_rotation_keys.json', 'log_empty_rotation_keys.json', 'log_nullification.json']) {
    const log = load('valid', name);
    const v = verifyAuditLog(log[0]!.did, log, { specStrict: true });
    assert.equal(v.ok, false, name);
    if (!v.ok) assert.equal(v.error.code, 'PlcRotationKeysRule', name);
  }
});

test('legacy create is presented in the current shape', () => {
  const log = load('valid', 'log_legacy_dholms.json');
  const v = verifyAuditLog(log[0]!.did, log.slice(0, 1));
  assert.ok(v.ok);
  const create = log[0]!.operation as { signingKey: string; recoveryKey: string; handle: string };
  assert.deepEqual(v.state.rotationKeys, [create.recoveryKey, create.signingKey]);
  assert.equal(verificationMethodKey(v.state, 'atproto'), create.signingKey);
  assert.equal(verificationMethodKey(v.state, '#atproto'), create.signingKey);
  assert.deepEqual(v.state.alsoKnownAs, [`at://${create.handle}`]);
  assert.equal(v.state.services.atproto_pds?.endpoint, 'https://bsky.social');
});

test('a tombstoned DID has no verification methods', () => {
  const log = load('valid', 'log_tombstone.json');
  const v = verifyAuditLog(log[0]!.did, log);
  assert.ok(v.ok);
  assert.equal(verificationMethodKey(v.state, 'atproto'), undefined);
  assert.deepEqual(v.state.rotationKeys, []);
});

test('the nullification window is inclusive at 72 h and exclusive 1 ms later', () => {
  const log = load('valid', 'log_nullification_at_exactly_72h.json');
  assert.equal(Date.parse(log[3]!.createdAt) - Date.parse(log[2]!.createdAt), 72 * 3600 * 1000);
  const late = structuredClone(log);
  late[3]!.createdAt = new Date(Date.parse(log[3]!.createdAt) + 1).toISOString();
  const v = verifyAuditLog(late[0]!.did, late);
  assert.equal(v.ok, false);
  if (!v.ok) assert.equal(v.error.code, 'PlcLateNullification');
});
