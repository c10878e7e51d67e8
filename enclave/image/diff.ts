/**
 * Why two builds differ, in words a person can act on: which artifacts, and
 * for the ramdisks which cpio entries (added, removed, or changed in mode,
 * mtime, owner, inode or content). diffoscope, when installed, adds its
 * byte-level view of the first differing artifact.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCpio, type CpioRecord } from './cpio.ts';
import { gunzip } from './gzip.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function describe(r: CpioRecord): string {
  return `mode ${r.mode.toString(8)} uid ${r.uid} gid ${r.gid} mtime ${r.mtime} ino ${r.ino} nlink ${r.nlink} size ${r.data.length} sha256 ${sha(r.data).slice(0, 16)}`;
}

/** Entry-by-entry differences of two (gzipped) cpio archives. */
export function diffRamdisks(a: Uint8Array, b: Uint8Array): string[] {
  let ra: CpioRecord[];
  let rb: CpioRecord[];
  try {
    ra = readCpio(gunzip(a));
    rb = readCpio(gunzip(b));
  } catch (e) {
    return [`cannot read as gzip+cpio: ${(e as Error).message}`];
  }
  const lines: string[] = [];
  if (ra.map((r) => r.path).join('\n') !== rb.map((r) => r.path).join('\n')) lines.push('entry order or set differs');
  const mb = new Map(rb.map((r) => [r.path, r]));
  const ma = new Map(ra.map((r) => [r.path, r]));
  for (const r of ra) {
    const o = mb.get(r.path);
    if (!o) lines.push(`only in A: ${r.path}`);
    else if (describe(r) !== describe(o)) lines.push(`${r.path}\n    A: ${describe(r)}\n    B: ${describe(o)}`);
  }
  for (const r of rb) if (!ma.has(r.path)) lines.push(`only in B: ${r.path}`);
  if (lines.length === 0) lines.push('same cpio entries: the difference is in the compression (gzip header or deflate stream)');
  return lines;
}

/** A report on the artifacts that differ between two output directories ('' when none do). */
export function explainDifferences(dirA: string, dirB: string, names: readonly string[]): string {
  const out: string[] = [];
  let first: string | null = null;
  for (const name of names) {
    const pa = join(dirA, name);
    const pb = join(dirB, name);
    if (!existsSync(pa) || !existsSync(pb)) {
      out.push(`${name}: missing in ${existsSync(pa) ? 'B' : 'A'}`);
      continue;
    }
    const a = readFileSync(pa);
    const b = readFileSync(pb);
    if (a.equals(b)) continue;
    first ??= name;
    out.push(`${name}: differs (A ${a.length} B, sha256 ${sha(a).slice(0, 16)}; B ${b.length} B, sha256 ${sha(b).slice(0, 16)})`);
    if (name.endsWith('.cpio.gz')) out.push(...diffRamdisks(a, b).map((l) => `  ${l}`));
  }
  if (first && spawnSync('diffoscope', ['--version'], { stdio: 'ignore' }).status === 0) {
    const r = spawnSync('diffoscope', ['--text', '-', '--max-report-size', '200000', join(dirA, first), join(dirB, first)], { encoding: 'utf8', timeout: 300_000 });
    out.push(`diffoscope ${first}:`, (r.stdout ?? '').slice(0, 20_000));
  }
  return out.join('\n');
}
