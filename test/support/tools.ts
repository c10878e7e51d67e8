/**
 * Tests that need a tool of the machine (socat, a C compiler, dpkg-deb, QEMU,
 * Chromium, PostgreSQL, nix-instantiate) ask here whether it is present.
 * Elsewhere a missing tool skips the test, saying why; under CI it is a failure,
 * never a silent skip (.ci/run installs every one of them).
 */
import { spawnSync } from 'node:child_process';

/** CI is set and not "false"/"0" (GitHub, GitLab and .ci/run set CI=true). */
export function underCi(env: Record<string, string | undefined> = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

/** `cmd ...args` runs and exits 0 (e.g. `hasCommand('socat', '-V')`). */
export function hasCommand(cmd: string, ...args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/**
 * A test's `skip` option from why a prerequisite is missing (null/undefined/'' when present):
 * false when present; the reason when missing here; under CI a missing prerequisite throws.
 */
export function skipUnlessCi(reason: string | null | undefined, env: Record<string, string | undefined> = process.env): string | false {
  if (!reason) return false;
  if (underCi(env)) throw new Error(`under CI every test runs, but ${reason}`);
  return `${reason} — skipped here; under CI this fails instead`;
}
