/**
 * `encumber rebuild --compare EVIDENCE | --pcr0 HEX [--pcr1 HEX] [--pcr2 HEX] | --measurement HEX`
 * Rebuild the image from this checkout (or read an earlier build with
 * --build-dir) and say, check by check, whether the rebuilt measurement equals
 * the attested one. Exit 0 equal, 1 different or evidence invalid, 2 usage/IO.
 *
 * Nitro/dev: the EIF's (or bundle's) PCRs from the build manifest. SEV-SNP:
 * the launch measurement computed from the build's OVMF.fd, bzImage,
 * initramfs.cpio.gz and SNP command line; a report does not say the guest's
 * vCPU count, vCPU model or guest features, so unless --vcpus/--cpu/
 * --guest-features narrow them every supported configuration is tried and the
 * one that matched is named.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../enclave/program-digest.ts';
import { verifyEvidence } from '../../verifier/evidence.ts';
import { EXIT_INVALID, EXIT_OK, UsageProblem, type CliIo } from '../io.ts';
import { snpFloorOptions } from '../snp-options.ts';
import type { AttestationCheck } from '../../attestation/types.ts';
import { DEFAULT_SNP_SEARCH, describeConfiguration, findSnpConfigurations, type SnpConfiguration } from '../../attestation/sev-snp/index.ts';
import { readSnpBuild, snpConfigurationFlags } from './measure.ts';

export interface RebuildFlags {
  compare?: string;
  pcr0?: string;
  pcr1?: string;
  pcr2?: string;
  measurement?: string;
  vcpus?: string;
  cpu?: string;
  guestFeatures?: string;
  platform?: string;
  root?: string;
  /** SEV-SNP evidence: TCB floor SPEC (or none) and expected VMPL, as for `attest verify`. */
  minTcb?: string;
  vmpl?: string;
  at?: string;
  buildDir?: string;
  json?: boolean;
}

interface Manifest {
  eif: { pcrs: Record<string, string> };
  devPcrs: Record<string, string>;
  artifacts: Record<string, { sha384: string }>;
}

function runBuild(outDir: string, io: CliIo): Promise<void> {
  io.err(`rebuilding the image from ${REPO_ROOT} into ${outDir} (about a minute on a fresh machine) …`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'enclave', 'image', 'build.ts'), '--out', outDir], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      for (const line of d.split('\n')) if (line.trim()) io.err(`  ${line.trim()}`);
    });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new UsageProblem(`the image build failed (exit ${code}): ${err.slice(-500)}`))));
  });
}

const HEX48 = /^[0-9a-f]{96}$/;

export async function rebuild(flags: RebuildFlags, io: CliIo): Promise<number> {
  const given = [flags.compare, flags.pcr0, flags.measurement].filter((x) => x !== undefined).length;
  if (given === 0) throw new UsageProblem('give --compare EVIDENCE, --pcr0 HEX (and optionally --pcr1, --pcr2) or --measurement HEX (SEV-SNP)');
  if (given > 1) throw new UsageProblem('give one of --compare, --pcr0 and --measurement');
  const checks: AttestationCheck[] = [];

  // 1. What the enclave attests.
  let platform: string;
  let attested: Record<string, string>;
  if (flags.compare) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(flags.compare));
    } catch (e) {
      throw new UsageProblem(`cannot read ${flags.compare}: ${(e as Error).message}`);
    }
    let evidence = bytes;
    if (bytes[0] === 0x7b) {
      try {
        evidence = new Uint8Array(Buffer.from(JSON.parse(new TextDecoder().decode(bytes)).evidence.$bytes, 'base64'));
      } catch {
        throw new UsageProblem(`${flags.compare}: JSON evidence must be a getAttestation answer`);
      }
    }
    const at = flags.at ? new Date(flags.at) : new Date();
    if (Number.isNaN(at.getTime())) throw new UsageProblem(`--at: not an ISO-8601 time`);
    const roots = flags.root ? readFileSync(flags.root, 'utf8') : undefined;
    // The measurement is what we compare below, so the evidence check itself accepts any.
    const v = await verifyEvidence({ evidence }, { at, measurements: 'any', ...(roots ? { roots } : {}), ...snpFloorOptions(flags) });
    if (!v.ok) {
      checks.push({ name: 'attestation', ok: false, detail: `${v.error.code}: ${v.error.message}` });
      return finish(io, checks, false, flags.json);
    }
    platform = v.platform;
    if (v.platform === 'sev-snp' && v.measurement) attested = { MEASUREMENT: v.measurement };
    else if (v.pcrs) attested = { PCR0: v.pcrs[0]!, PCR1: v.pcrs[1]!, PCR2: v.pcrs[2]! };
    else throw new UsageProblem(`${v.platform} evidence carries neither PCRs nor a launch measurement`);
    checks.push({ name: 'attestation', ok: true, detail: `${platform} evidence verifies (chain, signature, time)` });
  } else if (flags.measurement !== undefined) {
    platform = 'sev-snp';
    if (!HEX48.test(flags.measurement.toLowerCase())) throw new UsageProblem('--measurement: 48 bytes of hex');
    attested = { MEASUREMENT: flags.measurement.toLowerCase() };
  } else {
    platform = flags.platform ?? 'nitro';
    if (platform !== 'nitro' && platform !== 'dev') throw new UsageProblem('--platform must be nitro or dev');
    attested = {};
    for (const [k, v] of [['PCR0', flags.pcr0], ['PCR1', flags.pcr1], ['PCR2', flags.pcr2]] as const) {
      if (v === undefined) continue;
      if (!HEX48.test(v.toLowerCase())) throw new UsageProblem(`--${k.toLowerCase()}: 48 bytes of hex`);
      attested[k] = v.toLowerCase();
    }
  }

  // The SNP configurations to try are checked before any build starts.
  const snpConfigs = platform === 'sev-snp' ? snpConfigurationFlags(flags, DEFAULT_SNP_SEARCH) : [];

  // 2. What this checkout builds.
  const outDir = flags.buildDir ?? mkdtempSync(join(tmpdir(), 'encumber-rebuild-'));
  if (!flags.buildDir) await runBuild(outDir, io);
  if (platform === 'sev-snp') return compareSnp(attested.MEASUREMENT!, outDir, snpConfigs, checks, io, flags.json);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
  } catch (e) {
    throw new UsageProblem(`no build manifest in ${outDir}: ${(e as Error).message}`);
  }
  const rebuilt = platform === 'nitro' ? manifest.eif.pcrs : manifest.devPcrs;
  checks.push({ name: 'rebuild', ok: true, detail: `${platform === 'nitro' ? 'encumber.eif' : 'bundle (dev PCRs)'} rebuilt in ${outDir}` });

  // 3. Check by check.
  let equal = true;
  for (const [k, value] of Object.entries(attested)) {
    const same = rebuilt[k] === value;
    equal &&= same;
    checks.push({ name: k, ok: same, detail: same ? `${value} (equal)` : `attested ${value}, rebuilt ${rebuilt[k] ?? '(none)'}` });
  }
  return finish(io, checks, equal, flags.json);
}

