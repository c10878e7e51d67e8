/**
 * The TCB floor (attestation/snp-tcb-floor.json) and the expected VMPL.
 *  - With the floor off (minTcb 'none') every shared fixture keeps the verdict
 *    expected.json gives it (those verdicts were judged without a floor).
 *  - With the default floor at expected.json's time, exactly the fixtures
 *    listed in docs/attestation.md ("TCB floor") fall below a bulletin in force,
 *    and the refusal names it; a bulletin applies from its publication date.
 *  - A --min-tcb SPEC replaces the table; VMPL defaults to 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifySnpReport, type SnpVerdict, type SnpVerifyOptions } from '../../../src/attestation/sev-snp/index.ts';
import { parseMinTcbSpec, SNP_TCB_FLOOR } from '../../../src/attestation/sev-snp/tcb-floor.ts';
import { EncumberError } from '../../../src/errors.ts';
import { REPO_ROOT } from '../../../src/enclave/program-digest.ts';
import { assertOk, assertRejected, BELOW_FLOOR_AT_EXPECTED, BELOW_FLOOR_AT_VLEK, SNP_AT, SNP_CASES, SNP_EXPECTED, snpCerts, snpReport, VLEK_AT } from './helpers.ts';

const verify = (name: string, o: Partial<SnpVerifyOptions> = {}): Promise<SnpVerdict> =>
  verifySnpReport(snpReport(name), { certs: snpCerts(name), at: SNP_AT, ...o });

/** expected.json's verdict text → the code a refusal carries. */
const EXPECTED_CODE: Record<string, string> = {
  'FAIL(debug-policy)': 'DebugEnclave',
  'FAIL(VLEK expired (2024-05-05..2025-05-05))': 'CertificateExpired',
  'FAIL(VLEK expired (2024-12-10..2025-12-10))': 'CertificateExpired',
  'FAIL(signature; chip_id)': 'EvidenceSignatureInvalid',
};

function bulletinOf(e: EncumberError): string {
  return (e.expected as { bulletin: string }).bulletin;
}

for (const c of SNP_CASES) {
  const expected = SNP_EXPECTED.cases[c.name]!;
  test(`${c.name}: minTcb 'none' keeps expected.json's verdict (${expected})`, async () => {
    const v = await verify(c.name, { minTcb: 'none' });
    if (expected === 'PASS') return assertOk(v, c.name);
    assertRejected(v, EXPECTED_CODE[expected] ?? assert.fail(expected), {}, c.name);
  });

  test(`${c.name}: with the default floor at ${SNP_EXPECTED.at}`, async () => {
    const v = await verify(c.name);
    const bulletin = BELOW_FLOOR_AT_EXPECTED[c.name];
    if (bulletin) {
      const e = assertRejected(v, 'TcbBelowFloor', {}, c.name);
      assert.equal(bulletinOf(e), bulletin);
      assert.ok(e.message.includes(bulletin), 'the refusal names the bulletin');
      assert.equal(v.checks.at(-1)!.name, 'tcb-floor');
      return;
    }
    if (expected === 'PASS') return assertOk(v, c.name);
    assertRejected(v, EXPECTED_CODE[expected]!, {}, c.name);
  });
}

for (const [name, bulletin] of Object.entries(BELOW_FLOOR_AT_VLEK)) {
  test(`${name}: at 2025-03-01 (VMPL 1) below ${bulletin}; passes with minTcb 'none'`, async () => {
    assertOk(await verify(name, { at: VLEK_AT, expectedVmpl: 1, minTcb: 'none' }), name);
    const e = assertRejected(await verify(name, { at: VLEK_AT, expectedVmpl: 1 }), 'TcbBelowFloor');
    assert.equal(bulletinOf(e), bulletin);
  });
}

test('a floor applies from its bulletin\'s publication date (the evaluation time `at`)', async () => {
  // Genoa SNP 23 meets AMD-SB-3019 (2025-02-03) but not AMD-SB-3020 (2025-10-14).
  assertOk(await verify('genoa-v3-vcek-azure', { at: new Date('2025-10-13T23:59:59Z') }));
  assert.equal(bulletinOf(assertRejected(await verify('genoa-v3-vcek-azure', { at: new Date('2025-10-14T00:00:00Z') }), 'TcbBelowFloor')), 'AMD-SB-3020');
  // Milan microcode 115 is below AMD-SB-3019.
  assertOk(await verify('milan-v2-vcek-virtee', { at: new Date('2025-02-02T23:59:59Z') }));
  assert.equal(bulletinOf(assertRejected(await verify('milan-v2-vcek-virtee', { at: new Date('2025-02-03T00:00:00Z') }), 'TcbBelowFloor')), 'AMD-SB-3019');
});

