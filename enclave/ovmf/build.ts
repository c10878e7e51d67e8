/**
 * OVMF for SEV-SNP direct boot (OvmfPkg/AmdSev/AmdSevX64.dsc), built from the
 * pinned Debian edk2 source with the pinned Debian toolchain, cached by the
 * hash of its inputs (enclave/image/build-cache.ts).
 *
 *   node --import tsx enclave/ovmf/build.ts [--verify-reproducible] [--cache DIR]
 *   (ENCUMBER_KEEP_BUILDS=1 keeps the build directories)
 *
 * With verifyReproducible, a cache entry not yet confirmed is built a second
 * time in another directory; equal bytes are recorded in the entry
 * (reproducible.json), a difference fails.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildCacheDir, cachedBuild, checkToolchain, loadToolchain } from '../image/build-cache.ts';
import { loadSourcePins, sourcePin } from '../image/sources.ts';
import { BUILD_ARGS, OVMF_SIZE, PATCH_DIR, RECIPE_VERSION, buildEnv, buildOvmf, ourPatches } from './edk2.ts';
import { OvmfError } from './errors.ts';
import { checkSnpDirectBoot } from './footer.ts';

export const OVMF_FILE = 'OVMF.fd';
/** In the cache entry once a second clean build in another directory gave the same bytes. */
export const CONFIRMATION_FILE = 'reproducible.json';

export interface Confirmation {
  sha256: string;
  /** Builds that gave these bytes, each in its own directory. */
  builds: number;
}

