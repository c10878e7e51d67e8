/**
 * Shared by the image tests: whether an image build can run here, a copy of
 * the checkout in another directory, and `enclave/image/build.ts` run as a
 * child process with the environment and umask a test asks for.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../support/fixtures.ts';
import { hasCommand } from '../support/tools.ts';

export const INPUT_CACHE = process.env.ENCUMBER_INPUT_CACHE || join(REPO_ROOT, 'enclave', 'inputs', 'cache');


/** Why an image build cannot run here, or null when it can. */
export function buildPrerequisiteMissing(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the image is built on linux-x64 (the pinned Node runtime); this is ${process.platform}-${process.arch}`;
  if (!hasCommand('dpkg-deb', '--version')) return 'dpkg-deb is not installed (it reads the pinned Debian packages)';
  if (!hasCommand('apt-get', '--version')) return 'apt-get is not installed (it fetches the pinned Debian packages)';
  return null;
}

/** Under CI a missing prerequisite is a failure, never a skip (one helper for every test). */
export { skipUnlessCi } from '../support/tools.ts';

export interface BuildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `node --import tsx enclave/image/build.ts ARGS` in `root`, under `umask`, with `env` added. */
export function runImageBuild(root: string, args: string[], opts: { env?: Record<string, string>; umask?: string } = {}): Promise<BuildRun> {
  const started = performance.now();
  const node = process.execPath;
  const cmd = `umask ${opts.umask ?? '022'} && exec "$0" --import tsx enclave/image/build.ts "$@"`;
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', cmd, node, ...args], {
      cwd: root,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started) }));
  });
}

/**
 * The checkout's files (git's view: tracked and untracked-not-ignored) copied
 * to `dest`, each with its permission bits masked by `umask`; node_modules
 * hard-linked (or copied across file systems).
 */
export function copyCheckout(dest: string, umask: number): void {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const rel of listed.stdout.split('\0').filter(Boolean)) {
    const src = join(REPO_ROOT, rel);
    if (!existsSync(src) && !isSymlink(src)) continue; // deleted in the work tree
    const to = join(dest, rel);
    mkdirSync(dirname(to), { recursive: true });
    if (isSymlink(src)) symlinkSync(readlinkSync(src), to);
    else {
      copyFileSync(src, to);
      chmodSync(to, lstatSync(src).mode & 0o777 & ~umask);
    }
  }
  const modules = join(REPO_ROOT, 'node_modules');
  if (!existsSync(modules) || readdirSync(modules).length === 0) throw new Error('node_modules is missing: run npm ci');
  const linked = spawnSync('cp', ['-al', modules, join(dest, 'node_modules')], { stdio: 'ignore' });
  if (linked.status !== 0) {
    rmSync(join(dest, 'node_modules'), { recursive: true, force: true });
    const copied = spawnSync('cp', ['-a', modules, join(dest, 'node_modules')], { encoding: 'utf8' });
    if (copied.status !== 0) throw new Error(`cannot copy node_modules: ${copied.stderr}`);
  }
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