test('microcode floors follow the CPU line: Bergamo/Siena (model A0h) is judged on its own microcode sequence', async () => {
  // genoa-v3-vcek-trustee-e2e: model A0h stepping 2, microcode 25 = AMD-SB-3019's 0x0AA00219; classic Genoa needs 84.
  assertOk(await verify('genoa-v3-vcek-trustee-e2e', { at: new Date('2025-07-01T00:00:00Z') }));
  assertOk(await verify('milan-v3-vcek-azure'), 'Milan bl 4 / snp 24 / ucode 219 meets every Milan floor');
});

test('minTcb SPEC replaces the table: "bl=7,tee=0,snp=14,ucode=72", JSON, per product', async () => {
  const spec = parseMinTcbSpec('bl=7,tee=0,snp=14,ucode=72');
  const e = assertRejected(await verify('milan-v2-vcek-virtee', { minTcb: spec }), 'TcbBelowFloor', { path: 'reported_tcb.bootloader' });
  assert.equal(bulletinOf(e), '--min-tcb');
  assertOk(await verify('milan-v2-vcek-virtee', { minTcb: parseMinTcbSpec('bl=3,snp=8,ucode=115') }));
  assertRejected(await verify('milan-v2-vcek-virtee', { minTcb: parseMinTcbSpec('{"microcode":116}') }), 'TcbBelowFloor', { path: 'reported_tcb.microcode' });
  // Per product: a Genoa floor does not constrain Milan.
  assertOk(await verify('milan-v2-vcek-virtee', { minTcb: parseMinTcbSpec('{"Genoa":{"snp":99}}') }));
  assertRejected(await verify('genoa-v3-vcek-azure', { minTcb: parseMinTcbSpec('{"Genoa":{"snp":99}}') }), 'TcbBelowFloor', { path: 'reported_tcb.snp' });
  assert.equal(parseMinTcbSpec('none'), 'none');
  for (const bad of ['', 'bl', 'bl=x', 'bl=256', 'foo=1', 'bl=1,bl=2', '{"Rome":{"snp":1}}', '{"snp":-1}', '[]']) {
    assert.throws(() => parseMinTcbSpec(bad), (e: unknown) => e instanceof EncumberError && e.code === 'UsageError', bad);
  }
});

test('VMPL: 0 is expected by default (VmplMismatch); expectedVmpl 1 or "any" accepts the VMPL-1 VLEK reports', async () => {
  const o = { at: VLEK_AT, minTcb: 'none' } as const;
  const e = assertRejected(await verify('milan-v3-vlek-aws-coco', o), 'VmplMismatch', { path: 'vmpl' });
  assert.equal(e.expected, 0);
  assert.equal(e.actual, 1);
  assertOk(await verify('milan-v3-vlek-aws-coco', { ...o, expectedVmpl: 1 }));
  assertOk(await verify('milan-v3-vlek-aws-coco', { ...o, expectedVmpl: 'any' }));
  assertRejected(await verify('milan-v3-vcek-azure', { expectedVmpl: 2 }), 'VmplMismatch', { path: 'vmpl' });
});

test('the table: every bulletin is dated, sourced and names products the verifier knows', () => {
  const onDisk = JSON.parse(readFileSync(join(REPO_ROOT, 'attestation', 'snp-tcb-floor.json'), 'utf8'));
  assert.deepEqual(SNP_TCB_FLOOR, onDisk, 'the verifier uses attestation/snp-tcb-floor.json as it is');
  const ids = new Set<string>();
  for (const b of onDisk.bulletins) {
    assert.match(b.id, /^AMD-SB-\d{4}$/);
    assert.ok(!ids.has(b.id), `${b.id} once`);
    ids.add(b.id);
    assert.match(b.published, /^\d{4}-\d{2}-\d{2}$/);
    assert.match(b.url, /^https:\/\/www\.amd\.com\//);
    assert.ok(b.sources.length > 0 && b.cves.length > 0, `${b.id} has sources and CVEs`);
    for (const p of Object.keys(b.floors)) assert.ok(['Milan', 'Genoa', 'Turin'].includes(p), `${b.id}: ${p}`);
  }
  for (const id of ['AMD-SB-3019', 'AMD-SB-7029', 'AMD-SB-3020']) assert.ok(ids.has(id), id);
});

test('docs/attestation.md "TCB floor" lists exactly the fixtures these tests hold below a floor', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'attestation.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## TCB floor'));
  const listed: Record<string, string> = {};
  for (const m of section.matchAll(/^\| ([a-z0-9-]+) \|[^\n]*`TcbBelowFloor` (AMD-SB-\d{4})/gm)) listed[m[1]!] = m[2]!;
  assert.deepEqual(listed, { ...BELOW_FLOOR_AT_EXPECTED, ...BELOW_FLOOR_AT_VLEK });
});
