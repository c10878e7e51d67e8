/**
 * Upstream atproto interop fixtures, read in place from ../shared (see
 * fixtures/atproto/PROVENANCE.md). Text fixtures: one case per line; blank
 * lines and lines starting with '#' are skipped; lines are never trimmed,
 * because some cases differ from a valid one only by a space.
 */
import { readFileSync } from 'node:fs';

const ROOT = new URL('../../../shared/fixtures/atproto/', import.meta.url);

export function readFixtureJson<T>(relative: string): T {
  return JSON.parse(readFileSync(new URL(relative, ROOT), 'utf8')) as T;
}

export function readFixtureLines(relative: string): string[] {
  return readFileSync(new URL(relative, ROOT), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}
