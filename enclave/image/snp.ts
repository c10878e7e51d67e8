/**
 * The SEV-SNP direct-boot set of the image and its published launch
 * measurements: OVMF.fd (AmdSev build, enclave/ovmf), bzImage,
 * initramfs.cpio.gz and the command line (cmdline-sev-snp.txt), measured with
 * src/attestation/sev-snp (the same code `encumber measure`, `rebuild
 * --compare` and the verification page use) for every published launch
 * configuration.
 *
 * Published configurations: 1, 2 and 4 vCPUs × the four EPYC vCPU models QEMU
 * offers for SEV-SNP (EPYC-v4, EPYC-Milan, EPYC-Genoa, EPYC-Turin) × guest
 * features 0x1 (SNPActive alone: what QEMU sets for an sev-snp-guest without
 * extra VMSA features). enclave/snp/launch.sh launches exactly one of them.
 */
import { createHash } from 'node:crypto';
import { toHex } from '../../src/crypto/encoding.ts';
import { measureConfiguration, ovmfHash, parseOvmf, snpConfigurations, SUPPORTED_CPUS, type SnpConfiguration } from '../../src/attestation/sev-snp/index.ts';

/** Direct boot on SEV-SNP: the dev command line plus the platform for /init (measured through the SEV hashes table). */
export const SNP_CMDLINE = 'console=ttyS0 panic=-1 loglevel=4 encumber.platform=sev-snp';

export const SNP_PUBLISHED = {
  vcpus: [1, 2, 4],
  cpus: [...SUPPORTED_CPUS] as string[],
  guestFeatures: [0x1n],
} as const;

export interface SnpMeasurementEntry {
  name: string;
  measurement: string;
  vcpus: number;
  cpu: string;
  vcpuSig: string;
  guestFeatures: string;
  inputs: { ovmfSha256: string; kernelSha256: string; initrdSha256: string; cmdline: string };
}

export interface SnpManifest {
  cmdline: string;
  ovmfSha256: string;
  kernelSha256: string;
  initrdSha256: string;
  /** The launch digest after the firmware pages (sev-snp-measure's snp:ovmf-hash). */
  ovmfHash: string;
  measurements: SnpMeasurementEntry[];
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

export function snpMeasurements(o: { ovmf: Uint8Array; bzImage: Uint8Array; initramfs: Uint8Array; cmdline: string; label: string; configurations?: SnpConfiguration[] }): SnpManifest {
  const firmware = parseOvmf(o.ovmf);
  const seed = ovmfHash(o.ovmf);
  const kernel = { kernel: { sha256: sha256(o.bzImage) }, initrd: { sha256: sha256(o.initramfs) }, cmdline: o.cmdline };
  const inputs = { ovmfSha256: toHex(sha256(o.ovmf)), kernelSha256: toHex(sha256(o.bzImage)), initrdSha256: toHex(sha256(o.initramfs)), cmdline: o.cmdline };
  const configs = o.configurations ?? snpConfigurations({ vcpus: SNP_PUBLISHED.vcpus, cpus: SNP_PUBLISHED.cpus, guestFeatures: SNP_PUBLISHED.guestFeatures });
  const measurements = configs.map((c) => ({
    name: `${o.label} SEV-SNP direct boot, ${c.vcpus} vCPU ${c.cpu}, guest features 0x${c.guestFeatures.toString(16)}`,
    measurement: measureConfiguration({ firmware, ovmfHash: seed, kernel }, c),
    vcpus: c.vcpus,
    cpu: c.cpu,
    vcpuSig: `0x${c.vcpuSig.toString(16)}`,
    guestFeatures: `0x${c.guestFeatures.toString(16)}`,
    inputs,
  }));
  return { ...inputs, ovmfHash: toHex(seed), measurements };
}
