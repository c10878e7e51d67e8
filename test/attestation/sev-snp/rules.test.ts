/**
 * The rules after the report signature, each broken on its own. Real reports
 * cannot be re-signed, so a rule that a genuine pairing never breaks (TCB,
 * chip, product, migration agent) is exercised directly on parsed real data:
 * the rules are pure functions of (report, certificate). Where a real report
 * can break a rule (debug, VMPL, measurement, report_data), it goes through
 * verifySnpReport end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { toHex } from '../../../src/attestation/bytes.ts';
import { decodeGuestPolicy, decodeTcb, parseSnpReport, productOfCpuid, snpReportData, verifySnpReport, type SnpReport, type SnpVerifyOptions } from '../../../src/attestation/sev-snp/index.ts';
import { parseSnpCertificate, type SnpCertificate } from '../../../src/attestation/sev-snp/profile.ts';
import { checkChipId, checkProduct, checkTcb } from '../../../src/attestation/sev-snp/identity.ts';
import { checkDebug, checkMigrationAgent, checkReportData, checkVmpl } from '../../../src/attestation/sev-snp/policy.ts';
import { EncumberError } from '../../../src/errors.ts';
import { assertOk, assertRejected, SNP_AT, snpCerts, snpReport, VLEK_AT } from './helpers.ts';

const report = (name: string): SnpReport => parseSnpReport(snpReport(name));
const vcek = (name: string): SnpCertificate => parseSnpCertificate(snpCerts(name).vcek!, { index: 2, path: 'certs.vcek' });

function throwsCode(fn: () => unknown, code: string, path?: string): EncumberError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof EncumberError, `expected ${code}`);
  assert.equal(caught.code, code, caught.message);
  if (path !== undefined) assert.equal(caught.path, path, caught.message);
  return caught;
}

// Judged without a TCB floor (tcb-floor.test.ts covers it).
const verify = (name: string, o: Partial<SnpVerifyOptions> = {}) => verifySnpReport(snpReport(name), { certs: snpCerts(name), at: SNP_AT, minTcb: 'none', ...o });

test('tcb: a VCEK for another TCB → TcbMismatch at the first differing component', () => {
  // milan-v3-vcek-azure runs at bl 4 / snp 24 / ucode 219; the virtee VCEK certifies bl 3 / snp 8 / ucode 115.
  const e = throwsCode(() => checkTcb(report('milan-v3-vcek-azure'), vcek('milan-v2-vcek-virtee'), 'certs.vcek', 'Milan'), 'TcbMismatch', 'reported_tcb.bootloader');
  assert.deepEqual([e.expected, e.actual], [3, 4]);
  const r = report('milan-v2-vcek-trustee');
  const tcb = checkTcb(r, vcek('milan-v2-vcek-trustee'), 'certs.vcek', 'Milan');
  assert.deepEqual(tcb, { bootloader: 3, tee: 0, snp: 8, microcode: 115 });
  // current_tcb (ucode 206) is not what the VCEK certifies: judged against it, the same pair would fail.
  throwsCode(() => checkTcb({ ...r, reportedTcb: r.currentTcb }, vcek('milan-v2-vcek-trustee'), 'certs.vcek', 'Milan'), 'TcbMismatch', 'reported_tcb.microcode');
  const reserved = r.reportedTcb.slice();
  reserved[3] = 1;
  throwsCode(() => checkTcb({ ...r, reportedTcb: reserved }, vcek('milan-v2-vcek-trustee'), 'certs.vcek', 'Milan'), 'TcbMismatch', 'reported_tcb');
  const leaf = vcek('milan-v2-vcek-trustee');
  const noUcode = { ...leaf, amd: { ...leaf.amd, tcb: { ...leaf.amd.tcb, microcode: undefined } } } as SnpCertificate;
  assert.equal(throwsCode(() => checkTcb(r, noUcode, 'certs.vcek', 'Milan'), 'TcbMismatch', 'reported_tcb.microcode').expected, null);
});

test('TCB layouts: Milan/Genoa (bl 0, tee 1, snp 6, ucode 7) and Turin (fmc 0, bl 1, tee 2, snp 3, ucode 7)', () => {
  const raw = Uint8Array.from([1, 2, 0, 0, 0, 0, 7, 8]);
  assert.deepEqual(decodeTcb(raw, 'Genoa', 't'), { bootloader: 1, tee: 2, snp: 7, microcode: 8 });
  const turin = Uint8Array.from([1, 2, 3, 4, 0, 0, 0, 8]);
  assert.deepEqual(decodeTcb(turin, 'Turin', 't'), { fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 8 });
  throwsCode(() => decodeTcb(raw, 'Turin', 't'), 'TcbMismatch', 't'); // byte 6 is reserved on Turin
});

test('chip-id: the neg case\'s VCEK belongs to another chip → ChipIdMismatch (the signature rule catches it first end to end)', () => {
  const r = report('neg-milan-v2-wrong-vcek');
  const e = throwsCode(() => checkChipId(r, vcek('neg-milan-v2-wrong-vcek'), 'certs.vcek', 'Milan'), 'ChipIdMismatch', 'chip_id');
  assert.equal(e.actual, toHex(r.chipId));
  assert.match(checkChipId(r, vcek('milan-v2-vcek-virtee'), 'certs.vcek', 'Milan'), /hwID/);
  throwsCode(() => checkChipId({ ...r, chipId: new Uint8Array(64) }, vcek('milan-v2-vcek-virtee'), 'certs.vcek', 'Milan'), 'ChipIdMismatch', 'chip_id');
});

test('chip-id on Turin: an 8-byte hwID is chip_id[0..8], the rest of chip_id zero', () => {
  const r = report('milan-v2-vcek-virtee');
  const leaf = vcek('milan-v2-vcek-virtee');
  const chip = new Uint8Array(64);
  chip.set([1, 2, 3, 4, 5, 6, 7, 8]);
  const turinLeaf = { ...leaf, amd: { ...leaf.amd, hwId: chip.slice(0, 8) } } as SnpCertificate;
  assert.match(checkChipId({ ...r, chipId: chip }, turinLeaf, 'certs.vcek', 'Turin'), /8-byte hwID/);
  const tail = chip.slice();
  tail[63] = 1;
  throwsCode(() => checkChipId({ ...r, chipId: tail }, turinLeaf, 'certs.vcek', 'Turin'), 'ChipIdMismatch');
  throwsCode(() => checkChipId({ ...r, chipId: chip }, turinLeaf, 'certs.vcek', 'Milan'), 'ChipIdMismatch'); // Milan wants 64 bytes
});

test('product: productName and CPUID must name the ARK\'s product line', () => {
  const genoa = report('genoa-v3-vcek-azure');
  assert.match(checkProduct(genoa, vcek('genoa-v3-vcek-azure'), 'certs.vcek', 'Genoa'), /Genoa/);
  assert.match(checkProduct(report('milan-v2-vcek-virtee'), vcek('milan-v2-vcek-virtee'), 'certs.vcek', 'Milan'), /Milan-B0/);
  throwsCode(() => checkProduct(genoa, vcek('milan-v2-vcek-virtee'), 'certs.vcek', 'Genoa'), 'CertificateChainInvalid', 'certs.vcek.productName');
  throwsCode(() => checkProduct(report('milan-v3-vcek-azure'), vcek('genoa-v3-vcek-azure'), 'certs.vcek', 'Genoa'), 'CertificateChainInvalid', 'cpuid');
  throwsCode(() => checkProduct({ ...genoa, cpuid: { family: 0x19, model: 0x30, stepping: 0 } }, vcek('genoa-v3-vcek-azure'), 'certs.vcek', 'Genoa'), 'CertificateChainInvalid', 'cpuid');
  assert.deepEqual([productOfCpuid(0x19, 0x01), productOfCpuid(0x19, 0x11), productOfCpuid(0x19, 0xa0), productOfCpuid(0x1a, 0x02), productOfCpuid(0x17, 0x31)], ['Milan', 'Genoa', 'Genoa', 'Turin', undefined]);
});

test('debug: refused by default (DebugEnclave), accepted with allowDebug', async () => {
  assertRejected(await verify('milan-v2-vcek-gsg-debug'), 'DebugEnclave', { path: 'policy.debug' });
  assertOk(await verify('milan-v2-vcek-gsg-debug', { allowDebug: true }));
  assert.match(checkDebug(report('milan-v2-vcek-virtee'), false), /DEBUG is off/);
});

test('migration agent: policy bit 18 → PolicyViolation unless allowMigrationAgent', () => {
  const r = report('milan-v2-vcek-virtee');
  const withMa = { ...r, policy: decodeGuestPolicy(0x70000) };
  throwsCode(() => checkMigrationAgent(withMa, false), 'PolicyViolation', 'policy.migrate_ma');
  assert.match(checkMigrationAgent(withMa, true), /allowMigrationAgent/);
  assert.match(checkMigrationAgent(r, false), /MIGRATE_MA is off/);
});

test('vmpl: the VLEK reports run at VMPL 1; expected 0 by default → VmplMismatch; a host request (0xFFFFFFFF) is never a guest\'s', async () => {
  assertRejected(await verify('milan-v3-vlek-aws-coco', { at: VLEK_AT }), 'VmplMismatch', { path: 'vmpl' });
  assertRejected(await verify('milan-v3-vlek-aws-coco', { at: VLEK_AT, expectedVmpl: 0 }), 'VmplMismatch', { path: 'vmpl' });
  assertOk(await verify('milan-v3-vlek-aws-coco', { at: VLEK_AT, expectedVmpl: 1 }));
  assertOk(await verify('milan-v3-vcek-azure', { expectedVmpl: 0 }));
  throwsCode(() => checkVmpl({ ...report('milan-v2-vcek-virtee'), vmpl: 0xffffffff }, undefined), 'PolicyViolation', 'vmpl');
});

test('measurement: bytes, hex or a list; a different one → MeasurementMismatch', async () => {
  const m = report('milan-v3-vcek-azure').measurement;
  const other = m.slice();
  other[47]! ^= 1;
  for (const expectedMeasurement of [m, toHex(m), toHex(m).toUpperCase(), [other, m], [toHex(other), toHex(m)]]) {
    const v = await verify('milan-v3-vcek-azure', { expectedMeasurement });
    assertOk(v);
    assert.equal(v.checks.find((c) => c.name === 'measurement')?.skipped, undefined);
  }
  const e = assertRejected(await verify('milan-v3-vcek-azure', { expectedMeasurement: other }), 'MeasurementMismatch', { path: 'measurement' });
  assert.deepEqual([e.expected, e.actual], [[toHex(other)], toHex(m)]);
});

test('report_data: the fixture\'s own value passes; a flipped bit → BindingMismatch; a binding+nonce that is not it → BindingMismatch', async () => {
  const rd = report('milan-v2-vcek-gsg-debug').reportData;
  assertOk(await verify('milan-v2-vcek-gsg-debug', { allowDebug: true, expectedReportData: rd }));
  const wrong = rd.slice();
  wrong[63]! ^= 1;
  assertRejected(await verify('milan-v2-vcek-gsg-debug', { allowDebug: true, expectedReportData: wrong }), 'BindingMismatch', { path: 'report_data' });
  const structured = { bindingBytes: new Uint8Array([1, 2, 3]), nonce: new Uint8Array([4, 5]) };
  assertRejected(await verify('milan-v2-vcek-gsg-debug', { allowDebug: true, expectedReportData: structured }), 'BindingMismatch', { path: 'report_data[0..32]' });
});

test('report_data rule: SHA-256(binding) ‖ SHA-256(nonce) — binding half → BindingMismatch, nonce half → NonceMismatch', () => {
  const binding = new TextEncoder().encode('a DAG-CBOR binding document');
  const nonce = Uint8Array.from([9, 9, 9]);
  const rd = snpReportData(binding, nonce);
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  assert.equal(toHex(rd), sha(binding) + sha(nonce));
  const r = { ...report('milan-v2-vcek-virtee'), reportData: rd };
  const want = (b: Uint8Array, n: Uint8Array) => ({ kind: 'binding' as const, value: snpReportData(b, n) });
  assert.match(checkReportData(r, want(binding, nonce)), /SHA-256\(binding\)/);
  throwsCode(() => checkReportData(r, want(binding, Uint8Array.from([9, 9]))), 'NonceMismatch', 'report_data[32..64]');
  throwsCode(() => checkReportData(r, want(Uint8Array.from([1]), nonce)), 'BindingMismatch', 'report_data[0..32]');
  throwsCode(() => checkReportData(r, { kind: 'raw', value: new Uint8Array(64) }), 'BindingMismatch', 'report_data');
});

test('rule rows: not-requested rules are recorded as skipped', async () => {
  const v = await verify('milan-v2-vcek-virtee');
  assertOk(v);
  assert.deepEqual(v.checks.filter((c) => c.skipped).map((c) => c.name), ['measurement', 'report-data']);
});
