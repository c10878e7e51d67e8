/**
 * Pinned test inputs (enclave/inputs/test-debs.json): Debian packages the
 * tests read files from (the OVMF.fd of the SEV-SNP measurement known-answer
 * tests), each from its own suite. They are fetched with a private apt for
 * that suite (apt.ts) into the build cache, SHA-256 checked like the image's
 * own inputs, and never part of the image. A cached file is used without any
 * network access; a cached file whose digest differs is refused.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { privateApt } from './apt.ts';
import { buildCacheDir } from './build-cache.ts';
import { readDebPaths } from './deb.ts';
import { INPUTS_DIR, InputError, debFileName, sha256File, type DebPin } from './inputs.ts';

export interface TestDebPin extends DebPin {
  /** The Debian suite it comes from: bookworm, trixie, ... */
  suite: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function loadTestDebPins(dir = INPUTS_DIR): TestDebPin[] {
  const file = join(dir, 'test-debs.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { packages?: unknown };
  if (!Array.isArray(doc.packages)) throw new InputError('BadManifest', `${file}: "packages" must be an array`);
  return doc.packages.map((p: Record<string, unknown>, i: number) => {
    for (const k of ['name', 'version', 'arch', 'sha256', 'role', 'suite'] as const) {
      if (typeof p[k] !== 'string' || p[k] === '') throw new InputError('BadManifest', `${file}: packages[${i}].${k} must be a non-empty string`);
    }
    if (!HEX64.test(p.sha256 as string)) throw new InputError('BadManifest', `${file}: packages[${i}].sha256 must be 64 lowercase hex digits`);
    return p as unknown as TestDebPin;
  });
}

function check(pin: TestDebPin, path: string): void {
  const actual = sha256File(path);
  if (actual !== pin.sha256) {
    throw new InputError(
      'InputMismatch',
      `${path}: SHA-256 ${actual} is not the pinned ${pin.sha256} of ${pin.name} ${pin.version} (${pin.suite}); refusing it`,
      pin.sha256,
      actual,
    );
  }
}

/** The path of the verified .deb in the build cache (cacheDir/test-debs/), downloading it from its suite when missing. */
export function ensureTestDeb(pin: TestDebPin, log: (line: string) => void = () => {}, cacheDir = buildCacheDir()): string {
  const dir = join(cacheDir, 'test-debs');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, debFileName(pin));
  if (existsSync(path)) {
    check(pin, path);
    return path;
  }
  log(`fetching ${pin.name} ${pin.version} from ${pin.suite} (test input)`);
  let apt;
  try {
    apt = privateApt(cacheDir, [pin.suite], log);
  } catch (e) {
    throw new InputError('InputUnavailable', `cannot set up apt for ${pin.suite}: ${(e as Error).message}`);
  }
  const tmp = mkdtempSync(join(dir, '.download-'));
  try {
    const r = apt.run(['download', '-q', `${pin.name}:${pin.arch}=${pin.version}`], tmp);
    const files = readdirSync(tmp).filter((f) => f.endsWith('.deb'));
    if (!r.ok || files.length !== 1) {
      throw new InputError('InputUnavailable', `cannot download ${pin.name}=${pin.version} from ${pin.suite}:\n${r.output}`);
    }
    const got = join(tmp, files[0]!);
    check(pin, got);
    renameSync(got, path);
    return path;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Every pinned test .deb, fetched and verified; returns their paths in manifest order. */
export function ensureTestDebs(log: (line: string) => void = () => {}, cacheDir = buildCacheDir()): string[] {
  return loadTestDebPins().map((pin) => ensureTestDeb(pin, log, cacheDir));
}

/** One file (path inside the package, no leading "./") out of a pinned test .deb. */
export async function testDebFile(pin: TestDebPin, path: string, log?: (line: string) => void): Promise<Uint8Array> {
  const deb = ensureTestDeb(pin, log);
  return (await readDebPaths(deb, [path])).get(path)!.data;
}
