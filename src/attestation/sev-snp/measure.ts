/**
 * The SEV-SNP launch measurement of a QEMU direct-boot guest, as the AMD
 * secure processor computes it while QEMU loads the guest (the same sequence
 * as the reference calculator, virtee/sev-snp-measure, in QEMU mode):
 *
 *   1. the firmware image, page by page, as NORMAL pages, mapped to end at 4 GiB
 *      (the digest after this step is the "OVMF hash");
 *   2. each SEV metadata section of the firmware, in order:
 *        SNP_SEC_MEM, SVSM_CAA  → ZERO pages
 *        SNP_SECRETS            → a SECRETS page
 *        CPUID                  → a CPUID page
 *        SNP_KERNEL_HASHES      → with a kernel: the 4 KiB page holding QEMU's SEV hashes
 *                                 table (kernel, initrd, cmdline) as a NORMAL page;
 *                                 without one: ZERO pages
 *   3. one VMSA page per vCPU: the BSP at 0xfffffff0, every AP at the firmware's
 *      SEV-ES reset block address.
 *
 * Pure and browser-safe: bytes in, 48 bytes out.
 */
import { sha384 } from '@noble/hashes/sha2.js';
import { LaunchDigest, PAGE_TYPE, VMSA_GPA } from './launch-digest.ts';
import { SnpMeasureError } from './measure-errors.ts';
import { PAGE_SIZE, parseOvmf, type OvmfLayout } from './ovmf.ts';
import { sevHashesPage, sevHashesTable, type SevHashesInputs } from './hashes-table.ts';
import { BSP_RESET_EIP, qemuVmsaPage } from './vmsa.ts';
import { cpuSignatureOf } from './cpu-models.ts';

export const MAX_VCPUS = 512;

export interface SnpMeasureParams {
  /** The OVMF image, or its parsed layout when ovmfHash stands in for its pages. */
  firmware: Uint8Array | OvmfLayout;
  /** The digest after the firmware pages (ovmfHash()), to skip hashing them again. */
  ovmfHash?: Uint8Array;
  vcpus: number;
  /** A QEMU model name (EPYC-v4, EPYC-Milan, EPYC-Genoa, EPYC-Turin, …), or give vcpuSig. */
  cpu?: string;
  /** CPUID Fn0000_0001_EAX of the vCPU model. */
  vcpuSig?: number;
  /** SEV_FEATURES of every VMSA; bit 0 (SNPActive) must be set. Default 0x1. */
  guestFeatures?: bigint | number;
  /** Direct boot: kernel, initrd and command line, measured through the SEV hashes table. */
  kernel?: SevHashesInputs;
  /** The VMM whose reset state is measured; only QEMU is supported. */
  vmm?: 'qemu';
}

/** The launch digest after the firmware pages only. */
export function ovmfHash(firmware: Uint8Array): Uint8Array {
  const layout = parseOvmf(firmware);
  const ld = new LaunchDigest();
  ld.normalPages(layout.gpa, firmware);
  return ld.digest();
}

function checkParams(p: SnpMeasureParams): { vcpuSig: number; guestFeatures: bigint } {
  if (p.vmm !== undefined && p.vmm !== 'qemu') throw new SnpMeasureError('InvalidMeasureInput', `VMM ${String(p.vmm)} is not supported`, 'qemu', p.vmm);
  if (!Number.isInteger(p.vcpus) || p.vcpus < 1 || p.vcpus > MAX_VCPUS) throw new SnpMeasureError('InvalidMeasureInput', `vcpus must be an integer 1..${MAX_VCPUS}`, `1..${MAX_VCPUS}`, p.vcpus);
  if ((p.cpu === undefined) === (p.vcpuSig === undefined)) throw new SnpMeasureError('InvalidMeasureInput', 'give exactly one of cpu and vcpuSig');
  const vcpuSig = p.vcpuSig ?? cpuSignatureOf(p.cpu!);
  if (!Number.isInteger(vcpuSig) || vcpuSig < 0 || vcpuSig > 0xffff_ffff) throw new SnpMeasureError('InvalidMeasureInput', `vcpuSig ${vcpuSig} is not a 32-bit value`);
  let guestFeatures: bigint;
  try {
    guestFeatures = BigInt(p.guestFeatures ?? 1);
  } catch {
    throw new SnpMeasureError('InvalidMeasureInput', `guestFeatures ${String(p.guestFeatures)} is not an integer`);
  }
  if (guestFeatures < 0n || guestFeatures >= 1n << 64n || (guestFeatures & 1n) === 0n) {
    throw new SnpMeasureError('InvalidMeasureInput', `guestFeatures 0x${guestFeatures.toString(16)} must be a 64-bit value with bit 0 (SNPActive) set`);
  }
  return { vcpuSig, guestFeatures };
}

export function snpLaunchMeasurement(p: SnpMeasureParams): Uint8Array {
  const { vcpuSig, guestFeatures } = checkParams(p);
  const bytes = p.firmware instanceof Uint8Array ? p.firmware : undefined;
  const ovmf = bytes ? parseOvmf(bytes) : (p.firmware as OvmfLayout);

  // 1. Firmware pages (or the digest they give).
  let ld: LaunchDigest;
  if (p.ovmfHash) ld = new LaunchDigest(p.ovmfHash);
  else if (bytes) {
    ld = new LaunchDigest();
    ld.normalPages(ovmf.gpa, bytes);
  } else throw new SnpMeasureError('InvalidMeasureInput', 'a parsed firmware layout needs ovmfHash (its pages are not there to hash)');

  // 2. SEV metadata sections, in firmware order.
  if (p.kernel && !ovmf.sections.some((s) => s.kind === 'SNP_KERNEL_HASHES')) {
    throw new SnpMeasureError('KernelHashesUnsupported', 'a kernel was given but the firmware has no SNP_KERNEL_HASHES section (build OVMF from OvmfPkg/AmdSev/AmdSevX64.dsc)');
  }
  for (const s of ovmf.sections) {
    switch (s.kind) {
      case 'SNP_SEC_MEM':
      case 'SVSM_CAA':
        ld.zeroPages(s.gpa, s.size);
        break;
      case 'SNP_SECRETS':
        ld.secretsPage(s.gpa);
        break;
      case 'CPUID':
        ld.cpuidPage(s.gpa);
        break;
      case 'SNP_KERNEL_HASHES':
        if (!p.kernel) {
          ld.zeroPages(s.gpa, s.size);
          break;
        }
        if (ovmf.hashesTableGpa === undefined) throw new SnpMeasureError('FirmwareEntryMissing', 'the firmware has a kernel-hashes section but no SEV hash table entry (7255371f-…)');
        if (s.size !== PAGE_SIZE) throw new SnpMeasureError('SevMetadataInvalid', `the kernel-hashes section is ${s.size} bytes, expected one page`, PAGE_SIZE, s.size);
        ld.normalPages(s.gpa, sevHashesPage(sevHashesTable(p.kernel), ovmf.hashesTableGpa & (PAGE_SIZE - 1)));
        break;
    }
  }

  // 3. One VMSA per vCPU (every AP's page is the same: hash it once).
  ld.vmsaPage(qemuVmsaPage({ eip: BSP_RESET_EIP, vcpuSig, guestFeatures }));
  if (p.vcpus > 1) {
    const ap = sha384(qemuVmsaPage({ eip: ovmf.apResetEip, vcpuSig, guestFeatures }));
    for (let i = 1; i < p.vcpus; i++) ld.update(PAGE_TYPE.VMSA, VMSA_GPA, ap);
  }
  return ld.digest();
}
