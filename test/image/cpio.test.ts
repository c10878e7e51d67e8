/**
 * The newc writer and the gzip wrapper: the bytes of the format (against a
 * hand-laid record), every pinned field, order independence, refusals; the
 * gzip header pinned byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { CpioError, readCpio, writeCpio, type CpioEntry } from '../../enclave/image/cpio.ts';
import { GZIP_HEADER, gzipDeterministic } from '../../enclave/image/gzip.ts';
import { withParents } from '../../enclave/image/rootfs.ts';

const text = (s: string) => new TextEncoder().encode(s);
const sample: CpioEntry[] = [
  { path: 'init', type: 'file', mode: 0o755, data: text('#!/bin/sh\n') },
  { path: 'bin', type: 'dir', mode: 0o755 },
  { path: 'bin/sh', type: 'symlink', target: 'busybox' },
  { path: 'dev', type: 'dir', mode: 0o755 },
  { path: 'dev/console', type: 'chardev', mode: 0o600, major: 5, minor: 1 },
  { path: 'bin/busybox', type: 'file', mode: 0o755, data: text('elf') },
  { path: 'tmp', type: 'dir', mode: 0o1777 },
];

test('one record laid out by hand: header fields, name padding, data padding', () => {
  const bytes = writeCpio([{ path: 'a', type: 'file', mode: 0o644, data: text('xyz') }], { mtime: 0x5f5e100 });
  const header =
    '070701' + // magic
    '00000001' + // ino
    '000081a4' + // mode: S_IFREG | 0644
    '00000000' + '00000000' + // uid gid
    '00000001' + // nlink
    '05f5e100' + // mtime
    '00000003' + // filesize
    '00000000' + '00000000' + '00000000' + '00000000' + // dev, rdev
    '00000002' + // namesize "a\0"
    '00000000'; // check
  const expected = Buffer.concat([
    Buffer.from(header, 'ascii'),
    Buffer.from('a\0', 'ascii'),
    Buffer.alloc(0), // 110 + 2 = 112: aligned
    Buffer.from('xyz'),
    Buffer.alloc(1), // to 4
  ]);
  assert.deepEqual(Buffer.from(bytes.subarray(0, expected.length)), expected);
  const trailer = Buffer.from(bytes.subarray(expected.length, expected.length + 110 + 11)).toString('ascii');
  // ino mode uid gid 0, nlink 1, mtime size devs 0, namesize 11, check 0.
  assert.equal(trailer, '070701' + '00000000'.repeat(4) + '00000001' + '00000000'.repeat(6) + '0000000b' + '00000000' + 'TRAILER!!!\0');
  assert.equal(bytes.length % 512, 0, 'padded to a 512-byte block');
});

test('sorted by path bytes, inodes 1..n in that order, uid/gid 0, one mtime, explicit modes', () => {
  const records = readCpio(writeCpio(sample, { mtime: 1700000000 }));
  assert.deepEqual(records.map((r) => r.path), ['bin', 'bin/busybox', 'bin/sh', 'dev', 'dev/console', 'init', 'tmp']);
  assert.deepEqual(records.map((r) => r.ino), [1, 2, 3, 4, 5, 6, 7]);
  assert.ok(records.every((r) => r.uid === 0 && r.gid === 0 && r.mtime === 1700000000));
  const mode = Object.fromEntries(records.map((r) => [r.path, r.mode.toString(8)]));
  assert.deepEqual(mode, { bin: '40755', 'bin/busybox': '100755', 'bin/sh': '120777', dev: '40755', 'dev/console': '20600', init: '100755', tmp: '41777' });
  const con = records.find((r) => r.path === 'dev/console')!;
  assert.deepEqual([con.rdevMajor, con.rdevMinor], [5, 1]);
  assert.equal(Buffer.from(records.find((r) => r.path === 'bin/sh')!.data).toString(), 'busybox');
  assert.deepEqual(records.map((r) => r.nlink), [2, 1, 1, 2, 1, 1, 2]);
});

test('the input order does not matter', () => {
  const a = writeCpio(sample, { mtime: 7 });
  const b = writeCpio([...sample].reverse(), { mtime: 7 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, writeCpio(sample, { mtime: 8 }), 'mtime is the only time in it');
});

test('byte order, not locale order: "a-b" sorts between "a" and "a/b"', () => {
  const records = readCpio(writeCpio(withParents([{ path: 'a/b', type: 'file', mode: 0o644, data: text('') }, { path: 'a-b', type: 'dir', mode: 0o755 }, { path: 'B', type: 'dir', mode: 0o755 }]), { mtime: 0 }));
  assert.deepEqual(records.map((r) => r.path), ['B', 'a', 'a-b', 'a/b']);
});

test('refusals: bad paths, duplicates, missing parents, modes out of range', () => {
  const code = (entries: CpioEntry[], expected: CpioError['code']) =>
    assert.throws(() => writeCpio(entries, { mtime: 0 }), (e: unknown) => e instanceof CpioError && e.code === expected);
  for (const path of ['/abs', 'a/../b', './a', 'a//b', 'a/', '']) code([{ path, type: 'dir', mode: 0o755 }], 'BadPath');
  code([{ path: 'x', type: 'dir', mode: 0o755 }, { path: 'x', type: 'dir', mode: 0o700 }], 'DuplicatePath');
  code([{ path: 'x/y', type: 'file', mode: 0o644, data: text('') }], 'MissingParent');
  code([{ path: 'x', type: 'file', mode: 0o644, data: text('') }, { path: 'x/y', type: 'file', mode: 0o644, data: text('') }], 'MissingParent');
  code([{ path: 'x', type: 'file', mode: 0o10000, data: text('') }], 'BadMode');
  code([{ path: 'x', type: 'file', mode: -1, data: text('') }], 'BadMode');
  assert.throws(() => writeCpio([], { mtime: 2 ** 32 }), CpioError);
});

test('archives back to back read as one tree, as the kernel reads them', () => {
  const a = writeCpio([{ path: 'a', type: 'dir', mode: 0o755 }], { mtime: 0 });
  const b = writeCpio([{ path: 'b', type: 'file', mode: 0o600, data: text('1') }], { mtime: 0 });
  assert.deepEqual(readCpio(Buffer.concat([a, b])).map((r) => r.path), ['a', 'b']);
  assert.throws(() => readCpio(a.subarray(0, 50)), CpioError);
});

test('gzip: fixed 10-byte header (no name, MTIME 0, XFL 2, OS 3), round trip, same bytes each time', () => {
  const data = writeCpio(sample, { mtime: 1 });
  const gz = gzipDeterministic(data);
  assert.deepEqual(Buffer.from(gz.subarray(0, 10)), Buffer.from(GZIP_HEADER));
  assert.equal(gz[3], 0, 'FLG: no FNAME/FCOMMENT/FEXTRA/FHCRC');
  assert.deepEqual(new Uint8Array(gunzipSync(gz)), new Uint8Array(data));
  assert.deepEqual(gzipDeterministic(data), gz);
  // Two members back to back decompress to both archives (initramfs.cpio.gz = boot ‖ app).
  const two = Buffer.concat([gz, gzipDeterministic(writeCpio([{ path: 'z', type: 'dir', mode: 0o755 }], { mtime: 1 }))]);
  assert.deepEqual(readCpio(gunzipSync(two)).map((r) => r.path).at(-1), 'z');
});