export interface OvmfResult {
  ovmf: Uint8Array;
  inputsHash: string;
  /** Whether this call built the cache entry (false: taken from the cache). */
  built: boolean;
  /** The cache entry directory. */
  dir: string;
  /** Set when a second build has confirmed the bytes (now or earlier). */
  confirmation?: Confirmation;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Everything that can change OVMF.fd; its hash names the cache entry. */
export function ovmfInputs(sourceDateEpoch: number) {
  const pin = sourcePin(loadSourcePins(), 'edk2');
  const env = buildEnv(sourceDateEpoch);
  return {
    pin,
    inputs: {
      recipe: RECIPE_VERSION,
      source: { package: pin.package, version: pin.version, files: pin.files.map((f) => ({ name: f.name, sha256: f.sha256 })) },
      patches: ourPatches().map((p) => ({ name: p, sha256: sha256(readFileSync(join(PATCH_DIR, p))) })),
      toolchain: loadToolchain('ovmf'),
      build: { args: [...BUILD_ARGS], grub: 'empty placeholder', env: { LC_ALL: env.LC_ALL, TZ: env.TZ, SOURCE_DATE_EPOCH: env.SOURCE_DATE_EPOCH } },
    },
  };
}

/** Reads the confirmation of a cache entry, if it matches these bytes. */
export function readConfirmation(dir: string, ovmf: Uint8Array): Confirmation | undefined {
  const file = join(dir, CONFIRMATION_FILE);
  if (!existsSync(file)) return undefined;
  const c = JSON.parse(readFileSync(file, 'utf8')) as Confirmation;
  return c.sha256 === sha256(ovmf) && c.builds >= 2 ? c : undefined;
}

/** The structural check every build and every cache hit passes: size, footer table, SEV metadata with the kernel hashes section. */
export function checkOvmf(ovmf: Uint8Array): void {
  if (ovmf.length !== OVMF_SIZE) throw new OvmfError('WrongSize', 'OVMF.fd size', String(OVMF_SIZE), String(ovmf.length));
  checkSnpDirectBoot(ovmf);
}

export async function ensureOvmf(opts: {
  cacheDir?: string;
  sourceDateEpoch: number;
  log?: (l: string) => void;
  verifyReproducible?: boolean;
  /** Keep the build directories (to compare two builds that differ). */
  keepWork?: boolean;
}): Promise<OvmfResult> {
  const cacheDir = opts.cacheDir ?? buildCacheDir();
  const log = opts.log ?? (() => {});
  const { pin, inputs } = ovmfInputs(opts.sourceDateEpoch);
  const once = async (src: string, outFile: string, name = 'ovmf') => {
    checkToolchain(inputs.toolchain);
    const t0 = performance.now();
    const tagged = (l: string) => log(l.replace(/^ovmf:/, `${name}:`));
    const times = await buildOvmf({ pin, sourceCache: cacheDir, src, outFile, sourceDateEpoch: opts.sourceDateEpoch, log: tagged });
    const phases = Object.entries(times).map(([p, s]) => `${p} ${s.toFixed(1)} s`).join(', ');
    log(`${name}: built in ${((performance.now() - t0) / 1000).toFixed(1)} s (${phases})`);
    checkOvmf(readFileSync(outFile));
  };
  // The second build: from scratch, in a directory of another name and depth than the first's work directory.
  const verifyWork = () => mkdtempSync(join(cacheDir, 'builds', '.verify-ovmf-'));
  const secondBuild = async (work: string): Promise<Uint8Array> => {
    mkdirSync(join(work, 'again'));
    await once(join(work, 'again', 'edk2-second'), join(work, OVMF_FILE), 'ovmf (second build)');
    return new Uint8Array(readFileSync(join(work, OVMF_FILE)));
  };
  const dropWork = (work: string) => {
    if (opts.keepWork) log(`ovmf: kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  };

  // When the entry is missing and verification is asked for, both builds run at once: edk2's build has long
  // single-threaded stretches (AutoGen, GenFds, LZMA, LTO links) that the other build fills.
  let again: Uint8Array | undefined;
  const entry = await cachedBuild({
    name: 'ovmf',
    inputs,
    outputs: [OVMF_FILE],
    cacheDir,
    log,
    keepWork: opts.keepWork ?? false,
    build: async (src, out) => {
      if (!opts.verifyReproducible) return once(src, join(out, OVMF_FILE));
      const work = verifyWork();
      try {
        log('ovmf: verifying: a second clean build in another directory, alongside');
        const [first, second] = await Promise.allSettled([once(src, join(out, OVMF_FILE)), secondBuild(work)]);
        if (first.status === 'rejected') throw first.reason;
        if (second.status === 'rejected') throw second.reason;
        again = second.value;
      } finally {
        dropWork(work);
      }
    },
  });
  const ovmf = new Uint8Array(readFileSync(join(entry.dir, OVMF_FILE)));
  checkOvmf(ovmf);
  let confirmation = readConfirmation(entry.dir, ovmf);

  if (opts.verifyReproducible && !confirmation) {
    if (!again) {
      const work = verifyWork();
      try {
        log('ovmf: verifying: a second clean build in another directory');
        again = await secondBuild(work);
      } finally {
        dropWork(work);
      }
    }
    if (sha256(again) !== sha256(ovmf)) {
      const kept = join(entry.dir, `${OVMF_FILE}.second`);
      writeFileSync(kept, again);
      throw new OvmfError('NotReproducible', `two clean builds of OVMF differ (first ${join(entry.dir, OVMF_FILE)}, second kept as ${kept})`, sha256(ovmf), sha256(again));
    }
    confirmation = { sha256: sha256(ovmf), builds: 2 };
    writeFileSync(join(entry.dir, CONFIRMATION_FILE), JSON.stringify(confirmation, null, 2) + '\n');
    log(`ovmf: reproducible: the second build gave the same ${sha256(ovmf)}`);
  }
  return { ovmf, inputsHash: entry.hash, built: entry.built, dir: entry.dir, ...(confirmation ? { confirmation } : {}) };
}

async function main(argv: string[]): Promise<void> {
  const verifyReproducible = argv.includes('--verify-reproducible');
  const ci = argv.indexOf('--cache');
  const cacheDir = ci >= 0 ? argv[ci + 1] : undefined;
  const sourceDateEpoch = Number(process.env.SOURCE_DATE_EPOCH ?? '1');
  if (!Number.isSafeInteger(sourceDateEpoch) || sourceDateEpoch < 0) throw new Error(`SOURCE_DATE_EPOCH must be a non-negative integer, got ${process.env.SOURCE_DATE_EPOCH}`);
  const t0 = performance.now();
  const keepWork = Boolean(process.env.ENCUMBER_KEEP_BUILDS);
  const r = await ensureOvmf({ sourceDateEpoch, verifyReproducible, keepWork, log: (l) => console.error(l), ...(cacheDir ? { cacheDir } : {}) });
  console.log(`OVMF.fd ${r.dir}/${OVMF_FILE}`);
  console.log(`sha256 ${sha256(r.ovmf)}`);
  console.log(`size ${r.ovmf.length}`);
  console.log(`inputs ${r.inputsHash}`);
  console.log(`built ${r.built}, reproducible ${r.confirmation ? `confirmed (${r.confirmation.builds} builds)` : 'not confirmed'}`);
  console.log(`time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? `${e.name}${'code' in e ? ` ${String(e.code)}` : ''}: ${e.message}` : e);
    process.exit(1);
  });
}
