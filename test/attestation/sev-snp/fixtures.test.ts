/**
 * Every case of ../shared/fixtures/sev-snp gives the verdict of expected.json
 * at its `at` (2026-11-23), read in place, judged as expected.json was: without
 * a TCB floor (tcb-floor.test.ts covers the floor); the VLEK cases pass when their
 * certificates were valid; the debug case passes only with allowDebug; the
 * mis-paired VCEK fails on the report signature.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../../src/attestation/bytes.ts';
import { verifySnpReport, clearSnpVerifyMemo, type SnpVerdict } from '../../../src/attestation/sev-snp/index.ts';
import { assertOk, assertRejected, snpCase, SNP_AT, SNP_CASES, SNP_EXPECTED, snpCerts, snpReport, VLEK_AT } from './helpers.ts';

const verify = (name: string, o: { at?: Date; allowDebug?: boolean } = {}): Promise<SnpVerdict> =>
  verifySnpReport(snpReport(name), { certs: snpCerts(name), at: o.at ?? SNP_AT, allowDebug: o.allowDebug, minTcb: 'none', expectedVmpl: snpCase(name).vmpl });

/** expected.json's verdict text → the code (and certificate) we must refuse with. */
const EXPECTED_CODE: Record<string, { code: string; path?: string; index?: number }> = {
  'FAIL(debug-policy)': { code: 'DebugEnclave', path: 'policy.debug' },
  'FAIL(VLEK expired (2024-05-05..2025-05-05))': { code: 'CertificateExpired', path: 'certs.vlek', index: 2 },
  'FAIL(VLEK expired (2024-12-10..2025-12-10))': { code: 'CertificateExpired', path: 'certs.vlek', index: 2 },
  'FAIL(signature; chip_id)': { code: 'EvidenceSignatureInvalid', path: 'signature' },
};

const RULES = [
  'size', 'report-structure', 'certificate-set', 'trusted-root', 'certificates', 'ark-signature', 'intermediate-signature',
  'endorsement-key-signature', 'validity', 'report-signature', 'product', 'tcb', 'tcb-floor', 'chip-id', 'debug', 'migration-agent', 'vmpl',
  'measurement', 'report-data',
];

test('expected.json covers exactly the cases of PROVENANCE.md, 7 PASS and 4 FAIL', () => {
  assert.deepEqual(Object.keys(SNP_EXPECTED.cases).sort(), SNP_CASES.map((c) => c.name).sort());
  assert.equal(Object.values(SNP_EXPECTED.cases).filter((v) => v === 'PASS').length, 7);
  assert.equal(SNP_AT.toISOString(), '2026-11-23T00:00:00.000Z');
});

for (const c of SNP_CASES) {
  const expected = SNP_EXPECTED.cases[c.name]!;
  test(`${c.name}: ${expected} at ${SNP_EXPECTED.at}`, async () => {
    const v = await verify(c.name);
    if (expected === 'PASS') {
      assertOk(v, c.name);
      assert.equal(v.platform, 'sev-snp');
      assert.equal(v.version, c.version);
      assert.equal(v.product, c.product);
      assert.equal(v.keyType, c.keyType);
      assert.equal(toHex(v.measurement).slice(0, 16), c.measurement);
      assert.equal(v.policy.raw, c.policy);
      assert.equal(v.vmpl, c.vmpl);
      assert.deepEqual(v.checks.map((r) => r.name), RULES);
      assert.ok(v.checks.every((r) => r.ok));
      return;
    }
    const want = EXPECTED_CODE[expected] ?? assert.fail(`no code for ${expected}`);
    assertRejected(v, want.code, want, c.name);
  });
}

