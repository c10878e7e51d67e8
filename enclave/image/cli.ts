/**
 * The two commands of the image build, as functions (build.ts and
 * fetch-inputs.ts only call them), so the tests type-check and exercise them.
 *
 *   build:image   [--out DIR] [--cache DIR] [--policy FILE] [--cmdline TEXT]   (SOURCE_DATE_EPOCH)
 *   inputs:fetch  [--cache DIR] [--repin]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCacheDir } from './build-cache.ts';
import { DEFAULT_CACHE, INPUTS_DIR, REPO_ROOT, ensureDeb, loadDebPins, loadNodePin, verifyNodeRuntime, type DebPin } from './inputs.ts';
import { buildImage, type BuildResult } from './pipeline.ts';
import { ensurePinnedRuntime } from './runtime.ts';
import { ensureSource, loadSourcePins } from './sources.ts';
import { ensureTestDebs } from './test-inputs.ts';

type Env = Record<string, string | undefined>;

/** SOURCE_DATE_EPOCH: whole seconds that fit the cpio mtime field; unset → 1. */
export function sourceDateEpochFrom(env: Env): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return 1;
  if (!/^\d+$/.test(raw) || Number(raw) > 0xffffffff) {
    throw new Error(`SOURCE_DATE_EPOCH must be whole seconds that fit 32 bits (the cpio mtime field), got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** The lines `npm run build:image` prints. */
export function summary(outDir: string, { manifest, timings }: BuildResult): string {
  const out: string[] = [`image ${manifest.image} ${manifest.version}  SOURCE_DATE_EPOCH=${manifest.sourceDateEpoch}  → ${outDir}`];
  for (const [name, d] of Object.entries(manifest.artifacts)) {
    out.push(`  ${name.padEnd(24)} ${String(d.bytes).padStart(10)} B  sha256 ${d.sha256}`);
    out.push(`  ${''.padEnd(24)} ${''.padStart(10)}    sha384 ${d.sha384}`);
  }
  for (const [k, v] of Object.entries(manifest.eif.pcrs)) out.push(`  EIF ${k}  ${v}`);
  for (const [k, v] of Object.entries(manifest.devPcrs)) out.push(`  dev ${k}  ${v}`);
  for (const m of manifest.snp?.measurements ?? []) out.push(`  SEV-SNP ${String(m.vcpus).padStart(2)} × ${m.cpu.padEnd(10)} ${m.guestFeatures}  ${m.measurement}`);
  const steps = Object.entries(timings).filter(([k]) => k !== 'total');
  out.push(`  build time ${(timings.total! / 1000).toFixed(1)} s (${steps.map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')})`);
  return out.join('\n');
}

export async function buildMain(argv: string[], env: Env = process.env): Promise<void> {
  const log = (line: string) => process.stderr.write(`build:image  ${line}\n`);
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: join(REPO_ROOT, 'build', 'out') },
      cache: { type: 'string', default: env.ENCUMBER_INPUT_CACHE || DEFAULT_CACHE },
      policy: { type: 'string' },
      cmdline: { type: 'string' },
      'verify-reproducible': { type: 'boolean', default: false },
    },
  });
  const sourceDateEpoch = sourceDateEpochFrom(env);
  ensurePinnedRuntime(log);
  const outDir = resolve(values.out!);
  // build/ holds only generated files: keep it out of git without touching the repo's .gitignore.
  const buildDir = join(REPO_ROOT, 'build');
  if (outDir.startsWith(buildDir + '/')) {
    mkdirSync(buildDir, { recursive: true });
    if (!existsSync(join(buildDir, '.gitignore'))) writeFileSync(join(buildDir, '.gitignore'), '*\n');
  }
  const result = await buildImage({
    root: REPO_ROOT,
    outDir,
    cacheDir: resolve(values.cache!),
    sourceDateEpoch,
    ...(values.policy ? { policyFile: resolve(values.policy) } : {}),
    ...(values.cmdline ? { cmdline: values.cmdline } : {}),
    verifyReproducible: values['verify-reproducible']!,
    log,
  });
  console.log(summary(outDir, result));
}

/** Fields of one `apt-cache show` stanza. */
export function parseAptStanza(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line === '') break;
    const m = /^([A-Za-z0-9-]+): (.*)$/.exec(line);
    if (m) fields[m[1]!] = m[2]!;
  }
  return fields;
}

/** The kernel package linux-image-amd64 depends on: "linux-image-6.1.0-56-amd64 (= 6.1.192-2)" → its name. */
export function kernelPackageOf(depends: string): string {
  const m = /^(linux-image-[^\s(,]+)/.exec(depends.trim());
  if (!m) throw new Error(`linux-image-amd64 names no kernel package: ${JSON.stringify(depends)}`);
  return m[1]!;
}

function candidate(name: string): Record<string, string> {
  const r = spawnSync('apt-cache', ['show', '--no-all-versions', name], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error(`apt-cache show ${name}: ${r.stderr || 'no candidate (apt-get update?)'}`);
  return parseAptStanza(r.stdout);
}

/** Pins moved to the archive's current candidates (the kernel follows linux-image-amd64). */
export function repinned(pins: DebPin[], show: (name: string) => Record<string, string>, log: (l: string) => void): DebPin[] {
  return pins.map((p) => {
    const name = /^linux-image-.*-amd64$/.test(p.name) ? kernelPackageOf(show('linux-image-amd64').Depends ?? '') : p.name;
    const c = show(name);
    if (!c.Version || !/^[0-9a-f]{64}$/.test(c.SHA256 ?? '')) throw new Error(`apt-cache show ${name}: no Version/SHA256`);
    if (c.Version !== p.version || name !== p.name) log(`repin ${p.name} ${p.version} → ${name} ${c.Version}`);
    return { ...p, name, version: c.Version, sha256: c.SHA256! };
  });
}

export function fetchMain(argv: string[], env: Env = process.env): void {
  const log = (line: string) => process.stderr.write(`inputs  ${line}\n`);
  const { values } = parseArgs({
    args: argv,
    options: { cache: { type: 'string', default: env.ENCUMBER_INPUT_CACHE || DEFAULT_CACHE }, repin: { type: 'boolean', default: false } },
  });
  const cache = resolve(values.cache!);
  if (values.repin) {
    const file = join(INPUTS_DIR, 'debian.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { packages: DebPin[] };
    doc.packages = repinned(doc.packages, candidate, log);
    writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  }
  const node = loadNodePin();
  verifyNodeRuntime();
  console.log(`ok  ${node.package} ${node.version}  sha256 ${node.sha256}  (node_modules/${node.package}/${node.binary})`);
  for (const pin of loadDebPins()) {
    const path = ensureDeb(pin, cache, log);
    console.log(`ok  ${pin.name} ${pin.version}  sha256 ${pin.sha256}  (${path})`);
  }
  // Source packages (kernel, firmware, test QEMU) and the test-only .debs: into the build cache.
  const buildCache = buildCacheDir();
  for (const pin of loadSourcePins()) {
    const dir = ensureSource(pin, buildCache, log);
    console.log(`ok  source ${pin.package} ${pin.version}  ${pin.files.length} files  (${dir})`);
  }
  for (const path of ensureTestDebs(log, buildCache)) console.log(`ok  test input ${path}`);
}
