/**
 * `encumber measure --platform sev-snp` on a synthetic build directory (a tiny
 * firmware with a real OVMF footer table and SEV metadata, small kernel and
 * initrd files), and SEV-SNP measurement pins in `attest verify
 * --measurements` with a real report of ../shared/fixtures/sev-snp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { runCli } from '../support/cli.ts';
import { fixturePath, readFixtureBytes } from '../support/fixtures.ts';
import { parseSnpReport, snpLaunchMeasurement } from '../../src/attestation/sev-snp/index.ts';
import { parseMeasurements } from '../../src/verifier/measurements.ts';
import { toHex } from '../../src/crypto/encoding.ts';
import { syntheticOvmf } from '../attestation/sev-snp/measure-synthetic-ovmf.ts';

const KERNEL = new TextEncoder().encode('synthetic bzImage');
const INITRD = new TextEncoder().encode('synthetic initramfs');
const CMDLINE = 'console=ttyS0 panic=-1 encumber.platform=sev-snp';

function syntheticBuild(o: { firmware?: Uint8Array | null; manifest?: unknown } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'snp-build-'));
  if (o.firmware !== null) writeFileSync(join(dir, 'OVMF.fd'), o.firmware ?? syntheticOvmf({ pages: 4 }));
  writeFileSync(join(dir, 'bzImage'), KERNEL);
  writeFileSync(join(dir, 'initramfs.cpio.gz'), INITRD);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(o.manifest ?? { snp: { cmdline: CMDLINE } }));
  return dir;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('measure --platform sev-snp: one entry per configuration, equal to the library on the same files', async () => {
  const dir = syntheticBuild();
  const r = await runCli(['measure', '--platform', 'sev-snp', '--vcpus', '2,4', '--cpu', 'EPYC-Milan', '--guest-features', '0x21', '--build-dir', dir]);
  assert.equal(r.code, 0, r.err.join('\n'));
  const doc = JSON.parse(r.out.join('\n'));
  const entries = parseMeasurements(doc)['sev-snp'];
  assert.equal(entries.length, 2);
  const fw = syntheticOvmf({ pages: 4 });
  for (const [i, vcpus] of [2, 4].entries()) {
    const e = entries[i]!;
    const expected = snpLaunchMeasurement({ firmware: fw, vcpus, cpu: 'EPYC-Milan', guestFeatures: 0x21n, kernel: { kernel: KERNEL, initrd: INITRD, cmdline: CMDLINE } });
    assert.equal(e.measurement, toHex(expected));
    assert.deepEqual({ vcpus: e.vcpus, cpu: e.cpu, vcpuSig: e.vcpuSig, guestFeatures: e.guestFeatures }, { vcpus, cpu: 'EPYC-Milan', vcpuSig: '0xa00f11', guestFeatures: '0x21' });
    assert.deepEqual(e.inputs, { ovmfSha256: sha256(fw), kernelSha256: sha256(KERNEL), initrdSha256: sha256(INITRD), cmdline: CMDLINE });
  }
  rmSync(dir, { recursive: true });
});

test('measure --platform sev-snp: defaults (2 vCPUs, every supported model, features 0x1); --out; cmdline-sev-snp.txt', async () => {
  const dir = syntheticBuild({ manifest: {} });
  writeFileSync(join(dir, 'cmdline-sev-snp.txt'), CMDLINE + '\n');
  const out = join(dir, 'm.json');
  const r = await runCli(['measure', '--platform', 'sev-snp', '--build-dir', dir, '--out', out]);
  assert.equal(r.code, 0, r.err.join('\n'));
  const { readFileSync } = await import('node:fs');
  const entries = parseMeasurements(JSON.parse(readFileSync(out, 'utf8')))['sev-snp'];
  assert.deepEqual(entries.map((e) => [e.cpu, e.vcpus, e.guestFeatures]), [['EPYC-v4', 2, '0x1'], ['EPYC-Milan', 2, '0x1'], ['EPYC-Genoa', 2, '0x1'], ['EPYC-Turin', 2, '0x1']]);
  assert.equal(new Set(entries.map((e) => e.measurement)).size, 4, 'the vCPU signature changes the measurement');
  assert.equal(entries[0]!.inputs!.cmdline, CMDLINE);
  rmSync(dir, { recursive: true });
});

test('measure --platform sev-snp: usage errors exit 2', async () => {
  const good = syntheticBuild();
  const cases: [string, string[]][] = [
    ['no OVMF.fd', ['--build-dir', syntheticBuild({ firmware: null })]],
    ['firmware without footer table', ['--build-dir', syntheticBuild({ firmware: syntheticOvmf({ footer: false }) })]],
    ['firmware not whole pages', ['--build-dir', syntheticBuild({ firmware: new Uint8Array(5000) })]],
    ['no SNP command line', ['--build-dir', syntheticBuild({ manifest: {} })]],
    ['unknown model', ['--build-dir', good, '--cpu', 'Xeon']],
    ['zero vCPUs', ['--build-dir', good, '--vcpus', '0']],
    ['not a number', ['--build-dir', good, '--vcpus', 'two']],
    ['SNPActive missing', ['--build-dir', good, '--guest-features', '0x20']],
  ];
  for (const [what, args] of cases) assert.equal((await runCli(['measure', '--platform', 'sev-snp', ...args])).code, 2, what);
  assert.equal((await runCli(['measure', '--vcpus', '2'])).code, 2, 'SNP flags without --platform sev-snp');
  assert.equal((await runCli(['measure', '--platform', 'tdx'])).code, 2, 'unknown platform');
});

test('attest verify --measurements: a full sev-snp entry pins a real report; another value is refused; a bad entry is a usage error', async () => {
  const name = 'milan-v2-vcek-virtee';
  const file = fixturePath('sev-snp', name, 'report.bin');
  const measurement = toHex(parseSnpReport(readFixtureBytes('sev-snp', name, 'report.bin')).measurement);
  const dir = mkdtempSync(join(tmpdir(), 'snp-pin-'));
  const entry = (m: string, extra: Record<string, unknown> = {}) => ({
    name: 'encumber sev-snp 2 vCPU EPYC-Milan',
    measurement: m,
    vcpus: 2,
    cpu: 'EPYC-Milan',
    vcpuSig: '0xa00f11',
    guestFeatures: '0x1',
    inputs: { ovmfSha256: 'aa'.repeat(32), kernelSha256: 'bb'.repeat(32), initrdSha256: 'cc'.repeat(32), cmdline: CMDLINE },
    ...extra,
  });
  const write = (n: string, doc: unknown) => {
    writeFileSync(join(dir, n), JSON.stringify(doc));
    return join(dir, n);
  };
  // Checked before AMD-SB-3019 (2025-02-03) raised the Milan TCB floor above this report's microcode.
  const at = ['--at', '2025-01-15T00:00:00Z', '--json'];

  const pinned = await runCli(['attest', 'verify', file, '--measurements', write('ok.json', { release: '0.1.0', nitro: [], dev: [], 'sev-snp': [entry('ab'.repeat(48)), entry(measurement)] }), ...at]);
  const pj = JSON.parse(pinned.out[0]!);
  assert.equal(pinned.code, 0, JSON.stringify(pj.error));
  assert.match(pj.checks.find((c: { name: string }) => c.name === 'published-measurement').detail, /EPYC-Milan/);

  const other = await runCli(['attest', 'verify', file, '--measurements', write('other.json', { 'sev-snp': [entry('ab'.repeat(48))] }), ...at]);
  assert.equal(other.code, 1);
  assert.equal(JSON.parse(other.out[0]!).error.code, 'MeasurementMismatch');

  // What `encumber measure --platform sev-snp` prints is a measurements file: of another image here, so refused.
  const build = syntheticBuild();
  const m = await runCli(['measure', '--platform', 'sev-snp', '--build-dir', build, '--out', join(dir, 'measured.json')]);
  assert.equal(m.code, 0);
  const measured = await runCli(['attest', 'verify', file, '--measurements', join(dir, 'measured.json'), ...at]);
  assert.equal(JSON.parse(measured.out[0]!).error.code, 'MeasurementMismatch');

  // Entries stay backward compatible (measurement alone), and are checked when they say more.
  assert.equal((await runCli(['attest', 'verify', file, '--measurements', write('bare.json', { 'sev-snp': [{ measurement }] }), ...at])).code, 0);
  for (const [what, bad] of [
    ['signature of another model', entry(measurement, { vcpuSig: '0x800f12' })],
    ['unknown model', entry(measurement, { cpu: 'Xeon' })],
    ['uppercase hex', entry(measurement, { guestFeatures: '0X1' })],
    ['unknown field', entry(measurement, { vmm: 'qemu' })],
    ['bad input hash', entry(measurement, { inputs: { kernelSha256: 'zz' } })],
  ] as const) {
    assert.equal((await runCli(['attest', 'verify', file, '--measurements', write('bad.json', { 'sev-snp': [bad] }), ...at])).code, 2, what);
  }
  rmSync(dir, { recursive: true });
});
