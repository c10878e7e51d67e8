/**
 * A deterministic "newc" (SVR4, no CRC) cpio writer, the format the Linux
 * kernel unpacks an initramfs from, and a reader for tests and diffs.
 *
 * Every field that could carry the build machine into the archive is fixed:
 *   - entries sorted by the bytes of their UTF-8 path, parents before children;
 *   - uid = gid = 0, mtime = the one given (SOURCE_DATE_EPOCH) for every entry;
 *   - inode numbers 1, 2, 3, … in that order, devices 0 (no hard links: nlink
 *     is 1 for files, 2 for directories, so the kernel never links two entries);
 *   - permission bits exactly as written in the entry (never the umask or the
 *     file's mode on disk); the type bits come from the entry's kind;
 *   - the "TRAILER!!!" record, then zero padding to a 512-byte block.
 */

export type CpioEntry =
  | { path: string; type: 'dir'; mode: number }
  | { path: string; type: 'file'; mode: number; data: Uint8Array }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'chardev'; mode: number; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const MAGIC = '070701';
const TRAILER = 'TRAILER!!!';
const MAX_U32 = 0xffffffff;

export class CpioError extends Error {
  readonly code: 'BadPath' | 'DuplicatePath' | 'MissingParent' | 'BadMode' | 'BadField' | 'Malformed';
  constructor(code: CpioError['code'], message: string) {
    super(message);
    this.code = code;
    this.name = 'CpioError';
  }
}

const utf8 = new TextEncoder();

/** Byte order of the UTF-8 path: the same on every machine and locale. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(utf8.encode(a), utf8.encode(b));
}

function checkPath(path: string): void {
  const ok =
    path.length > 0 &&
    !path.startsWith('/') &&
    !path.endsWith('/') &&
    !path.includes('\0') &&
    path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
  if (!ok) throw new CpioError('BadPath', `cpio path must be relative, without empty, "." or ".." parts: got ${JSON.stringify(path)}`);
}

function modeOf(e: CpioEntry): number {
  if (e.type === 'symlink') return S_IFLNK | 0o777;
  if (!Number.isInteger(e.mode) || e.mode < 0 || e.mode > 0o7777) {
    throw new CpioError('BadMode', `${e.path}: mode must be permission bits 0..0o7777, got ${String(e.mode)}`);
  }
  return (e.type === 'dir' ? S_IFDIR : e.type === 'file' ? S_IFREG : S_IFCHR) | e.mode;
}

function hex8(n: number, what: string): string {
  if (!Number.isInteger(n) || n < 0 || n > MAX_U32) throw new CpioError('BadField', `${what} must fit 32 bits, got ${n}`);
  return n.toString(16).padStart(8, '0');
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

function record(fields: { ino: number; mode: number; nlink: number; mtime: number; size: number; rmajor: number; rminor: number }, name: string): Buffer {
  const nameBytes = Buffer.concat([Buffer.from(name, 'utf8'), Buffer.alloc(1)]);
  const header =
    MAGIC +
    hex8(fields.ino, 'ino') +
    hex8(fields.mode, 'mode') +
    hex8(0, 'uid') +
    hex8(0, 'gid') +
    hex8(fields.nlink, 'nlink') +
    hex8(fields.mtime, 'mtime') +
    hex8(fields.size, 'filesize') +
    hex8(0, 'devmajor') +
    hex8(0, 'devminor') +
    hex8(fields.rmajor, 'rdevmajor') +
    hex8(fields.rminor, 'rdevminor') +
    hex8(nameBytes.length, 'namesize') +
    hex8(0, 'check');
  const head = Buffer.from(header, 'ascii');
  return Buffer.concat([head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length))]);
}

/** The archive bytes. Entries may come in any order; parents must be listed. */
export function writeCpio(entries: readonly CpioEntry[], opts: { mtime: number }): Uint8Array {
  hex8(opts.mtime, 'mtime');
  const sorted = [...entries].sort((a, b) => comparePaths(a.path, b.path));
  const kinds = new Map<string, CpioEntry['type']>();
  for (const e of sorted) {
    checkPath(e.path);
    if (kinds.has(e.path)) throw new CpioError('DuplicatePath', `cpio path listed twice: ${e.path}`);
    const parent = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : null;
    if (parent !== null && kinds.get(parent) !== 'dir') {
      throw new CpioError('MissingParent', `${e.path}: its parent directory ${parent} is not in the archive (list it explicitly)`);
    }
    kinds.set(e.path, e.type);
  }
  const parts: Uint8Array[] = [];
  let ino = 0;
  for (const e of sorted) {
    ino += 1;
    const data = e.type === 'file' ? e.data : e.type === 'symlink' ? Buffer.from(e.target, 'utf8') : new Uint8Array(0);
    if (e.type === 'symlink' && (e.target.length === 0 || e.target.includes('\0'))) throw new CpioError('BadPath', `${e.path}: bad symlink target`);
    parts.push(
      record(
        {
          ino,
          mode: modeOf(e),
          nlink: e.type === 'dir' ? 2 : 1,
          mtime: opts.mtime,
          size: data.length,
          rmajor: e.type === 'chardev' ? e.major : 0,
          rminor: e.type === 'chardev' ? e.minor : 0,
        },
        e.path,
      ),
    );
    if (data.length > 0) parts.push(data, Buffer.alloc(pad4(data.length)));
  }
  parts.push(record({ ino: 0, mode: 0, nlink: 1, mtime: 0, size: 0, rmajor: 0, rminor: 0 }, TRAILER));
  const length = parts.reduce((n, p) => n + p.length, 0);
  parts.push(Buffer.alloc((512 - (length % 512)) % 512));
  return Buffer.concat(parts);
}

export interface CpioRecord {
  path: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  rdevMajor: number;
  rdevMinor: number;
  data: Uint8Array;
}

/**
 * Every record but the trailers. Like the kernel, reads archives placed back
 * to back (NUL padding between them is skipped). Refuses anything but newc.
 */
export function readCpio(bytes: Uint8Array): CpioRecord[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: CpioRecord[] = [];
  let at = 0;
  let sawTrailer = false;
  for (;;) {
    if (sawTrailer) {
      while (at < buf.length && buf[at] === 0) at++;
      if (at === buf.length) return out;
      sawTrailer = false;
    }
    if (at + 110 > buf.length) throw new CpioError('Malformed', `cpio: truncated header at offset ${at}`);
    const magic = buf.toString('ascii', at, at + 6);
    if (magic !== MAGIC) throw new CpioError('Malformed', `cpio: expected magic ${MAGIC} at offset ${at}, got ${JSON.stringify(magic)}`);
    const field = (i: number) => parseInt(buf.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
    const [ino, mode, uid, gid, nlink, mtime, size, , , rdevMajor, rdevMinor, namesize] = Array.from({ length: 12 }, (_, i) => field(i)) as number[];
    const nameStart = at + 110;
    const path = buf.toString('utf8', nameStart, nameStart + namesize! - 1);
    const dataStart = nameStart + namesize! + pad4(110 + namesize!);
    if (path === TRAILER) {
      at = dataStart;
      sawTrailer = true;
      continue;
    }
    if (dataStart + size! > buf.length) throw new CpioError('Malformed', `cpio: ${path}: data runs past the end`);
    out.push({ path, ino: ino!, mode: mode!, uid: uid!, gid: gid!, nlink: nlink!, mtime: mtime!, rdevMajor: rdevMajor!, rdevMinor: rdevMinor!, data: buf.subarray(dataStart, dataStart + size!) });
    at = dataStart + size! + pad4(size!);
  }
}
