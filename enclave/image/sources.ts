/**
 * Debian source packages pinned by the SHA-256 of every file (.dsc, .orig
 * tarballs, .debian tarball), fetched with `apt-get source --download-only`
 * through a private apt state (apt.ts) and unpacked with `dpkg-source -x`
 * (which also applies Debian's patch series).
 *
 * Pins live in enclave/inputs/sources.json: one entry per source package,
 * with the suite it is fetched from. A cached or fetched file whose digest
 * differs from its pin is refused, never used and never replaced.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { privateApt } from './apt.ts';
import { INPUTS_DIR, InputError, sha256File } from './inputs.ts';

export interface SourceFile {
  name: string;
  size: number;
  sha256: string;
}

export interface SourcePin {
  /** Source package name, e.g. linux-6.12. */
  package: string;
  version: string;
  /** Debian suite it is fetched from, e.g. bookworm-security, trixie. */
  suite: string;
  files: SourceFile[];
  role: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function loadSourcePins(dir = INPUTS_DIR): SourcePin[] {
  const doc = JSON.parse(readFileSync(join(dir, 'sources.json'), 'utf8')) as { sources?: unknown };
  if (!Array.isArray(doc.sources)) throw new InputError('BadManifest', 'sources.json: "sources" must be an array');
  return doc.sources.map((p: Record<string, unknown>, i: number) => {
    for (const k of ['package', 'version', 'suite', 'role'] as const) {
      if (typeof p[k] !== 'string' || p[k] === '') throw new InputError('BadManifest', `sources.json: sources[${i}].${k} must be a non-empty string`);
    }
    if (!Array.isArray(p.files) || p.files.length === 0) throw new InputError('BadManifest', `sources.json: sources[${i}].files must be a non-empty array`);
    for (const f of p.files as SourceFile[]) {
      if (typeof f.name !== 'string' || !/^[A-Za-z0-9.+~_-]+$/.test(f.name) || !HEX64.test(f.sha256) || !Number.isSafeInteger(f.size)) {
        throw new InputError('BadManifest', `sources.json: sources[${i}].files: each needs name, size and a 64-hex sha256`);
      }
    }
    return p as unknown as SourcePin;
  });
}

export function sourcePin(pins: readonly SourcePin[], pkg: string): SourcePin {
  const hit = pins.filter((p) => p.package === pkg);
  if (hit.length !== 1) throw new InputError('BadManifest', `sources.json: expected exactly one source package ${pkg}, found ${hit.length}`);
  return hit[0]!;
}

function verify(pin: SourcePin, f: SourceFile, path: string): void {
  const actual = sha256File(path);
  if (actual !== f.sha256) {
    throw new InputError('InputMismatch', `${path}: SHA-256 ${actual} is not the pinned ${f.sha256} of ${pin.package} ${pin.version}; refusing it`, f.sha256, actual);
  }
}

/** The cache directory holding the verified files of this source package, downloading what is missing. */
export function ensureSource(pin: SourcePin, cacheDir: string, log: (l: string) => void = () => {}): string {
  const dir = join(cacheDir, 'sources', `${pin.package}_${pin.version.replace(/:/g, '%3a')}`);
  mkdirSync(dir, { recursive: true });
  const missing = pin.files.filter((f) => !existsSync(join(dir, f.name)));
  for (const f of pin.files) if (!missing.includes(f)) verify(pin, f, join(dir, f.name));
  if (missing.length === 0) return dir;
  log(`fetching source ${pin.package} ${pin.version} from ${pin.suite} (apt-get source --download-only)`);
  const apt = privateApt(cacheDir, [pin.suite], log);
  const tmp = mkdtempSync(join(cacheDir, '.source-'));
  try {
    // apt-get may fail on a file we do not pin (the archive sometimes lacks a package's .dsc): what counts is
    // whether every pinned file arrived and matches.
    const r = apt.run(['source', '--download-only', '-q', `${pin.package}=${pin.version}`], tmp);
    const absent = missing.filter((f) => !existsSync(join(tmp, f.name)));
    if (absent.length > 0) {
      throw new InputError(
        'InputUnavailable',
        `cannot download ${absent.map((f) => f.name).join(', ')} of source ${pin.package}=${pin.version} from ${pin.suite} (is that version still in the archive? when Debian has replaced it, repin enclave/inputs/sources.json on purpose):\n${r.output.slice(-2000)}`,
      );
    }
    for (const f of missing) {
      const got = join(tmp, f.name);
      verify(pin, f, got);
      renameSync(got, join(dir, f.name));
    }
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Unpacks the verified source package into dest (created; must not exist):
 * the .orig tarball(s), then the .debian tarball, then Debian's patch series
 * (debian/patches/series) applied in order with `patch`, as dpkg-source does
 * for a "3.0 (quilt)" package. The .dsc is not needed (the archive sometimes
 * serves a package's tarballs but not its .dsc); every file is checked
 * against its pin first. Returns dest.
 */
export function unpackSource(pin: SourcePin, cacheDir: string, dest: string, log: (l: string) => void = () => {}): string {
  const dir = ensureSource(pin, cacheDir, log);
  for (const f of pin.files) verify(pin, f, join(dir, f.name));
  const orig = pin.files.filter((f) => /\.orig\.tar\.(xz|gz|bz2)$/.test(f.name));
  const deb = pin.files.filter((f) => /\.debian\.tar\.(xz|gz|bz2)$/.test(f.name));
  if (orig.length !== 1 || deb.length !== 1) throw new InputError('BadManifest', `sources.json: ${pin.package} needs exactly one .orig and one .debian tarball`);
  if (existsSync(dest)) throw new Error(`${dest} exists`);
  mkdirSync(dest, { recursive: true });
  const sh = (cmd: string, args: string[], cwd = dest) => {
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, LC_ALL: 'C' } });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stdout ?? '') + (r.stderr ?? '')}`.slice(-4000));
    return r.stdout;
  };
  log(`unpacking ${orig[0]!.name}`);
  sh('tar', ['-xf', join(dir, orig[0]!.name), '--strip-components=1', '--no-same-owner']);
  sh('tar', ['-xf', join(dir, deb[0]!.name), '--no-same-owner']);
  const series = join(dest, 'debian', 'patches', 'series');
  if (existsSync(series)) {
    const lines = readFileSync(series, 'utf8').split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
    log(`applying ${lines.length} Debian patches`);
    for (const line of lines) {
      const [name, ...opts] = line.split(/\s+/);
      const strip = opts.find((o) => /^-p\d+$/.test(o)) ?? '-p1';
      sh('patch', [strip, '--forward', '--no-backup-if-mismatch', '--quiet', '-i', join(dest, 'debian', 'patches', name!)]);
    }
  }
  return dest;
}
