/**
 * Locate the shared fixtures in place (../shared beside the repo root) and
 * read them; nothing is copied into the repository.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SHARED_FIXTURES = join(REPO_ROOT, '..', 'shared', 'fixtures');

export function fixturePath(...parts: string[]): string {
  return join(SHARED_FIXTURES, ...parts);
}

export function readFixtureJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(fixturePath(...parts), 'utf8')) as T;
}

export function readFixtureBytes(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(...parts)));
}

export function listFixtures(...parts: string[]): string[] {
  return readdirSync(fixturePath(...parts)).sort();
}

const tempDirs: string[] = [];

/**
 * A fresh directory under the system temp directory, removed (with what is in it) when the test process
 * exits: `node --test` runs each file in its own process, so a file's directories go when the file ends.
 * ENCUMBER_KEEP_TEMP=1 keeps them for a post-mortem.
 */
export function tempDir(prefix = 'encumber-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (tempDirs.length === 0 && !process.env.ENCUMBER_KEEP_TEMP) {
    process.once('exit', () => {
      for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  tempDirs.push(dir);
  return dir;
}
