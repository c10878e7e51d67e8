/**
 * Launch configurations (vCPU count, vCPU model, guest features) and finding
 * which one a reported MEASUREMENT belongs to. An SNP report does not say how
 * many vCPUs the guest has or which model QEMU presented, so a verifier that
 * does not know them tries the supported ones: the firmware pages are hashed
 * once (ovmfHash) and each candidate costs only its metadata and VMSA pages.
 */
import { toHex } from '../../crypto/encoding.ts';
import { CPU_SIGNATURES, SUPPORTED_CPUS, cpuSignatureOf } from './cpu-models.ts';
import { snpLaunchMeasurement } from './measure.ts';
import type { SevHashesInputs } from './hashes-table.ts';
import type { OvmfLayout } from './ovmf.ts';

export interface SnpConfiguration {
  vcpus: number;
  cpu: string;
  vcpuSig: number;
  guestFeatures: bigint;
}

/** What is searched when the configuration is not given: every supported model, 1–64 vCPUs, SNPActive alone or with DebugSwap. */
export const DEFAULT_SNP_SEARCH = {
  vcpus: Array.from({ length: 64 }, (_, i) => i + 1),
  cpus: [...SUPPORTED_CPUS] as string[],
  guestFeatures: [0x1n, 0x21n],
};

export function snpConfigurations(o: { vcpus?: readonly number[]; cpus?: readonly string[]; guestFeatures?: readonly bigint[] } = {}): SnpConfiguration[] {
  const out: SnpConfiguration[] = [];
  for (const cpu of o.cpus ?? DEFAULT_SNP_SEARCH.cpus) {
    const vcpuSig = cpuSignatureOf(cpu);
    for (const guestFeatures of o.guestFeatures ?? DEFAULT_SNP_SEARCH.guestFeatures) {
      for (const vcpus of o.vcpus ?? DEFAULT_SNP_SEARCH.vcpus) out.push({ vcpus, cpu: canonicalCpu(cpu), vcpuSig, guestFeatures });
    }
  }
  return out;
}

function canonicalCpu(cpu: string): string {
  return Object.keys(CPU_SIGNATURES).find((k) => k.toLowerCase() === cpu.toLowerCase()) ?? cpu;
}

export interface SnpImage {
  firmware: OvmfLayout;
  ovmfHash: Uint8Array;
  kernel?: SevHashesInputs;
}

export function measureConfiguration(image: SnpImage, c: SnpConfiguration): string {
  return toHex(snpLaunchMeasurement({ firmware: image.firmware, ovmfHash: image.ovmfHash, vcpus: c.vcpus, vcpuSig: c.vcpuSig, guestFeatures: c.guestFeatures, ...(image.kernel ? { kernel: image.kernel } : {}) }));
}

/** Every candidate whose launch digest equals measurement (hex), in candidate order. */
export function findSnpConfigurations(measurement: string, image: SnpImage, candidates: readonly SnpConfiguration[]): SnpConfiguration[] {
  const want = measurement.toLowerCase();
  return candidates.filter((c) => measureConfiguration(image, c) === want);
}

export function describeConfiguration(c: SnpConfiguration): string {
  return `${c.vcpus} × ${c.cpu} (sig 0x${c.vcpuSig.toString(16)}), guest features 0x${c.guestFeatures.toString(16)}`;
}
