/**
 * `encumber measure [--bundle FILE] [--out FILE]`: the dev-platform
 * measurements of this checkout, in the attestation/measurements.json format,
 * so a verifier can pin what they rebuilt themselves:
 *   - "source tree": what `npm start` (tsx, from source) attests;
 *   - "bundle": what the enclave bundle (dist/encumber-enclave.mjs) attests.
 *
 * `encumber measure --platform sev-snp [--vcpus N,...] [--cpu MODEL,...]
 * [--guest-features HEX,...] [--build-dir DIR] [--out FILE]`: the SEV-SNP
 * launch measurement of an image build (OVMF.fd, bzImage, initramfs.cpio.gz
 * and the SNP command line from manifest.json) for each configuration, as
 * "sev-snp" entries of the same format.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha384 } from '@noble/hashes/sha2.js';
import { devPcrsFromDigests } from '../../attestation/dev/index.ts';
import {
  SnpMeasureError,
  SUPPORTED_CPUS,
  describeConfiguration,
  measureConfiguration,
  ovmfHash,
  parseOvmf,
  snpConfigurations,
  type SnpConfiguration,
  type SnpImage,
} from '../../attestation/sev-snp/index.ts';
import { REPO_ROOT, sourceTreeDigest } from '../../enclave/program-digest.ts';
import { PROGRAM } from '../../enclave/service.ts';
import { toHex } from '../../crypto/encoding.ts';
import { EXIT_OK, UsageProblem, type CliIo } from '../io.ts';

function entry(name: string, digest: Uint8Array) {
  const p = devPcrsFromDigests({ bundleSha384: digest });
  return { name, bundleSha384: toHex(digest), pcrs: { '0': toHex(p[0]), '1': toHex(p[1]), '2': toHex(p[2]) } };
}

export function devMeasurements(bundlePath?: string) {
  const dev = [entry(`${PROGRAM.name} ${PROGRAM.version} source tree (npm start)`, sourceTreeDigest())];
  const bundle = bundlePath ?? join(REPO_ROOT, 'dist', 'encumber-enclave.mjs');
  if (existsSync(bundle)) dev.push(entry(`${PROGRAM.name} ${PROGRAM.version} bundle ${bundlePath ?? 'dist/encumber-enclave.mjs'}`, sha384(readFileSync(bundle))));
  else if (bundlePath) throw new UsageProblem(`no bundle at ${bundlePath} (build it with npm run build)`);
  return { release: PROGRAM.version, nitro: [], dev, 'sev-snp': [] };
}

// ---- SEV-SNP ---------------------------------------------------------------------------------

/** The files of an image build that the SNP launch measures. */
export const SNP_BUILD_FILES = { firmware: 'OVMF.fd', kernel: 'bzImage', initrd: 'initramfs.cpio.gz', cmdlineFallback: 'cmdline-sev-snp.txt' } as const;

export const DEFAULT_BUILD_DIR = join(REPO_ROOT, 'build', 'out');

export interface SnpBuild extends SnpImage {
  dir: string;
  inputs: { ovmfSha256: string; kernelSha256: string; initrdSha256: string; cmdline: string };
}

function readBuildFile(dir: string, name: string, why: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(join(dir, name)));
  } catch (e) {
    throw new UsageProblem(`${join(dir, name)}: cannot read it (${why}): ${(e as Error).message}`);
  }
}

/** The SNP command line of a build: manifest.json's snp.cmdline, else cmdline-sev-snp.txt. */
function snpCmdline(dir: string): string {
  let manifest: { snp?: { cmdline?: unknown } } | undefined;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    manifest = undefined;
  }
  if (typeof manifest?.snp?.cmdline === 'string') return manifest.snp.cmdline;
  const file = join(dir, SNP_BUILD_FILES.cmdlineFallback);
  if (existsSync(file)) return readFileSync(file, 'utf8').replace(/\n$/, '');
  throw new UsageProblem(`${dir}: no SEV-SNP command line (manifest.json snp.cmdline, or ${SNP_BUILD_FILES.cmdlineFallback}): not a build with an SEV-SNP image`);
}

export function readSnpBuild(dir: string): SnpBuild {
  const firmware = readBuildFile(dir, SNP_BUILD_FILES.firmware, 'the AmdSev OVMF the guest boots');
  const kernel = readBuildFile(dir, SNP_BUILD_FILES.kernel, 'the guest kernel');
  const initrd = readBuildFile(dir, SNP_BUILD_FILES.initrd, 'the guest initrd');
  const cmdline = snpCmdline(dir);
  const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
  const kernelSha = sha256(kernel);
  const initrdSha = sha256(initrd);
  try {
    return {
      dir,
      firmware: parseOvmf(firmware),
      ovmfHash: ovmfHash(firmware),
      kernel: { kernel: { sha256: kernelSha }, initrd: { sha256: initrdSha }, cmdline },
      inputs: { ovmfSha256: toHex(sha256(firmware)), kernelSha256: toHex(kernelSha), initrdSha256: toHex(initrdSha), cmdline },
    };
  } catch (e) {
    if (e instanceof SnpMeasureError) throw new UsageProblem(`${join(dir, SNP_BUILD_FILES.firmware)}: ${e.code}: ${e.message}`);
    throw e;
  }
}

