/**
 * The image's file tree for enclave/Dockerfile (the nitro-cli path): the boot
 * and app ramdisks of a build (build/out) unpacked, one after the other as the
 * kernel unpacks them, into a directory that `docker build` takes as its
 * context. Modes and symlinks as in the ramdisks; every mtime set to the
 * build's SOURCE_DATE_EPOCH (from manifest.json); device nodes left out (the
 * init nitro-cli adds mounts devtmpfs). The directory is emptied first.
 *
 *   node --import tsx enclave/host/docker-rootfs.ts [--out-dir build/out] [--dest build/docker/rootfs]
 */
import { chmodSync, lutimesSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readCpio, type CpioRecord } from '../image/cpio.ts';
import { gunzip } from '../image/gzip.ts';

export const RAMDISKS = ['initramfs-boot.cpio.gz', 'initramfs-app.cpio.gz'] as const;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** Writes the records under `dest` (which must exist); returns how many entries were skipped (device nodes). */
export function unpackRecords(records: readonly CpioRecord[], dest: string, mtime: number): number {
  let skipped = 0;
  const dirs: Array<[string, number]> = [];
  for (const r of records) {
    if (r.path.split('/').some((s) => s === '..' || s === '')) throw new Error(`refusing entry ${JSON.stringify(r.path)}`);
    const to = join(dest, r.path);
    const type = r.mode & S_IFMT;
    if (type === S_IFDIR) {
      mkdirSync(to, { recursive: true });
      dirs.push([to, r.mode & 0o7777]);
    } else if (type === S_IFREG) {
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, r.data);
      chmodSync(to, r.mode & 0o7777);
      utimesSync(to, mtime, mtime);
    } else if (type === S_IFLNK) {
      mkdirSync(dirname(to), { recursive: true });
      rmSync(to, { force: true });
      symlinkSync(Buffer.from(r.data).toString('utf8'), to);
      lutimesSync(to, mtime, mtime);
    } else skipped++;
  }
  // Directories last: writing into them moved their mtimes, and a read-only mode would have stopped the writes.
  for (const [dir, mode] of dirs.reverse()) {
    chmodSync(dir, mode);
    utimesSync(dir, mtime, mtime);
  }
  return skipped;
}

/** Unpacks build `outDir`'s two ramdisks into `dest` (emptied first). */
export function unpackImage(outDir: string, dest: string): { entries: number; skipped: number; sourceDateEpoch: number } {
  const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as { sourceDateEpoch: number };
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  let entries = 0;
  let skipped = 0;
  for (const name of RAMDISKS) {
    const records = readCpio(gunzip(new Uint8Array(readFileSync(join(outDir, name)))));
    entries += records.length;
    skipped += unpackRecords(records, dest, manifest.sourceDateEpoch);
  }
  return { entries, skipped, sourceDateEpoch: manifest.sourceDateEpoch };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const { values } = parseArgs({
    options: { 'out-dir': { type: 'string', default: join(root, 'build', 'out') }, dest: { type: 'string', default: join(root, 'build', 'docker', 'rootfs') } },
  });
  const dest = resolve(values.dest!);
  const r = unpackImage(resolve(values['out-dir']!), dest);
  console.log(`${dest}: ${r.entries} entries (${r.skipped} device nodes left out), mtimes ${r.sourceDateEpoch}`);
}
