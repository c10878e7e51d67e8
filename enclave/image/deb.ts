/**
 * Files out of a Debian package without unpacking it to disk: `dpkg-deb
 * --fsys-tarfile` decompresses the data member (xz, zstd, gz — whatever the
 * package uses) and we read the tar stream here, keeping only the paths asked
 * for. Only contents and link targets are taken; owners, times and modes on
 * the build machine never reach the image (the image sets its own modes).
 */
import { spawn } from 'node:child_process';

export interface DebMember {
  /** Path inside the package, without the leading "./". */
  path: string;
  type: 'file' | 'symlink' | 'dir' | 'other';
  /** Mode bits as packaged (informational; the image writes its own). */
  mode: number;
  data: Uint8Array;
  target: string;
}

export class DebReadError extends Error {
  readonly code = 'DebRead';
  constructor(message: string) {
    super(message);
    this.name = 'DebReadError';
  }
}

const BLOCK = 512;

function cString(b: Buffer, start: number, len: number): string {
  const slice = b.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return slice.toString('utf8', 0, nul === -1 ? slice.length : nul);
}

function octal(b: Buffer, start: number, len: number): number {
  const s = cString(b, start, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function normalize(path: string): string {
  return path.replace(/^\.\//, '').replace(/\/$/, '');
}

/** pax extended header records: "<len> key=value\n". */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const len = parseInt(data.toString('ascii', at, space), 10);
    if (!Number.isInteger(len) || len <= 0) break;
    const rec = data.toString('utf8', space + 1, at + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    at += len;
  }
  return out;
}

/** A streaming tar reader: headers parsed as they come, unwanted data skipped without buffering. */
class TarStream {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private remaining = 0; // data bytes of the current member still to come
  private padding = 0;
  private keep: Buffer[] | null = null;
  private current: { path: string; typeflag: string; mode: number; linkname: string; size: number } | null = null;
  private longName: string | null = null;
  private longLink: string | null = null;
  private pax = new Map<string, string>();
  ended = false;
  readonly found = new Map<string, DebMember>();

  private readonly want: (path: string) => boolean;

  constructor(want: (path: string) => boolean) {
    this.want = want;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.ended) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - at);
        if (this.keep) this.keep.push(chunk.subarray(at, at + n));
        this.remaining -= n;
        at += n;
        if (this.remaining === 0) this.finishMember();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - at);
        this.padding -= n;
        at += n;
        continue;
      }
      const n = Math.min(BLOCK - this.pendingBytes, chunk.length - at);
      this.pending.push(chunk.subarray(at, at + n));
      this.pendingBytes += n;
      at += n;
      if (this.pendingBytes === BLOCK) {
        const header = Buffer.concat(this.pending);
        this.pending = [];
        this.pendingBytes = 0;
        this.header(header);
      }
    }
  }

  private header(h: Buffer): void {
    if (h.every((x) => x === 0)) {
      this.ended = true;
      return;
    }
    const magic = h.toString('ascii', 257, 262);
    if (magic !== 'ustar') throw new DebReadError(`not a ustar/GNU tar stream (magic ${JSON.stringify(magic)})`);
    const prefix = cString(h, 345, 155);
    const name = cString(h, 0, 100);
    const size = octal(h, 124, 12);
    const typeflag = String.fromCharCode(h[156] || 0x30);
    this.current = {
      path: prefix && h.toString('ascii', 257, 263) === 'ustar\0' ? `${prefix}/${name}` : name,
      typeflag,
      mode: octal(h, 100, 8),
      linkname: cString(h, 157, 100),
      size,
    };
    const meta = typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g';
    const path = normalize(this.longName ?? this.pax.get('path') ?? this.current.path);
    this.keep = meta || (size > 0 && this.want(path)) ? [] : null;
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.finishMember();
  }

  private finishMember(): void {
    const c = this.current!;
    const data = this.keep ? Buffer.concat(this.keep) : Buffer.alloc(0);
    this.keep = null;
    if (c.typeflag === 'L') this.longName = cString(data, 0, data.length);
    else if (c.typeflag === 'K') this.longLink = cString(data, 0, data.length);
    else if (c.typeflag === 'x') this.pax = paxRecords(data);
    else if (c.typeflag === 'g') {
      // global pax header: nothing we use
    } else {
      const path = normalize(this.longName ?? this.pax.get('path') ?? c.path);
      const target = this.longLink ?? this.pax.get('linkpath') ?? c.linkname;
      const type = c.typeflag === '0' || c.typeflag === '\0' || c.typeflag === '7' ? 'file' : c.typeflag === '2' ? 'symlink' : c.typeflag === '5' ? 'dir' : 'other';
      if (path !== '' && this.want(path)) this.found.set(path, { path, type, mode: c.mode & 0o7777, data, target: type === 'symlink' ? target : '' });
      this.longName = null;
      this.longLink = null;
      this.pax = new Map();
    }
    this.current = null;
  }
}

/** The members of `debPath` whose path `want` accepts (paths without "./"). */
export async function readDebMembers(debPath: string, want: (path: string) => boolean): Promise<Map<string, DebMember>> {
  const tar = new TarStream(want);
  const child = spawn('dpkg-deb', ['--fsys-tarfile', debPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number>((ok, fail) => {
    child.once('error', (e) => fail(new DebReadError(`cannot run dpkg-deb (needed to read ${debPath}): ${e.message}`)));
    child.once('close', (code) => ok(code ?? -1));
  });
  for await (const chunk of child.stdout) tar.push(chunk as Buffer);
  const code = await exited;
  if (code !== 0) throw new DebReadError(`dpkg-deb --fsys-tarfile ${debPath} exited ${code}: ${stderr.trim()}`);
  return tar.found;
}

/** Like readDebMembers, but every path listed must be there. */
export async function readDebPaths(debPath: string, paths: readonly string[]): Promise<Map<string, DebMember>> {
  const wanted = new Set(paths);
  const found = await readDebMembers(debPath, (p) => wanted.has(p));
  const missing = paths.filter((p) => !found.has(p));
  if (missing.length) throw new DebReadError(`${debPath}: missing ${missing.join(', ')}`);
  return found;
}