function list(value: string | undefined, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageProblem(`${what}: empty list`);
  return items;
}

/** --vcpus, --cpu, --guest-features (comma-separated lists) → configurations; absent lists take the given defaults. */
export function snpConfigurationFlags(
  flags: { vcpus?: string; cpu?: string; guestFeatures?: string },
  defaults: { vcpus?: number[]; cpus?: string[]; guestFeatures?: bigint[] } = {},
): SnpConfiguration[] {
  const vcpus = list(flags.vcpus, '--vcpus')?.map((v) => {
    if (!/^[0-9]+$/.test(v)) throw new UsageProblem(`--vcpus: ${v} is not a number`);
    return Number(v);
  });
  const guestFeatures = list(flags.guestFeatures, '--guest-features')?.map((v) => {
    if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(v)) throw new UsageProblem(`--guest-features: ${v} is not hex`);
    return BigInt(v.startsWith('0x') ? v : `0x${v}`);
  });
  try {
    const configs = snpConfigurations({ vcpus: vcpus ?? defaults.vcpus, cpus: list(flags.cpu, '--cpu') ?? defaults.cpus, guestFeatures: guestFeatures ?? defaults.guestFeatures });
    for (const c of configs) {
      if (c.vcpus < 1 || c.vcpus > 512) throw new UsageProblem(`--vcpus: ${c.vcpus} is out of range 1..512`);
      if ((c.guestFeatures & 1n) === 0n) throw new UsageProblem(`--guest-features: 0x${c.guestFeatures.toString(16)} lacks bit 0 (SNPActive)`);
    }
    return configs;
  } catch (e) {
    if (e instanceof SnpMeasureError) throw new UsageProblem(`--cpu: ${e.message} (known: ${String(e.expected)})`);
    throw e;
  }
}

export function snpEntry(build: SnpBuild, c: SnpConfiguration) {
  return {
    name: `${PROGRAM.name} ${PROGRAM.version} sev-snp ${c.vcpus} vCPU ${c.cpu}`,
    measurement: measureConfiguration(build, c),
    vcpus: c.vcpus,
    cpu: c.cpu,
    vcpuSig: `0x${c.vcpuSig.toString(16)}`,
    guestFeatures: `0x${c.guestFeatures.toString(16)}`,
    inputs: build.inputs,
  };
}

export interface MeasureFlags {
  bundle?: string;
  out?: string;
  platform?: string;
  vcpus?: string;
  cpu?: string;
  guestFeatures?: string;
  buildDir?: string;
}

async function emit(doc: unknown, flags: MeasureFlags, io: CliIo): Promise<void> {
  const text = JSON.stringify(doc, null, 2);
  if (flags.out) await writeFile(flags.out, text + '\n');
  else io.out(text);
}

export async function measure(flags: MeasureFlags, io: CliIo): Promise<number> {
  const platform = flags.platform ?? 'dev';
  if (platform === 'sev-snp') {
    const configs = snpConfigurationFlags(flags, { vcpus: [2], cpus: [...SUPPORTED_CPUS], guestFeatures: [0x1n] });
    const build = readSnpBuild(flags.buildDir ?? DEFAULT_BUILD_DIR);
    const entries = configs.map((c) => snpEntry(build, c));
    await emit({ release: PROGRAM.version, nitro: [], dev: [], 'sev-snp': entries }, flags, io);
    for (const [i, c] of configs.entries()) io.err(`sev-snp ${describeConfiguration(c)}: ${entries[i]!.measurement}`);
    return EXIT_OK;
  }
  if (platform !== 'dev') throw new UsageProblem('--platform must be dev or sev-snp (Nitro PCRs are in the build manifest: encumber rebuild)');
  if (flags.vcpus || flags.cpu || flags.guestFeatures || flags.buildDir) throw new UsageProblem('--vcpus, --cpu, --guest-features and --build-dir go with --platform sev-snp');
  const m = devMeasurements(flags.bundle);
  await emit(m, flags, io);
  for (const d of m.dev) io.err(`${d.name}: PCR0 ${d.pcrs['0']}`);
  return EXIT_OK;
}
