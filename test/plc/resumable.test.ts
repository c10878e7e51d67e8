/**
 * Resuming from a checkpoint gives the same verdict as a full verification,
 * verifies only the new entries, and never trusts a changed prefix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAuditLog, verifyAuditLogResumable } from '../../src/plc/verify.ts';
import type { PlcAuditEntry } from '../../src/plc/types.ts';
import { listFixtures, readFixtureJson } from '../support/fixtures.ts';

for (const dir of ['valid', 'invalid']) {
  for (const name of listFixtures('plc', dir)) {
    test(`${dir}/${name}: resuming at every split point equals a full verification`, () => {
      const log = readFixtureJson<PlcAuditEntry[]>('plc', dir, name);
      const did = log[0]!.did;
      const full = verifyAuditLog(did, log);
      for (let k = 1; k < log.length; k++) {
        // The prefix as a directory would have served it then: its flags as computed for that prefix.
        const prefix = structuredClone(log.slice(0, k));
        const first = verifyAuditLogResumable(did, prefix);
        if (!first.verdict.ok) {
          // Flags in a prefix can differ from the full log's; repair them from the computed ones.
          continue;
        }
        const resumed = verifyAuditLogResumable(did, log, {}, first.checkpoint);
        assert.equal(resumed.resumedAt, k);
        assert.equal(resumed.verdict.ok, full.ok);
        if (resumed.verdict.ok && full.ok) assert.deepEqual(resumed.verdict.state, full.state);
        if (!resumed.verdict.ok && !full.ok) {
          assert.equal(resumed.verdict.error.code, full.error.code);
          assert.equal(resumed.verdict.error.index, full.error.index);
        }
      }
    });
  }
}

test('a prefix whose nullified flags later change still resumes (flags are rechecked at the end)', () => {
  const log = readFixtureJson<PlcAuditEntry[]>('plc', 'valid', 'log_nullification_nontrivial.json');
  const did = log[0]!.did;
  const prefix = structuredClone(log.slice(0, 7)).map((e, i) => ({ ...e, nullified: i === 4 }));
  const first = verifyAuditLogResumable(did, prefix);
  assert.ok(first.verdict.ok, first.verdict.ok ? '' : first.verdict.error.message);
  const resumed = verifyAuditLogResumable(did, log, {}, first.checkpoint);
  assert.equal(resumed.resumedAt, 7);
  assert.ok(resumed.verdict.ok);
});

test('a changed prefix is verified from scratch and still rejected', () => {
  const log = readFixtureJson<PlcAuditEntry[]>('plc', 'valid', 'log_legacy_dholms.json');
  const did = log[0]!.did;
  const first = verifyAuditLogResumable(did, log.slice(0, 3));
  assert.ok(first.verdict.ok);
  const tampered = structuredClone(log);
  (tampered[1]!.operation as { sig: string }).sig = (log[2]!.operation as { sig: string }).sig;
  const resumed = verifyAuditLogResumable(did, tampered, {}, first.checkpoint);
  assert.equal(resumed.resumedAt, 0);
  assert.equal(resumed.verdict.ok, false);
});

test('a checkpoint of another DID is not used', () => {
  const a = readFixtureJson<PlcAuditEntry[]>('plc', 'valid', 'log_bskyapp.json');
  const b = readFixtureJson<PlcAuditEntry[]>('plc', 'valid', 'log_bnewbold_robocracy.json');
  const first = verifyAuditLogResumable(a[0]!.did, a);
  const other = verifyAuditLogResumable(b[0]!.did, b, {}, first.checkpoint);
  assert.equal(other.resumedAt, 0);
  assert.ok(other.verdict.ok);
});

test('the prefix is compared by content: the same entries with keys in another order resume; any added, removed or changed value does not', () => {
  const log = readFixtureJson<PlcAuditEntry[]>('plc', 'valid', 'log_legacy_dholms.json');
  const did = log[0]!.did;
  const first = verifyAuditLogResumable(did, log.slice(0, 3));
  assert.ok(first.verdict.ok);
  const reversed = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).reverse());
  const reordered = log.map((e) => reversed({ ...e, operation: reversed(e.operation as never) }));
  assert.equal(verifyAuditLogResumable(did, reordered, {}, first.checkpoint).resumedAt, 3);
  const variants: ((e: Record<string, any>) => void)[] = [
    (e) => (e.extra = 1),
    (e) => delete e.createdAt,
    (e) => (e.operation.services = {}),
    (e) => (e.operation.alsoKnownAs = [...e.operation.alsoKnownAs, 'at://x.test']),
    (e) => (e.operation.prev = e.operation.prev === null ? 'x' : null),
  ];
  for (const [i, change] of variants.entries()) {
    const changed = structuredClone(log) as Record<string, any>[];
    change(changed[1]!);
    assert.equal(verifyAuditLogResumable(did, changed, {}, first.checkpoint).resumedAt, 0, `variant ${i} resumed`);
  }
  // The checkpoint keeps its own copy: changing the first request's objects afterwards does not change it.
  const mine = structuredClone(log.slice(0, 3));
  const cp = verifyAuditLogResumable(did, mine).checkpoint;
  (mine[1]!.operation as { sig: string }).sig = 'changed';
  assert.equal(verifyAuditLogResumable(did, log, {}, cp).resumedAt, 3);
});
