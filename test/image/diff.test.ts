/**
 * The reproducibility failure report names what differs: the artifact, and
 * for a ramdisk the cpio entry and the field (here a mode and a content).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCpio, type CpioEntry } from '../../enclave/image/cpio.ts';
import { gzipDeterministic } from '../../enclave/image/gzip.ts';
import { explainDifferences } from '../../enclave/image/diff.ts';
import { tempDir } from '../support/fixtures.ts';

const text = (s: string) => new TextEncoder().encode(s);
const ramdisk = (initMode: number, nodeBytes: string, extra: CpioEntry[] = []) =>
  gzipDeterministic(
    writeCpio(
      [
        { path: 'init', type: 'file', mode: initMode, data: text('#!/bin/sh\n') },
        { path: 'usr', type: 'dir', mode: 0o755 },
        { path: 'usr/bin', type: 'dir', mode: 0o755 },
        { path: 'usr/bin/node', type: 'file', mode: 0o755, data: text(nodeBytes) },
        ...extra,
      ],
      { mtime: 1 },
    ),
  );

test('same files: empty report', () => {
  const [a, b] = [tempDir('encumber-diff-'), tempDir('encumber-diff-')];
  for (const d of [a, b]) writeFileSync(join(d, 'x.cpio.gz'), ramdisk(0o755, 'n'));
  assert.equal(explainDifferences(a, b, ['x.cpio.gz']), '');
});

test('a differing ramdisk: the entries and fields that differ, entries only on one side, a missing artifact', () => {
  const root = tempDir('encumber-diff-');
  const [a, b] = [join(root, 'a'), join(root, 'b')];
  mkdirSync(a);
  mkdirSync(b);
  writeFileSync(join(a, 'initramfs.cpio.gz'), ramdisk(0o755, 'node-a'));
  writeFileSync(join(b, 'initramfs.cpio.gz'), ramdisk(0o700, 'node-b', [{ path: 'tmp', type: 'dir', mode: 0o1777 }]));
  writeFileSync(join(a, 'bzImage'), 'k');
  const report = explainDifferences(a, b, ['initramfs.cpio.gz', 'bzImage']);
  assert.match(report, /^initramfs\.cpio\.gz: differs/m);
  assert.match(report, /^ {2}init\n {4}A: mode 100755 .*\n {4}B: mode 100700 /m);
  assert.match(report, /^ {2}usr\/bin\/node\n/m);
  assert.match(report, /only in B: tmp/);
  assert.match(report, /bzImage: missing in B/);
});
