/**
 * The enclave's guest kernel: Debian's linux-6.12 source (enclave/inputs/sources.json,
 * orig + Debian's patch series), `make tinyconfig` + enclave/kernel/encumber.config
 * + `make olddefconfig`, every option built in, `make bzImage` with the pinned
 * Debian toolchain (enclave/inputs/toolchain-kernel.json). Cached by the hash of
 * those inputs (enclave/image/build-cache.ts): a warm run reads the cache entry.
 *
 *   node --import tsx enclave/kernel/build.ts [--verify-reproducible]   (SOURCE_DATE_EPOCH, default 1)
 *
 * Reproducible: the one time in the kernel (KBUILD_BUILD_TIMESTAMP) comes from
 * SOURCE_DATE_EPOCH, user/host/version are fixed, LC_ALL=C and TZ=UTC, a clean
 * environment, no git above the tree, and the build directory mapped away
 * (-ffile-prefix-map). verifyReproducible builds a second time in another
 * directory and fails on any byte of difference; the confirmation is recorded
 * in the cache entry (reproducible.json), so it is done once per entry.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCacheDir, cachedBuild, checkToolchain, loadToolchain } from '../image/build-cache.ts';
import { loadSourcePins, sourcePin, unpackSource, type SourcePin } from '../image/sources.ts';
import { configProblems, describeProblems, requirementsOf } from './config-check.ts';

/** Bump when the recipe below changes in a way the inputs do not show. */
export const KERNEL_RECIPE = 'encumber-kernel-1';
export const KERNEL_SOURCE_PACKAGE = 'linux-6.12';
export const CONFIG_FRAGMENT = fileURLToPath(new URL('./encumber.config', import.meta.url));
/** Fixed identity of the build, as /proc/version shows it: "(encumber@encumber) … #1". */
export const KBUILD_IDENTITY = { KBUILD_BUILD_USER: 'encumber', KBUILD_BUILD_HOST: 'encumber', KBUILD_BUILD_VERSION: '1' } as const;
/** Files of a cache entry. */
export const KERNEL_OUTPUTS = ['bzImage', 'config', 'release'] as const;
const CONFIRMATION = 'reproducible.json';

export type KernelBuildErrorCode = 'KernelConfig' | 'KernelBuildFailed' | 'NotReproducible';

export class KernelBuildError extends Error {
  readonly code: KernelBuildErrorCode;
  readonly expected?: string;
  readonly actual?: string;
  constructor(code: KernelBuildErrorCode, message: string, expected?: string, actual?: string) {
    super(message);
    this.code = code;
    if (expected !== undefined) this.expected = expected;
    if (actual !== undefined) this.actual = actual;
    this.name = 'KernelBuildError';
  }
}

export interface KernelInputs {
  recipe: string;
  source: { package: string; version: string; suite: string; files: Record<string, string> };
  configFragmentSha256: string;
  toolchain: Record<string, string>;
  sourceDateEpoch: number;
  make: { targets: string[]; variables: Record<string, string> };
}

