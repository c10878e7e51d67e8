/**
 * `encumber rebuild --compare`: a dev attestation of the bundle this checkout
 * builds is equal to the rebuild, check by check; other measurements are not.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { runCli } from '../support/cli.ts';
import { fixturePath, REPO_ROOT } from '../support/fixtures.ts';
import { buildPrerequisiteMissing, runImageBuild, skipUnlessCi } from '../image/build-runner.ts';
import { devAttestor, loadOrCreateDevRoot } from '../../src/enclave/platforms.ts';

const skip = skipUnlessCi(buildPrerequisiteMissing());
let buildDir = '';
let manifest: any;

before(async () => {
  if (skip) return;
  buildDir = join(REPO_ROOT, 'build', 'out');
  if (!process.env.CI || !existsSync(join(buildDir, 'manifest.json'))) {
    buildDir = mkdtempSync(join(tmpdir(), 'encumber-rebuild-test-'));
    const run = await runImageBuild(REPO_ROOT, ['--out', buildDir]);
    assert.equal(run.code, 0, run.stderr);
  }
  manifest = JSON.parse(readFileSync(join(buildDir, 'manifest.json'), 'utf8'));
});

test('a dev attestation of the rebuilt bundle compares equal; a different bundle does not', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rebuild-cmp-'));
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

test('usage errors exit 2', async () => {
  assert.equal((await runCli(['rebuild'])).code, 2);
  assert.equal((await runCli(['rebuild', '--pcr0', 'zz'])).code, 2);
  assert.equal((await runCli(['rebuild', '--compare', '/nonexistent'])).code, 2);
});
