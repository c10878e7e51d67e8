/**
 * `npm run build:image` — the reproducible enclave image, from a clean checkout:
 *
 *   build/out/encumber-enclave.mjs    the esbuild bundle (same as npm run build)
 *   build/out/initramfs-boot.cpio.gz  boot ramdisk (init, busybox, glibc, node, CA bundle, modules)
 *   build/out/initramfs-app.cpio.gz   app ramdisk (the bundle, the policy if given)
 *   build/out/initramfs.cpio.gz       boot ‖ app: the initrd for QEMU / SEV-SNP direct boot
 *   build/out/bzImage, cmdline.txt    the pinned test kernel and its command line
 *   build/out/encumber.eif            Nitro Enclave image (PCR0/1/2 in the manifest)
 *   build/out/manifest.json           sha256/sha384 of each, inputs, PCRs
 *   build/out/initramfs.txt           every ramdisk entry: mode, size, sha256, path
 *
 * Options: --out DIR (default build/out), --cache DIR (default enclave/inputs/cache,
 * or $ENCUMBER_INPUT_CACHE), --policy FILE, --cmdline TEXT.
 * SOURCE_DATE_EPOCH sets the one timestamp in the image (default 1).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CACHE, REPO_ROOT } from './inputs.ts';
import { ensurePinnedRuntime } from './runtime.ts';
import { buildImage } from './pipeline.ts';

const log = (line: string) => process.stderr.write(`build:image  ${line}\n`);

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(REPO_ROOT, 'build', 'out') },
    cache: { type: 'string', default: process.env.ENCUMBER_INPUT_CACHE || DEFAULT_CACHE },
    policy: { type: 'string' },
    cmdline: { type: 'string' },
  },
});

function sourceDateEpoch(): number {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return 1;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) > 0xffffffff) {
    throw new Error(`SOURCE_DATE_EPOCH must be whole seconds that fit 32 bits (the cpio mtime field), got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

ensurePinnedRuntime(log);
const outDir = resolve(values.out!);
// build/ holds only generated files: keep it out of git without touching the repo's .gitignore.
const buildDir = join(REPO_ROOT, 'build');
if (outDir.startsWith(buildDir + '/')) {
  mkdirSync(buildDir, { recursive: true });
  if (!existsSync(join(buildDir, '.gitignore'))) writeFileSync(join(buildDir, '.gitignore'), '*\n');
}

const { manifest, timings } = await buildImage({
  root: REPO_ROOT,
  outDir,
  cacheDir: resolve(values.cache!),
  sourceDateEpoch: sourceDateEpoch(),
  ...(values.policy ? { policyFile: resolve(values.policy) } : {}),
  ...(values.cmdline ? { cmdline: values.cmdline } : {}),
  log,
});

const out: string[] = [`image ${manifest.image} ${manifest.version}  SOURCE_DATE_EPOCH=${manifest.sourceDateEpoch}  → ${outDir}`];
for (const [name, d] of Object.entries(manifest.artifacts)) {
  out.push(`  ${name.padEnd(24)} ${String(d.bytes).padStart(10)} B  sha256 ${d.sha256}`);
  out.push(`  ${''.padEnd(24)} ${''.padStart(10)}    sha384 ${d.sha384}`);
}
for (const [k, v] of Object.entries(manifest.eif.pcrs)) out.push(`  EIF ${k}  ${v}`);
for (const [k, v] of Object.entries(manifest.devPcrs)) out.push(`  dev ${k}  ${v}`);
out.push(`  build time ${(timings.total! / 1000).toFixed(1)} s (${Object.entries(timings).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')})`);
console.log(out.join('\n'));
