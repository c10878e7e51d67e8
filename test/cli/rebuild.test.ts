/**
 * `encumber rebuild --compare`: a dev attestation of the bundle this checkout
 * builds is equal to the rebuild, check by check; other measurements are not.
 * SEV-SNP: the launch measurement of a synthetic build directory (a tiny
 * firmware with a real OVMF footer table and SEV metadata, small kernel and
 * initrd files) is found in the configuration it was launched in.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { runCli } from '../support/cli.ts';
import { fixturePath, readFixtureBytes, REPO_ROOT, tempDir } from '../support/fixtures.ts';
import { buildPrerequisiteMissing, runImageBuild, skipUnlessCi } from '../image/build-runner.ts';
import { devAttestor, loadOrCreateDevRoot } from '../../src/enclave/platforms.ts';
import { encodeSnpCertTable, joinSnpEvidence } from '../../src/attestation/evidence/snp-cert-table.ts';
import { snpLaunchMeasurement } from '../../src/attestation/sev-snp/index.ts';
import { toHex } from '../../src/crypto/encoding.ts';
import { syntheticOvmf } from '../attestation/sev-snp/measure-synthetic-ovmf.ts';

const SNP_KERNEL = new TextEncoder().encode('synthetic bzImage');
const SNP_INITRD = new TextEncoder().encode('synthetic initramfs');
const SNP_CMDLINE = 'console=ttyS0 panic=-1 encumber.platform=sev-snp';

function syntheticSnpBuild(manifest: unknown = { snp: { cmdline: SNP_CMDLINE } }, firmware = true): string {
  const dir = tempDir('snp-build-');
  if (firmware) writeFileSync(join(dir, 'OVMF.fd'), syntheticOvmf({ pages: 4 }));
  writeFileSync(join(dir, 'bzImage'), SNP_KERNEL);
  writeFileSync(join(dir, 'initramfs.cpio.gz'), SNP_INITRD);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

const skip = skipUnlessCi(buildPrerequisiteMissing());

/** The real image build, made once and only when a test that needs it runs (not for the SEV-SNP tests below). */
let imageBuild: Promise<{ buildDir: string; manifest: any }> | undefined;
function builtImage(): Promise<{ buildDir: string; manifest: any }> {
  imageBuild ??= (async () => {
    let buildDir = join(REPO_ROOT, 'build', 'out');
    if (!process.env.CI || !existsSync(join(buildDir, 'manifest.json'))) {
      buildDir = tempDir('encumber-rebuild-test-');
      const run = await runImageBuild(REPO_ROOT, ['--out', buildDir]);
      assert.equal(run.code, 0, run.stderr);
    }
    return { buildDir, manifest: JSON.parse(readFileSync(join(buildDir, 'manifest.json'), 'utf8')) };
  })();
  return imageBuild;
}

describe('Nitro and dev: the PCRs of a real image build', () => {
  test('a dev attestation of the rebuilt bundle compares equal; a different bundle does not', { skip }, async () => {
    const { buildDir } = await builtImage();
    const dir = tempDir('rebuild-cmp-');
    const { root, pemPath } = loadOrCreateDevRoot(join(dir, 'data'), new Date());
    const bundle = readFileSync(join(buildDir, 'encumber-enclave.mjs'));
    const attest = (digest: Uint8Array) =>
      devAttestor(root, digest).attest({ publicKey: new Uint8Array(33), bindingBytes: new Uint8Array(1), bindingCid: new Uint8Array(36), nonce: new Uint8Array(8), now: new Date() });
    writeFileSync(join(dir, 'same.cbor'), await attest(new Uint8Array(createHash('sha384').update(bundle).digest())));
    writeFileSync(join(dir, 'other.cbor'), await attest(new Uint8Array(48).fill(1)));

    const same = await runCli(['rebuild', '--compare', join(dir, 'same.cbor'), '--root', pemPath, '--build-dir', buildDir, '--json']);
    const j = JSON.parse(same.out[0]!);
    assert.equal(same.code, 0, same.out.join('\n'));
    assert.equal(j.equal, true);
    assert.deepEqual(j.checks.map((c: any) => c.name), ['attestation', 'rebuild', 'PCR0', 'PCR1', 'PCR2']);

    const other = await runCli(['rebuild', '--compare', join(dir, 'other.cbor'), '--root', pemPath, '--build-dir', buildDir, '--json']);
    assert.equal(other.code, 1);
    assert.equal(JSON.parse(other.out[0]!).checks.find((c: any) => c.name === 'PCR0').ok, false);
  });

  test('--pcr0/1/2 against the rebuilt EIF; a real AWS document of another program differs', { skip }, async () => {
    const { buildDir, manifest } = await builtImage();
    const p = manifest.eif.pcrs;
    assert.equal((await runCli(['rebuild', '--pcr0', p.PCR0, '--pcr1', p.PCR1, '--pcr2', p.PCR2, '--build-dir', buildDir])).code, 0);
    assert.equal((await runCli(['rebuild', '--pcr0', 'ab'.repeat(48), '--build-dir', buildDir])).code, 1);
    const aws = await runCli(['rebuild', '--compare', fixturePath('nitro', 'marlin-aws-valid.cbor'), '--at', '2024-12-13T07:38:00Z', '--build-dir', buildDir, '--json']);
    assert.equal(aws.code, 1);
    const j = JSON.parse(aws.out[0]!);
    assert.equal(j.checks[0].ok, true, 'the AWS document itself verifies');
    assert.equal(j.checks.find((c: any) => c.name === 'PCR0').ok, false);
    // Expired evidence is refused before any comparison.
    const late = await runCli(['rebuild', '--compare', fixturePath('nitro', 'marlin-aws-valid.cbor'), '--build-dir', buildDir, '--json']);
    assert.equal(JSON.parse(late.out[0]!).checks[0].ok, false);
  });
});

