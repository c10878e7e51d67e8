/** Bad options are a caller bug: the verifier rejects with UsageError (and never for bad evidence). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifySnpReport, type SnpVerifyOptions } from '../../../src/attestation/sev-snp/index.ts';
import { EncumberError } from '../../../src/errors.ts';
import { SNP_AT, snpCerts, snpReport } from './helpers.ts';

const REPORT = snpReport('milan-v2-vcek-virtee');
const CERTS = snpCerts('milan-v2-vcek-virtee');

test('invalid options reject with UsageError', async () => {
  const bad: Array<[string, unknown]> = [
    ['no options', undefined],
    ['no at', { certs: CERTS }],
    ['invalid date', { certs: CERTS, at: new Date('nope') }],
    ['at as a string', { certs: CERTS, at: '2026-11-23' }],
    ['no certs', { at: SNP_AT }],
    ['a cert that is not bytes', { certs: { ...CERTS, ark: 'MIIB...' }, at: SNP_AT }],
    ['an unknown cert slot', { certs: { ...CERTS, root: CERTS.ark }, at: SNP_AT }],
    ['empty trustedArks', { certs: CERTS, at: SNP_AT, trustedArks: [] }],
    ['a trustedArks entry that is not a SHA-256', { certs: CERTS, at: SNP_AT, trustedArks: ['69d063b4'] }],
    ['expectedReportData of 32 bytes', { certs: CERTS, at: SNP_AT, expectedReportData: new Uint8Array(32) }],
    ['expectedReportData without a nonce', { certs: CERTS, at: SNP_AT, expectedReportData: { bindingBytes: new Uint8Array(1) } }],
    ['a 32-byte measurement', { certs: CERTS, at: SNP_AT, expectedMeasurement: new Uint8Array(32) }],
    ['a measurement in odd hex', { certs: CERTS, at: SNP_AT, expectedMeasurement: 'abc' }],
    ['an empty measurement list', { certs: CERTS, at: SNP_AT, expectedMeasurement: [] }],
    ['allowDebug as a string', { certs: CERTS, at: SNP_AT, allowDebug: 'yes' }],
    ['expectedVmpl 4', { certs: CERTS, at: SNP_AT, expectedVmpl: 4 }],
    ['expectedVmpl 0.5', { certs: CERTS, at: SNP_AT, expectedVmpl: 0.5 }],
    ['expectedVmpl "all"', { certs: CERTS, at: SNP_AT, expectedVmpl: 'all' }],
    ['minTcb "off"', { certs: CERTS, at: SNP_AT, minTcb: 'off' }],
    ['minTcb with an unknown component', { certs: CERTS, at: SNP_AT, minTcb: { custom: { pl: 1 } } }],
    ['minTcb with a component above 255', { certs: CERTS, at: SNP_AT, minTcb: { custom: { snp: 256 } } }],
  ];
  for (const [label, opts] of bad) {
    await assert.rejects(verifySnpReport(REPORT, opts as SnpVerifyOptions), (e: unknown) => e instanceof EncumberError && e.code === 'UsageError', label);
  }
});

test('bad evidence never rejects: missing certificates and wrong bytes resolve to a verdict', async () => {
  const v = await verifySnpReport(new Uint8Array(7), { certs: {}, at: SNP_AT });
  assert.equal(v.ok, false);
  const w = await verifySnpReport(REPORT, { certs: {}, at: SNP_AT });
  assert.equal(!w.ok && w.error.code, 'InvalidEvidence');
});

test('the caller\'s buffers are not kept: editing them after the call changes nothing', async () => {
  const report = new Uint8Array(REPORT);
  const certs = { ...CERTS, vcek: new Uint8Array(CERTS.vcek!) };
  const pending = verifySnpReport(report, { certs, at: SNP_AT, minTcb: 'none' });
  report.fill(0);
  certs.vcek.fill(0);
  assert.equal((await pending).ok, true);
});