for (const name of ['milan-v2-vlek-aws-anolis', 'milan-v3-vlek-aws-coco']) {
  test(`${name}: PASS at 2025-03-01, inside the VLEK's one-year validity`, async () => {
    const v = await verify(name, { at: VLEK_AT });
    assertOk(v, name);
    assert.equal(v.keyType, 'vlek');
    assert.equal(v.vmpl, 1);
    assert.equal(v.endorsementKey.cspId, 'CN=cc-us-east-2.amazonaws.com');
    assert.ok(v.chipId.every((b) => b === 0), 'VLEK reports carry no chip_id');
    const chipRow = v.checks.find((r) => r.name === 'chip-id')!;
    assert.equal(chipRow.skipped, true);
  });
}

test('the VLEK verdict carries the certificate window in expected/actual', async () => {
  const e = assertRejected(await verify('milan-v2-vlek-aws-anolis'), 'CertificateExpired', { index: 2, path: 'certs.vlek' });
  assert.deepEqual(e.expected, { notBefore: '2024-05-05T21:14:27.000Z', notAfter: '2025-05-05T21:14:27.000Z' });
  assert.equal(e.actual, '2026-11-23T00:00:00.000Z');
});

test('genoa-v3-vcek-trustee-e2e: its VCEK is not yet valid on 2025-03-01 (CertificateExpired, index 2)', async () => {
  assertRejected(await verify('genoa-v3-vcek-trustee-e2e', { at: VLEK_AT }), 'CertificateExpired', { index: 2, path: 'certs.vcek' });
});

test('milan-v2-vcek-gsg-debug: authentic, and accepted with allowDebug', async () => {
  const v = await verify('milan-v2-vcek-gsg-debug', { allowDebug: true });
  assertOk(v);
  assert.equal(v.policy.debug, true);
  assert.match(v.checks.find((r) => r.name === 'debug')!.detail, /allowDebug/);
  assert.equal(toHex(v.reportData.subarray(0, 5)), '0102030405');
});

test('neg-milan-v2-wrong-vcek: the chain and validity pass, the report signature fails', async () => {
  const v = await verify('neg-milan-v2-wrong-vcek');
  assertRejected(v, 'EvidenceSignatureInvalid', { path: 'signature' });
  const passed = v.checks.filter((r) => r.ok).map((r) => r.name);
  assert.deepEqual(passed, RULES.slice(0, RULES.indexOf('report-signature')));
});

test('the TCB checked is reported_tcb, not current_tcb (they differ in three genuine reports)', async () => {
  for (const name of ['milan-v2-vcek-trustee', 'milan-v2-vcek-azure-hcl']) {
    const v = await verify(name);
    assertOk(v, name);
    assert.deepEqual(v.reportedTcb, { bootloader: 3, tee: 0, snp: 8, microcode: 115 });
    assert.notEqual(v.report.currentTcb[7], 115);
  }
  const v = await verify('milan-v3-vlek-aws-coco', { at: VLEK_AT });
  assertOk(v);
  assert.deepEqual([v.report.currentTcb[7], v.reportedTcb.microcode, v.report.launchTcb[7]], [220, 217, 219]);
});

test('CPUID model 0xA0 is a Genoa part (genoa-v3-vcek-trustee-e2e)', async () => {
  const v = await verify('genoa-v3-vcek-trustee-e2e');
  assertOk(v);
  assert.deepEqual(v.report.cpuid, { family: 0x19, model: 0xa0, stepping: 2 });
  assert.equal(v.product, 'Genoa');
});

test('the same verdicts cold (no memo) and warm', async () => {
  for (const c of SNP_CASES) {
    clearSnpVerifyMemo();
    const cold = await verify(c.name);
    const warm = await verify(c.name);
    assert.equal(cold.ok, warm.ok, c.name);
    assert.deepEqual(cold.checks, warm.checks, c.name);
  }
});

test('verdicts are plain data: a PASS verdict survives JSON (no bigint)', async () => {
  const v = await verify(snpCase('milan-v3-vcek-azure').name);
  assertOk(v);
  assert.doesNotThrow(() => JSON.stringify(v));
});