test('usage errors exit 2', async () => {
  assert.equal((await runCli(['rebuild'])).code, 2);
  assert.equal((await runCli(['rebuild', '--pcr0', 'zz'])).code, 2);
  assert.equal((await runCli(['rebuild', '--compare', '/nonexistent'])).code, 2);
});

// ---- SEV-SNP: the launch measurement of a (synthetic) build ---------------------------------

test('SEV-SNP --measurement: equal when the build launched in some configuration names it; narrowed flags and other values are not', async () => {
  const dir = syntheticSnpBuild();
  const fw = syntheticOvmf({ pages: 4 });
  const kernel = { kernel: SNP_KERNEL, initrd: SNP_INITRD, cmdline: SNP_CMDLINE };
  const m = toHex(snpLaunchMeasurement({ firmware: fw, vcpus: 3, cpu: 'EPYC-Genoa', guestFeatures: 0x21n, kernel }));

  const r = await runCli(['rebuild', '--measurement', m, '--build-dir', dir, '--json']);
  assert.equal(r.code, 0, r.out.join('\n') + r.err.join('\n'));
  const j = JSON.parse(r.out[0]!);
  assert.equal(j.equal, true);
  assert.deepEqual(j.checks.map((c: any) => c.name), ['rebuild', 'MEASUREMENT']);
  assert.deepEqual(j.configurations, [{ vcpus: 3, cpu: 'EPYC-Genoa', vcpuSig: '0xa10f10', guestFeatures: '0x21' }]);
  const text = await runCli(['rebuild', '--measurement', m.toUpperCase(), '--build-dir', dir]);
  assert.equal(text.code, 0);
  assert.match(text.out.join('\n'), /3 × EPYC-Genoa/);

  const narrowed = await runCli(['rebuild', '--measurement', m, '--vcpus', '2,4', '--cpu', 'EPYC-Genoa', '--build-dir', dir, '--json']);
  assert.equal(narrowed.code, 1);
  assert.equal(JSON.parse(narrowed.out[0]!).checks.find((c: any) => c.name === 'MEASUREMENT').ok, false);
  assert.equal((await runCli(['rebuild', '--measurement', m, '--vcpus', '3', '--cpu', 'EPYC-Genoa', '--guest-features', '0x21', '--build-dir', dir])).code, 0);

  // Another command line is another image.
  const other = syntheticSnpBuild({ snp: { cmdline: SNP_CMDLINE + ' quiet' } });
  assert.equal((await runCli(['rebuild', '--measurement', m, '--build-dir', other])).code, 1);
});

test('SEV-SNP --compare: a real report verifies, and its measurement is not this build in any supported configuration', async () => {
  const name = 'milan-v2-vcek-virtee';
  // Checked before AMD-SB-3019 (2025-02-03) raised the Milan TCB floor above this report's microcode.
  const at = '2025-01-15T00:00:00Z';
  const tmp = tempDir('rebuild-snp-');
  const evidence = join(tmp, 'evidence.bin');
  const table = encodeSnpCertTable({ vcek: readFixtureBytes('sev-snp', name, 'vcek.der'), ask: readFixtureBytes('sev-snp', name, 'ask.der'), ark: readFixtureBytes('sev-snp', name, 'ark.der') });
  writeFileSync(evidence, joinSnpEvidence(readFixtureBytes('sev-snp', name, 'report.bin'), table));
  const r = await runCli(['rebuild', '--compare', evidence, '--at', at, '--build-dir', syntheticSnpBuild(), '--json']);
  assert.equal(r.code, 1, r.out.join('\n') + r.err.join('\n'));
  const j = JSON.parse(r.out[0]!);
  assert.deepEqual(j.checks.map((c: any) => [c.name, c.ok]), [['attestation', true], ['rebuild', true], ['MEASUREMENT', false]]);
  assert.match(j.checks[2].detail, /512 configuration/);
  assert.deepEqual(j.configurations, []);
});

test('SEV-SNP usage errors exit 2', async () => {
  const dir = syntheticSnpBuild();
  const m = 'ab'.repeat(48);
  assert.equal((await runCli(['rebuild', '--measurement', 'zz', '--build-dir', dir])).code, 2);
  assert.equal((await runCli(['rebuild', '--measurement', m, '--pcr0', m, '--build-dir', dir])).code, 2);
  assert.equal((await runCli(['rebuild', '--measurement', m, '--cpu', 'Xeon', '--build-dir', dir])).code, 2);
  assert.equal((await runCli(['rebuild', '--measurement', m, '--build-dir', syntheticSnpBuild(undefined, false)])).code, 2, 'no OVMF.fd');
  assert.equal((await runCli(['rebuild', '--measurement', m, '--build-dir', syntheticSnpBuild({})])).code, 2, 'no SNP command line');
});