export interface KernelResult {
  bzImage: Uint8Array;
  release: string;
  /** The final .config text. */
  config: string;
  inputsHash: string;
  inputs: KernelInputs;
  /** Whether this call built it (false: taken from the cache). */
  built: boolean;
  /** Whether a second build in another directory gave the same bytes (recorded in the cache entry). */
  reproducible: boolean;
  /** The cache entry. */
  dir: string;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** SOURCE_DATE_EPOCH as `date -u -d @N` prints it (Kbuild's default format): "Thu Jan  1 00:00:01 UTC 1970". */
export function kbuildTimestamp(epoch: number): string {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new Error(`SOURCE_DATE_EPOCH must be whole non-negative seconds, got ${epoch}`);
  const d = new Date(epoch * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** Make variables every kernel make call gets (those that do not depend on the build directory). */
function makeVariables(): Record<string, string> {
  return { CC: 'gcc-12', HOSTCC: 'gcc-12', LOCALVERSION: '' };
}

/** The environment of every step: nothing from the caller's environment but what is named here. */
function buildEnv(src: string, sourceDateEpoch: number): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin:/usr/sbin:/sbin',
    HOME: dirname(src),
    TMPDIR: dirname(src),
    LC_ALL: 'C',
    TZ: 'UTC',
    SOURCE_DATE_EPOCH: String(sourceDateEpoch),
    KBUILD_BUILD_TIMESTAMP: kbuildTimestamp(sourceDateEpoch),
    ...KBUILD_IDENTITY,
    // scripts/setlocalversion must not find a git repository above the tree.
    GIT_CEILING_DIRECTORIES: dirname(src),
  };
}

export function kernelInputs(pin: SourcePin, fragment: string, toolchain: Record<string, string>, sourceDateEpoch: number): KernelInputs {
  return {
    recipe: KERNEL_RECIPE,
    source: { package: pin.package, version: pin.version, suite: pin.suite, files: Object.fromEntries(pin.files.map((f) => [f.name, f.sha256])) },
    configFragmentSha256: createHash('sha256').update(fragment).digest('hex'),
    toolchain,
    sourceDateEpoch,
    make: { targets: ['tinyconfig', 'olddefconfig', 'bzImage'], variables: makeVariables() },
  };
}

const seconds = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

/** One from-scratch build: unpack into `workDir`/`treeName`, configure, check the config, build; outputs into outDir. */
function buildOnce(opts: { pin: SourcePin; fragment: string; sourceDateEpoch: number; cacheDir: string; workDir: string; treeName: string; outDir: string; log: (l: string) => void }): void {
  const { log } = opts;
  mkdirSync(opts.workDir, { recursive: true });
  const src = join(opts.workDir, opts.treeName);
  const env = buildEnv(src, opts.sourceDateEpoch);
  const logFile = join(opts.workDir, 'build.log');
  const prefixMap = `-ffile-prefix-map=${src}/=`;
  const vars = { ...makeVariables(), KCFLAGS: prefixMap, KAFLAGS: prefixMap };
  const run = (what: string, cmd: string, args: string[]) => {
    const fd = openSync(logFile, 'a');
    try {
      const r = spawnSync(cmd, args, { cwd: src, env, stdio: ['ignore', fd, fd] });
      if (r.status !== 0) {
        const tail = readFileSync(logFile, 'utf8').slice(-4000);
        throw new KernelBuildError('KernelBuildFailed', `kernel: ${what} failed (${r.status ?? r.signal ?? r.error?.message}); log ${logFile}:\n${tail}`);
      }
    } finally {
      closeSync(fd);
    }
  };
  const make = (...targets: string[]) =>
    run(`make ${targets.join(' ')}`, 'make', [`-j${availableParallelism()}`, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), ...targets]);

  let t0 = performance.now();
  log(`kernel: unpack ${opts.pin.package} ${opts.pin.version} into ${src}`);
  unpackSource(opts.pin, opts.cacheDir, src, log);
  log(`kernel: unpack done in ${seconds(t0)}`);

  t0 = performance.now();
  log('kernel: config (tinyconfig + encumber.config + olddefconfig)');
  writeFileSync(join(opts.workDir, 'encumber.config'), opts.fragment);
  make('tinyconfig');
  run('merge_config.sh', 'sh', ['scripts/kconfig/merge_config.sh', '-m', '.config', join(opts.workDir, 'encumber.config')]);
  make('olddefconfig');
  const config = readFileSync(join(src, '.config'), 'utf8');
  const problems = configProblems(requirementsOf(opts.fragment), config);
  if (problems.length > 0) {
    throw new KernelBuildError('KernelConfig', `kernel: the final .config does not have what enclave/kernel/encumber.config asks for (a dependency is missing): ${describeProblems(problems)}`);
  }
  log(`kernel: config done in ${seconds(t0)}`);

  t0 = performance.now();
  log(`kernel: build (make bzImage, ${availableParallelism()} jobs; log ${logFile})`);
  make('bzImage');
  log(`kernel: build done in ${seconds(t0)}`);

  copyFileSync(join(src, 'arch', 'x86', 'boot', 'bzImage'), join(opts.outDir, 'bzImage'));
  writeFileSync(join(opts.outDir, 'config'), config);
  writeFileSync(join(opts.outDir, 'release'), readFileSync(join(src, 'include', 'config', 'kernel.release'), 'utf8').trim() + '\n');
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

export async function ensureKernel(opts: { cacheDir?: string; sourceDateEpoch: number; log?: (l: string) => void; verifyReproducible?: boolean }): Promise<KernelResult> {
  const cacheDir = opts.cacheDir ?? buildCacheDir();
  const log = opts.log ?? (() => {});
  const pin = sourcePin(loadSourcePins(), KERNEL_SOURCE_PACKAGE);
  const fragment = readFileSync(CONFIG_FRAGMENT, 'utf8');
  const pins = loadToolchain('kernel');
  const inputs = kernelInputs(pin, fragment, pins, opts.sourceDateEpoch);
  const build = { pin, fragment, sourceDateEpoch: opts.sourceDateEpoch, cacheDir, log };

  const entry = await cachedBuild({
    name: 'kernel',
    inputs,
    outputs: KERNEL_OUTPUTS,
    cacheDir,
    log,
    build: (workDir, outDir) => {
      checkToolchain(pins);
      buildOnce({ ...build, workDir, treeName: 'linux', outDir });
    },
  });
  const bzImage = readFileSync(join(entry.dir, 'bzImage'));
  const config = readFileSync(join(entry.dir, 'config'), 'utf8');
  const release = readFileSync(join(entry.dir, 'release'), 'utf8').trim();

  // The final .config of a cached entry is checked too: the entry may come from another checkout's fragment.
  const problems = configProblems(requirementsOf(fragment), config);
  if (problems.length > 0) throw new KernelBuildError('KernelConfig', `kernel: ${entry.dir}/config: ${describeProblems(problems)}`);

  let reproducible = existsSync(join(entry.dir, CONFIRMATION));
  if (opts.verifyReproducible && !reproducible) {
    checkToolchain(pins);
    const t0 = performance.now();
    log('kernel: verifying reproducibility: a second build from scratch in another directory');
    mkdirSync(join(cacheDir, 'builds'), { recursive: true });
    const work = mkdtempSync(join(cacheDir, 'builds', '.verify-kernel-'));
    try {
      const out = join(work, 'out');
      mkdirSync(out);
      buildOnce({ ...build, workDir: join(work, 'second-build'), treeName: 'linux-tree', outDir: out });
      const second = readFileSync(join(out, 'bzImage'));
      const secondConfig = readFileSync(join(out, 'config'), 'utf8');
      if (!Buffer.from(bzImage).equals(second) || config !== secondConfig) {
        const kept = join(cacheDir, 'builds', `kernel-not-reproducible-${entry.hash.slice(0, 16)}`);
        rmSync(kept, { recursive: true, force: true });
        mkdirSync(kept, { recursive: true });
        copyFileSync(join(out, 'bzImage'), join(kept, 'bzImage'));
        writeFileSync(join(kept, 'config'), secondConfig);
        throw new KernelBuildError(
          'NotReproducible',
          `kernel: NOT REPRODUCIBLE: two builds from scratch in different directories differ (bzImage ${sha256(bzImage)} vs ${sha256(second)}, .config ${config === secondConfig ? 'same' : 'different'}); the second build's outputs are in ${kept}, the first in ${entry.dir}`,
          sha256(bzImage),
          sha256(second),
        );
      }
      writeFileSync(join(entry.dir, CONFIRMATION), JSON.stringify({ bzImageSha256: sha256(bzImage), configSha256: sha256(config), check: 'a second build from scratch in another directory gave the same bytes' }, null, 2) + '\n');
      reproducible = true;
      log(`kernel: reproducible (second build identical, ${seconds(t0)})`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return { bzImage, release, config, inputsHash: entry.hash, inputs, built: entry.built, reproducible, dir: entry.dir };
}

async function main(argv: string[]): Promise<void> {
  const unknown = argv.filter((a) => a !== '--verify-reproducible');
  if (unknown.length > 0) throw new Error(`usage: node --import tsx enclave/kernel/build.ts [--verify-reproducible] (unknown: ${unknown.join(' ')})`);
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw !== undefined && raw !== '' && !/^\d+$/.test(raw)) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds, got ${JSON.stringify(raw)}`);
  const t0 = performance.now();
  const k = await ensureKernel({
    sourceDateEpoch: raw ? Number(raw) : 1,
    verifyReproducible: argv.includes('--verify-reproducible'),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(
    [
      `kernel ${k.release}  ${k.built ? 'built' : 'cached'}  ${k.dir}`,
      `  bzImage  ${k.bzImage.length} B  sha256 ${sha256(k.bzImage)}`,
      `  inputs   ${k.inputsHash}`,
      `  reproducible: ${k.reproducible ? 'confirmed by a second build in another directory' : 'not checked (--verify-reproducible)'}`,
      `  time     ${seconds(t0)}`,
    ].join('\n') + '\n',
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main(process.argv.slice(2));
}