/** SEV-SNP: the launch measurement of the build, for each configuration tried, against the attested one. */
function compareSnp(attested: string, outDir: string, configs: SnpConfiguration[], checks: AttestationCheck[], io: CliIo, json?: boolean): number {
  const build = readSnpBuild(outDir);
  const i = build.inputs;
  checks.push({
    name: 'rebuild',
    ok: true,
    detail: `SEV-SNP image in ${outDir}: OVMF.fd ${i.ovmfSha256.slice(0, 16)}…, bzImage ${i.kernelSha256.slice(0, 16)}…, initramfs.cpio.gz ${i.initrdSha256.slice(0, 16)}…, cmdline ${JSON.stringify(i.cmdline)}`,
  });
  const matched = findSnpConfigurations(attested, build, configs);
  const equal = matched.length > 0;
  const tried = `${configs.length} configuration(s): ${summarize(configs)}`;
  checks.push({
    name: 'MEASUREMENT',
    ok: equal,
    detail: equal
      ? `${attested} (equal, launched as ${matched.map(describeConfiguration).join(' or ')})`
      : `attested ${attested} matches the rebuild in none of the ${tried}`,
  });
  const configuration = matched.map((c) => ({ vcpus: c.vcpus, cpu: c.cpu, vcpuSig: `0x${c.vcpuSig.toString(16)}`, guestFeatures: `0x${c.guestFeatures.toString(16)}` }));
  return finish(io, checks, equal, json, { configurations: configuration });
}

function summarize(configs: SnpConfiguration[]): string {
  const uniq = <T>(xs: T[]) => [...new Set(xs)];
  const vcpus = uniq(configs.map((c) => c.vcpus)).sort((a, b) => a - b);
  const range = vcpus.length > 2 && vcpus[vcpus.length - 1]! - vcpus[0]! === vcpus.length - 1 ? `${vcpus[0]}..${vcpus[vcpus.length - 1]}` : vcpus.join(', ');
  return `vCPUs ${range} × ${uniq(configs.map((c) => c.cpu)).join(', ')} × guest features ${uniq(configs.map((c) => `0x${c.guestFeatures.toString(16)}`)).join(', ')}`;
}

function finish(io: CliIo, checks: AttestationCheck[], equal: boolean, json?: boolean, extra: Record<string, unknown> = {}): number {
  if (json) io.out(JSON.stringify({ equal, checks, ...extra }));
  else {
    for (const c of checks) io.out(`${c.ok ? '  ok ' : ' FAIL'} ${c.name}: ${c.detail}`);
    io.out(equal ? 'the attested measurement equals this checkout\'s rebuild' : 'the attested measurement does NOT equal this checkout\'s rebuild');
  }
  return equal ? EXIT_OK : EXIT_INVALID;
}
