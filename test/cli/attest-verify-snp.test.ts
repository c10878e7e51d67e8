/**
 * One verifier for every platform: `encumber attest verify` on every real
 * SEV-SNP report gives the verdict of ../shared/fixtures/sev-snp/expected.json,
 * with certificates found next to the report, given with --certs, or carried
 * in the evidence (report ‖ certificate table); measurements are pinned.
 * expected.json was judged without a TCB floor, so these run with --min-tcb
 * none (attest-verify-snp-floor.test.ts covers the floor).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturePath, readFixtureBytes, readFixtureJson, tempDir } from '../support/fixtures.ts';
import { runCli } from '../support/cli.ts';
import { encodeSnpCertTable, joinSnpEvidence } from '../../src/attestation/evidence/snp-cert-table.ts';
import { parseSnpReport } from '../../src/attestation/sev-snp/index.ts';

const expected = readFixtureJson<{ at: string; cases: Record<string, string> }>('sev-snp', 'expected.json');
const CODE_FOR: [RegExp, string][] = [
  [/debug/, 'DebugEnclave'],
  [/expired/, 'CertificateExpired'],
  [/signature/, 'EvidenceSignatureInvalid'],
];

for (const [name, verdict] of Object.entries(expected.cases)) {
  test(`attest verify sev-snp/${name}: ${verdict}`, async () => {
    const r = await runCli(['attest', 'verify', fixturePath('sev-snp', name, 'report.bin'), '--at', expected.at, '--any-measurement', '--min-tcb', 'none', '--json']);
    const j = JSON.parse(r.out[0]!);
    assert.equal(j.platform, 'sev-snp');
    if (verdict === 'PASS') {
      assert.equal(r.code, 0, JSON.stringify(j.error));
      assert.equal(j.valid, true);
    } else {
      assert.equal(r.code, 1);
      const code = CODE_FOR.find(([re]) => re.test(verdict))![1];
      assert.equal(j.error.code, code, j.error.message);
    }
  });
}

test('VLEK reports pass inside their certificate window', async () => {
  for (const name of ['milan-v2-vlek-aws-anolis', 'milan-v3-vlek-aws-coco']) {
    const r = await runCli(['attest', 'verify', fixturePath('sev-snp', name, 'report.bin'), '--at', '2025-03-01T00:00:00Z', '--any-measurement', '--min-tcb', 'none', '--vmpl', '1', '--json']);
    assert.equal(r.code, 0, r.out.join('\n'));
  }
});

test('measurement pinning, --certs, and evidence that carries its own certificate table', async () => {
  const dir = tempDir('snp-cli-');
  const name = 'milan-v2-vcek-virtee';
  const report = readFixtureBytes('sev-snp', name, 'report.bin');
  const measurement = Buffer.from(parseSnpReport(report).measurement).toString('hex');
  const pin = join(dir, 'measurements.json');
  writeFileSync(pin, JSON.stringify({ 'sev-snp': [{ name: 'fixture', measurement }] }));
  const wrongPin = join(dir, 'wrong.json');
  writeFileSync(wrongPin, JSON.stringify({ 'sev-snp': [{ measurement: 'ab'.repeat(48) }] }));
  const file = fixturePath('sev-snp', name, 'report.bin');
  const at = ['--at', expected.at, '--min-tcb', 'none', '--json'];

  assert.equal((await runCli(['attest', 'verify', file, '--measurements', pin, ...at])).code, 0);
  const wrong = await runCli(['attest', 'verify', file, '--measurements', wrongPin, ...at]);
  assert.equal(JSON.parse(wrong.out[0]!).error.code, 'MeasurementMismatch');
  const unpinned = await runCli(['attest', 'verify', file, ...at]);
  assert.equal(JSON.parse(unpinned.out[0]!).error.code, 'MeasurementNotPinned');

  // The report alone in another directory: certificates must come from --certs.
  const alone = join(dir, 'report.bin');
  writeFileSync(alone, report);
  const noCerts = await runCli(['attest', 'verify', alone, '--any-measurement', ...at]);
  assert.equal(JSON.parse(noCerts.out[0]!).error.code, 'InvalidEvidence');
  const withCerts = await runCli(['attest', 'verify', alone, '--certs', fixturePath('sev-snp', name), '--any-measurement', ...at]);
  assert.equal(withCerts.code, 0, withCerts.out.join('\n'));

  // encumber's own evidence form: report ‖ certificate table.
  const table = encodeSnpCertTable({
    vcek: readFixtureBytes('sev-snp', name, 'vcek.der'),
    ask: readFixtureBytes('sev-snp', name, 'ask.der'),
    ark: readFixtureBytes('sev-snp', name, 'ark.der'),
  });
  const evidence = join(dir, 'evidence.bin');
  writeFileSync(evidence, joinSnpEvidence(report, table));
  assert.equal((await runCli(['attest', 'verify', evidence, '--any-measurement', ...at])).code, 0);

  // Not evidence at all.
  writeFileSync(join(dir, 'junk.bin'), new Uint8Array(50).fill(7));
  const junk = await runCli(['attest', 'verify', join(dir, 'junk.bin'), '--any-measurement', ...at]);
  assert.equal(JSON.parse(junk.out[0]!).error.code, 'UnknownEvidenceFormat');
});

test('a binding given with --binding must match report_data (SHA-256 of the binding in the first half)', async () => {
  const dir = tempDir('snp-bind-');
  const binding = { $type: 'dev.encumber.binding', version: 1, key: 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme', policy: { $link: 'bafyreidzzcnnx4jcqu5xgdqjozk5xuagy4qfqw2bkqklmzf4igiwyysxwq' }, program: { name: 'encumber', version: '0.1.0' }, platform: 'sev-snp', createdAt: '2026-01-01T00:00:00.000Z' };
  writeFileSync(join(dir, 'binding.json'), JSON.stringify(binding));
  const r = await runCli(['attest', 'verify', fixturePath('sev-snp', 'milan-v2-vcek-virtee', 'report.bin'), '--binding', join(dir, 'binding.json'), '--at', expected.at, '--any-measurement', '--min-tcb', 'none', '--json']);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.out[0]!).error.code, 'BindingMismatch');
});
