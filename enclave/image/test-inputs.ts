/**
 * Pinned test inputs (enclave/inputs/test-debs.json): Debian packages the
 * tests read files from (the OVMF.fd of the SEV-SNP measurement known-answer
 * tests), each from its own suite. They are fetched with a private apt for
 * that suite (apt.ts) into the build cache, SHA-256 checked like the image's
 * own inputs, and never part of the image. A cached file is used without any
 * network access; a cached file whose digest differs is refused.
 */
import { join } from 'node:path';
import { privateApt } from './apt.ts';
import { buildCacheDir } from './build-cache.ts';
import { readDebPaths } from './deb.ts';
import { INPUTS_DIR, InputError, ensureDeb, loadDebPins, type DebPin } from './inputs.ts';

export interface TestDebPin extends DebPin {
  /** The Debian suite it comes from: bookworm, trixie, ... */
  suite: string;
}

export function loadTestDebPins(dir = INPUTS_DIR): TestDebPin[] {
  return loadDebPins<TestDebPin>(dir, 'test-debs.json', ['suite']);
}

/** The path of the verified .deb in the build cache (cacheDir/test-debs/), downloading it from its suite when missing. */
export function ensureTestDeb(pin: TestDebPin, log: (line: string) => void = () => {}, cacheDir = buildCacheDir()): string {
  return ensureDeb(pin, join(cacheDir, 'test-debs'), log, {
    from: `${pin.suite} (test input)`,
    pinFile: 'enclave/inputs/test-debs.json',
    download: (p, dir) => {
      let apt: ReturnType<typeof privateApt>;
      try {
        apt = privateApt(cacheDir, [pin.suite], log);
      } catch (e) {
        throw new InputError('InputUnavailable', `cannot set up apt for ${pin.suite}: ${(e as Error).message}`);
      }
      return apt.run(['download', '-q', `${p.name}:${p.arch}=${p.version}`], dir);
    },
  });
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
