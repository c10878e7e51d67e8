/**
 * The recipe: one clean build of OVMF for SEV-SNP direct boot from the
 * pinned Debian edk2 source, in a directory of its own. Phases: unpack
 * (orig + debian tarball + Debian's patches), basetools (the C tools), build
 * (OvmfPkg/AmdSev/AmdSevX64.dsc). Decisions in README.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unpackSource, type SourcePin } from '../image/sources.ts';
import { OvmfError } from './errors.ts';

/** Bump when anything below changes what is built (part of the cache key). */
export const RECIPE_VERSION = 'ovmf-amdsev-2';
export const DSC = 'OvmfPkg/AmdSev/AmdSevX64.dsc';
/** RELEASE: no DEBUG()/ASSERT() strings, --zero'd PE debug data (AmdSevX64.dsc), the smallest trusted code. */
export const BUILD_ARGS = ['-a', 'X64', '-t', 'GCC', '-b', 'RELEASE', '-p', DSC] as const;
export const FV_DIR = 'Build/AmdSev/RELEASE_GCC/FV';
/** AmdSevX64's FD_SIZE_IN_KB default (4096). */
export const OVMF_SIZE = 4 << 20;

/** Our patches, applied after Debian's series in name order (each says why in its header). */
export const PATCH_DIR = join(dirname(fileURLToPath(import.meta.url)), 'patches');

export function ourPatches(): string[] {
  return readdirSync(PATCH_DIR).filter((f) => f.endsWith('.patch')).sort();
}

export type Phase = 'unpack' | 'basetools' | 'build';

/** The environment every phase runs in: nothing from the caller's but these. */
export function buildEnv(sourceDateEpoch: number): Record<string, string> {
  return {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    LC_ALL: 'C',
    LANG: 'C',
    TZ: 'UTC',
    SOURCE_DATE_EPOCH: String(sourceDateEpoch),
    PYTHON_COMMAND: '/usr/bin/python3',
    PYTHONHASHSEED: '0',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string>, logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const out = Buffer.concat(chunks).toString('utf8');
      writeFileSync(logFile, out);
      if (code === 0) resolve();
      else reject(new OvmfError('BuildFailed', `${cmd} ${args.join(' ')} failed (${code ?? signal}); log ${logFile}:\n${out.slice(-4000)}`));
    });
  });
}

/**
 * The placeholder grub.efi: an empty file, newer than grub.sh and grub.cfg, so
 * the PREBUILD step (OvmfPkg/AmdSev/Grub/grub.sh) keeps it and the firmware
 * volume carries an empty Grub file. The mtime only decides grub.sh's "-nt"
 * test; it is set from grub.sh's own (from the tarball), not from the clock.
 */
export function writeGrubPlaceholder(src: string): void {
  const dir = join(src, 'OvmfPkg', 'AmdSev', 'Grub');
  const newest = Math.max(statSync(join(dir, 'grub.sh')).mtimeMs, statSync(join(dir, 'grub.cfg')).mtimeMs) / 1000;
  writeFileSync(join(dir, 'grub.efi'), new Uint8Array(0));
  utimesSync(join(dir, 'grub.efi'), newest + 1, newest + 1);
}

/** Fails when an output carries the build directory (uncompressed FVs and the final image). */
export function checkNoPathLeak(src: string): void {
  const needle = Buffer.from(src);
  const dir = join(src, FV_DIR);
  for (const f of ['OVMF.fd', 'SECFV.Fv', 'PEIFV.Fv', 'DXEFV.Fv', 'FVMAIN_COMPACT.Fv']) {
    const p = join(dir, f);
    if (existsSync(p) && readFileSync(p).includes(needle)) throw new OvmfError('PathLeak', `${f} contains the build path ${src}`);
  }
}

/** Builds OVMF.fd in src (must not exist) and copies it to outFile. Logs each phase as it starts; returns the seconds each took. */
export async function buildOvmf(opts: {
  pin: SourcePin;
  sourceCache: string;
  src: string;
  outFile: string;
  sourceDateEpoch: number;
  log: (l: string) => void;
}): Promise<Record<Phase, number>> {
  const { src, log } = opts;
  const env = buildEnv(opts.sourceDateEpoch);
  const times = {} as Record<Phase, number>;
  const phase = async (name: Phase, what: string, fn: () => Promise<void> | void) => {
    log(`ovmf: ${name}: ${what}`);
    const t0 = performance.now();
    await fn();
    times[name] = (performance.now() - t0) / 1000;
  };
  const jobs = String(availableParallelism());

  await phase('unpack', `${opts.pin.package} ${opts.pin.version} into ${src}`, () => {
    unpackSource(opts.pin, opts.sourceCache, src);
    for (const p of ourPatches()) {
      const r = spawnSync('patch', ['-p1', '--forward', '--no-backup-if-mismatch', '--quiet', '-i', join(PATCH_DIR, p)], { cwd: src, env, encoding: 'utf8' });
      if (r.status !== 0) throw new OvmfError('BuildFailed', `patch ${p} does not apply:\n${r.stdout}${r.stderr}`);
    }
    writeGrubPlaceholder(src);
  });
  // The C tools only: BaseTools' own test suite (BaseTools/Tests) checks nothing of this build.
  await phase('basetools', 'make -C BaseTools/Source/C', () => run('make', ['-C', 'BaseTools/Source/C', '-j', jobs], src, env, join(src, '..', 'basetools.log')));
  await phase('build', `build ${BUILD_ARGS.join(' ')}`, () =>
    run('bash', ['-c', `set -e; . ./edksetup.sh; exec build -n ${jobs} ${BUILD_ARGS.join(' ')}`], src, env, join(src, '..', 'build.log')),
  );
  checkNoPathLeak(src);
  copyFileSync(join(src, FV_DIR, 'OVMF.fd'), opts.outFile);
  return times;
}
