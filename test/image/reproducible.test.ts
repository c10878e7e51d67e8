/**
 * Two clean builds are byte-identical (DESIGN.md "Reproducible image").
 *
 * The checkout is copied to two different temporary directories (different
 * depth and name; the second copy's files with umask 077 modes) and
 * `enclave/image/build.ts` runs in each with a different umask, time zone and
 * locale, and the same SOURCE_DATE_EPOCH. Every artifact — bundle, both
 * ramdisks and their concatenation, bzImage, cmdline, EIF, manifest, listing —
 * must be the same bytes. On a difference the failure names the artifacts and,
 * for the ramdisks, the cpio entries that differ (diffoscope's view too, when
 * it is installed).
 *
 * The same run then checks the invariants of what was built: every entry
 * owned by 0:0 with mtime SOURCE_DATE_EPOCH, inodes 1…n in path order, the
 * fixed gzip header, the bundle inside the app ramdisk, the EIF's sections.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCpio, comparePaths } from '../../enclave/image/cpio.ts';
import { GZIP_HEADER, gunzip } from '../../enclave/image/gzip.ts';
import { ARTIFACTS, DEFAULT_CMDLINE, NITRO_CMDLINE, type ImageManifest } from '../../enclave/image/pipeline.ts';
import { explainDifferences } from '../../enclave/image/diff.ts';
import { readEif } from '../../enclave/image/eif/index.ts';
import { INPUT_CACHE, buildPrerequisiteMissing, copyCheckout, runImageBuild, skipUnlessCi, type BuildRun } from './build-runner.ts';

const SKIP = skipUnlessCi(buildPrerequisiteMissing());
// The release's SOURCE_DATE_EPOCH: the kernel and OVMF then come from the build cache (their own reproducibility
// is proven by `build:image -- --verify-reproducible`, which builds each twice in different directories).
const EPOCH = 1;
const COMPARED = [...ARTIFACTS, 'manifest.json', 'initramfs.txt'];

let outA: string;
let outB: string;
const runs: BuildRun[] = [];
let tmp: string | undefined;

before(async () => {
  if (SKIP) return;
  tmp = mkdtempSync(join(tmpdir(), 'encumber-repro-'));
  const rootA = join(tmp, 'a');
  const rootB = join(tmp, 'second', 'deeper', 'checkout-b');
  mkdirSync(rootB, { recursive: true });
  copyCheckout(rootA, 0o022);
  copyCheckout(rootB, 0o077);
  outA = join(rootA, 'build', 'out');
  outB = join(rootB, 'build', 'out');
  const common = { SOURCE_DATE_EPOCH: String(EPOCH), ENCUMBER_INPUT_CACHE: INPUT_CACHE };
  // One after the other: two cores, and the first fills the shared input cache.
  runs.push(await runImageBuild(rootA, [], { umask: '022', env: { ...common, TZ: 'UTC', LC_ALL: 'C', LANG: 'C' } }));
  runs.push(await runImageBuild(rootB, [], { umask: '077', env: { ...common, TZ: 'Pacific/Kiritimati', LC_ALL: 'C.UTF-8', LANG: 'de_DE.UTF-8' } }));
});

after(() => {
  if (tmp && !process.env.ENCUMBER_KEEP_BUILDS) rmSync(tmp, { recursive: true, force: true });
});

test('two builds in different directories, umasks, time zones and locales are byte-identical', { skip: SKIP, timeout: 900_000 }, (t) => {
  for (const [i, r] of runs.entries()) assert.equal(r.code, 0, `build ${'AB'[i]} failed:\n${r.stdout}\n${r.stderr}`);
  t.diagnostic(`build times: A ${(runs[0]!.ms / 1000).toFixed(1)} s, B ${(runs[1]!.ms / 1000).toFixed(1)} s`);
  const report = explainDifferences(outA, outB, COMPARED);
  assert.equal(report, '', `the two builds differ (ENCUMBER_KEEP_BUILDS=1 keeps ${tmp}):\n${report}`);
  const manifest = JSON.parse(readFileSync(join(outA, 'manifest.json'), 'utf8')) as ImageManifest;
  for (const [name, d] of Object.entries(manifest.artifacts)) t.diagnostic(`${name} sha384 ${d.sha384}`);
  for (const [k, v] of Object.entries(manifest.eif.pcrs)) t.diagnostic(`EIF ${k} ${v}`);
});

test('what was built: owners, times, inodes, order, gzip header, bundle in the app ramdisk, EIF sections', { skip: SKIP }, () => {
  assert.equal(runs[0]?.code, 0, 'the build ran');
  const read = (name: string) => new Uint8Array(readFileSync(join(outA, name)));
  const boot = read('initramfs-boot.cpio.gz');
  const app = read('initramfs-app.cpio.gz');
  assert.deepEqual(read('initramfs.cpio.gz'), new Uint8Array(Buffer.concat([boot, app])), 'initramfs = boot ‖ app');
  for (const [name, gz] of [['boot', boot], ['app', app]] as const) {
    assert.deepEqual(Buffer.from(gz.subarray(0, 10)), Buffer.from(GZIP_HEADER), `${name}: gzip header`);
    const records = readCpio(gunzip(gz));
    assert.ok(records.length > 0);
    records.forEach((r, i) => {
      assert.equal(r.ino, i + 1, `${name}: ${r.path} inode`);
      assert.equal(r.uid + r.gid, 0, `${name}: ${r.path} owner`);
      assert.equal(r.mtime, EPOCH, `${name}: ${r.path} mtime`);
      if (i > 0) assert.ok(comparePaths(records[i - 1]!.path, r.path) < 0, `${name}: sorted at ${r.path}`);
    });
  }
  const bootPaths = readCpio(gunzip(boot)).map((r) => r.path);
  for (const p of ['init', 'bin/busybox', 'bin/sh', 'usr/bin/node', 'lib64/ld-linux-x86-64.so.2', 'etc/ssl/certs/ca-certificates.crt', 'dev/console']) assert.ok(bootPaths.includes(p), p);
  const appFiles = new Map(readCpio(gunzip(app)).map((r) => [r.path, r.data]));
  assert.deepEqual([...appFiles.keys()], ['encumber', 'encumber/encumber-enclave.mjs']);
  assert.deepEqual(new Uint8Array(appFiles.get('encumber/encumber-enclave.mjs')!), read('encumber-enclave.mjs'));

  const eif = readEif(read('encumber.eif'));
  assert.deepEqual(eif.kernel, read('bzImage'));
  assert.equal(eif.cmdline + '\n', new TextDecoder().decode(read('cmdline-nitro.txt')));
  assert.equal(eif.cmdline, NITRO_CMDLINE);
  assert.equal(new TextDecoder().decode(read('cmdline.txt')), DEFAULT_CMDLINE + '\n');
  assert.deepEqual(eif.ramdisks, [boot, app]);
  const manifest = JSON.parse(readFileSync(join(outA, 'manifest.json'), 'utf8')) as ImageManifest;
  assert.deepEqual(manifest.eif.pcrs, { PCR0: eif.pcrs[0], PCR1: eif.pcrs[1], PCR2: eif.pcrs[2] });
  assert.equal(manifest.sourceDateEpoch, EPOCH);
});
