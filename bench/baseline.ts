/**
 * The baseline enclave bundle: the service as it was at commit 9d22ce4 (before
 * secp256k1 moved to libsecp256k1), built reproducibly from that commit so the
 * signRecord benchmarks can run it side by side with today's bundle.
 *
 *   node --import tsx bench/baseline.ts      # prints the bundle's path, building it if needed
 *
 * The sources are taken with `git archive` (no checkout, no change to the
 * working tree or the repository's worktree list) into the build cache,
 * ~/.cache/encumber/builds/baseline-<commit>/, with node_modules linked to this
 * checkout's (the dependencies the baseline bundles did not change since), and
 * that commit's own enclave/build-bundle.ts writes dist/encumber-enclave.mjs
 * there. Cached by commit; never committed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageNodeEnv, imageNodeFlags } from '../enclave/image/node-flags.ts';

export const BASELINE_COMMIT = '9d22ce4';
const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Path of the baseline bundle, built on first use. */
export function baselineBundle(commit = BASELINE_COMMIT): string {
  const full = execFileSync('git', ['rev-parse', '--verify', `${commit}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();
  const cacheRoot = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const dir = join(cacheRoot, 'encumber', 'builds', `baseline-${full.slice(0, 7)}`);
  const bundle = join(dir, 'dist', 'encumber-enclave.mjs');
  if (existsSync(bundle)) return bundle;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const tar = execFileSync('git', ['archive', '--format=tar', full], { cwd: ROOT, maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', tmp], { input: tar });
  symlinkSync(join(ROOT, 'node_modules'), join(tmp, 'node_modules'), 'dir');
  execFileSync(process.execPath, ['--import', 'tsx', 'enclave/build-bundle.ts'], { cwd: tmp, stdio: ['ignore', 'inherit', 'inherit'] });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return bundle;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) console.log(baselineBundle());

/** The Node flags the baseline's own image ran its bundle with (its enclave/image/rootfs/init), so each bundle runs as it shipped. */
export function baselineNodeFlags(commit = BASELINE_COMMIT): string[] {
  return imageNodeFlags(baselineInit(commit));
}

/** The allocator environment the baseline's init exported (none at 9d22ce4). */
export function baselineNodeEnv(commit = BASELINE_COMMIT): Record<string, string> {
  return imageNodeEnv(baselineInit(commit));
}

const baselineInit = (commit: string) => execFileSync('git', ['show', `${commit}:enclave/image/rootfs/init`], { cwd: ROOT, encoding: 'utf8' });
