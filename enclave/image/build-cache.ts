/**
 * Slow builds (the kernel, OVMF, the test QEMU) are cached by the hash of
 * their inputs, in a directory outside the checkout:
 *
 *   $ENCUMBER_BUILD_CACHE, else ~/.cache/encumber
 *     apt/<hash>/                 private apt states (apt.ts)
 *     sources/<pkg>_<version>/    verified source package files (sources.ts)
 *     builds/<name>-<hash>/       finished builds: their outputs and inputs.json
 *
 * A build runs in a fresh work directory and is moved into place only when it
 * finished, so an interrupted build never leaves a half-filled entry. While a
 * process builds an entry it holds builds/<name>-<hash>.lock (its pid inside);
 * another process wanting the same entry waits for it instead of building it
 * a second time (a lock whose process is gone is taken over). The
 * hash covers everything that can change the output: pinned sources, our
 * config files and patches, the toolchain's Debian package versions, and the
 * build recipe's own version string.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { INPUTS_DIR, InputError } from './inputs.ts';

export function buildCacheDir(): string {
  const dir = process.env.ENCUMBER_BUILD_CACHE || join(homedir(), '.cache', 'encumber');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** SHA-256 over a canonical JSON of the inputs description. */
export function inputsHash(inputs: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canon(inputs))).digest('hex');
}

export interface CachedBuild {
  /** Directory holding the outputs. */
  dir: string;
  hash: string;
  /** Whether this call built it (false: taken from the cache). */
  built: boolean;
}

/**
 * Returns the cache entry for (name, inputs), running build(workDir, outDir)
 * first when it is missing. build must write every name in outputs into outDir.
 */
export async function cachedBuild(opts: {
  name: string;
  inputs: unknown;
  outputs: readonly string[];
  build: (workDir: string, outDir: string) => Promise<void> | void;
  cacheDir?: string;
  log?: (l: string) => void;
  /** Keep the work directory (for debugging a failed build). */
  keepWork?: boolean;
}): Promise<CachedBuild> {
  const cacheDir = opts.cacheDir ?? buildCacheDir();
  const log = opts.log ?? (() => {});
  const hash = inputsHash(opts.inputs);
  const dir = join(cacheDir, 'builds', `${opts.name}-${hash.slice(0, 16)}`);
  const complete = () => existsSync(join(dir, 'inputs.json')) && opts.outputs.every((o) => existsSync(join(dir, o)));
  if (complete()) {
    log(`${opts.name}: cached (${dir})`);
    return { dir, hash, built: false };
  }
  mkdirSync(join(cacheDir, 'builds'), { recursive: true });
  const lock = `${dir}.lock`;
  for (let waited = false; ; ) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), `${process.pid}\n`);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (!lockHolderAlive(lock)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!waited) log(`${opts.name}: another process is building it (${lock}); waiting`);
    waited = true;
    await sleep(2000);
    if (complete()) {
      log(`${opts.name}: built by another process (${dir})`);
      return { dir, hash, built: false };
    }
  }
  try {
    if (complete()) return { dir, hash, built: false };
    return await buildEntry(opts, cacheDir, dir, hash, log);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Whether the process named in a lock directory still runs (a lock without a pid yet counts as held). */
function lockHolderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8').trim());
  } catch {
    return true;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function buildEntry(
  opts: { name: string; inputs: unknown; outputs: readonly string[]; build: (workDir: string, outDir: string) => Promise<void> | void; keepWork?: boolean },
  cacheDir: string,
  dir: string,
  hash: string,
  log: (l: string) => void,
): Promise<CachedBuild> {
  const work = mkdtempSync(join(cacheDir, 'builds', `.work-${opts.name}-`));
  const out = join(work, 'out');
  mkdirSync(out);
  try {
    log(`${opts.name}: building (inputs ${hash.slice(0, 16)})`);
    await opts.build(join(work, 'src'), out);
    for (const o of opts.outputs) if (!existsSync(join(out, o))) throw new Error(`${opts.name}: the build did not write ${o}`);
    writeFileSync(join(out, 'inputs.json'), JSON.stringify({ hash, inputs: opts.inputs }, null, 2) + '\n');
    rmSync(dir, { recursive: true, force: true });
    renameSync(out, dir);
    return { dir, hash, built: true };
  } finally {
    if (!opts.keepWork) rmSync(work, { recursive: true, force: true });
  }
}

/** Debian toolchain packages a build runs with, pinned by version in enclave/inputs/toolchain-NAME.json ("packages"). */
export function loadToolchain(name: string, dir = INPUTS_DIR): Record<string, string> {
  const file = join(dir, `toolchain-${name}.json`);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { packages?: unknown };
  const t = doc.packages;
  if (!t || typeof t !== 'object' || Array.isArray(t) || !Object.values(t).every((v) => typeof v === 'string')) {
    throw new InputError('BadManifest', `${file}: "packages" must map Debian package names to versions`);
  }
  return t as Record<string, string>;
}

/**
 * Checks that each pinned Debian package is installed at exactly its pinned
 * version (dpkg-query); throws InputMismatch naming the `apt-get install`
 * line that fixes it. Returns the versions (for the inputs hash).
 */
export function checkToolchain(pins: Record<string, string>): Record<string, string> {
  const names = Object.keys(pins).sort();
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Package}\t${Version}\t${db:Status-Status}\n', ...names], { encoding: 'utf8' });
  const have = new Map<string, string>();
  for (const line of (r.stdout ?? '').split('\n')) {
    const [p, v, s] = line.split('\t');
    if (p && v && s === 'installed') have.set(p.replace(/:amd64$/, ''), v);
  }
  const wrong = names.filter((n) => have.get(n) !== pins[n]);
  if (wrong.length > 0) {
    throw new InputError(
      'InputMismatch',
      `the build toolchain is not the pinned one (enclave/inputs/toolchain-*.json): ${wrong.map((n) => `${n} ${have.get(n) ?? 'absent'} (pinned ${pins[n]})`).join(', ')}; install it with: apt-get install -y --no-install-recommends ${wrong.map((n) => `${n}=${pins[n]}`).join(' ')}`,
    );
  }
  return Object.fromEntries(names.map((n) => [n, pins[n]!]));
}
