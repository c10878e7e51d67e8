/**
 * The initial VMSA (VM save area, AMD APM vol. 2 table B-4, Linux struct
 * sev_es_save_area) of each vCPU as QEMU/KVM hand it to SNP_LAUNCH_UPDATE:
 * the x86 reset state, CS based so that the BSP starts at 0xfffffff0 and the
 * APs at the firmware's SEV-ES reset block address, RDX = CPUID signature,
 * SEV_FEATURES = the guest features. Everything not set here is zero.
 */
import { PAGE_SIZE } from './ovmf.ts';
import { SnpMeasureError } from './measure-errors.ts';

export const BSP_RESET_EIP = 0xffff_fff0;

/** Field offsets in the save area. */
const OFF = {
  es: 0x000, cs: 0x010, ss: 0x020, ds: 0x030, fs: 0x040, gs: 0x050, gdtr: 0x060, ldtr: 0x070, idtr: 0x080, tr: 0x090,
  efer: 0x0d0, cr4: 0x148, cr0: 0x158, dr7: 0x160, dr6: 0x168, rflags: 0x170, rip: 0x178,
  gPat: 0x268, rdx: 0x310, sevFeatures: 0x3b0, xcr0: 0x3e8, mxcsr: 0x408, x87Fcw: 0x410,
} as const;

export interface VmsaParams {
  eip: number;
  vcpuSig: number;
  guestFeatures: bigint;
}

/** One 4 KiB VMSA page for the QEMU VMM. */
export function qemuVmsaPage(p: VmsaParams): Uint8Array {
  if (!Number.isInteger(p.eip) || p.eip < 0 || p.eip > 0xffff_ffff) throw new SnpMeasureError('InvalidMeasureInput', `reset EIP ${p.eip} is not a 32-bit address`);
  const page = new Uint8Array(PAGE_SIZE);
  const v = new DataView(page.buffer);
  const u64 = (at: number, x: bigint | number) => v.setBigUint64(at, BigInt(x), true);
  // selector u16, attributes u16, limit u32, base u64
  const seg = (at: number, selector: number, attrib: number, limit: number, base: number) => {
    v.setUint16(at, selector, true);
    v.setUint16(at + 2, attrib, true);
    v.setUint32(at + 4, limit, true);
    u64(at + 8, base);
  };
  seg(OFF.es, 0, 0x93, 0xffff, 0);
  seg(OFF.cs, 0xf000, 0x9b, 0xffff, (p.eip & 0xffff_0000) >>> 0);
  seg(OFF.ss, 0, 0x93, 0xffff, 0);
  seg(OFF.ds, 0, 0x93, 0xffff, 0);
  seg(OFF.fs, 0, 0x93, 0xffff, 0);
  seg(OFF.gs, 0, 0x93, 0xffff, 0);
  seg(OFF.gdtr, 0, 0, 0xffff, 0);
  seg(OFF.ldtr, 0, 0x82, 0xffff, 0);
  seg(OFF.idtr, 0, 0, 0xffff, 0);
  seg(OFF.tr, 0, 0x8b, 0xffff, 0);
  u64(OFF.efer, 0x1000); // EFER.SVME, set by KVM
  u64(OFF.cr4, 0x40); // CR4.MCE, set by KVM
  u64(OFF.cr0, 0x10);
  u64(OFF.dr7, 0x400);
  u64(OFF.dr6, 0xffff0ff0);
  u64(OFF.rflags, 0x2);
  u64(OFF.rip, p.eip & 0xffff);
  u64(OFF.gPat, 0x0007040600070406n);
  u64(OFF.rdx, p.vcpuSig >>> 0);
  u64(OFF.sevFeatures, p.guestFeatures);
  u64(OFF.xcr0, 0x1);
  v.setUint32(OFF.mxcsr, 0x1f80, true); // x87/SSE reset state KVM writes into the VMSA
  v.setUint16(OFF.x87Fcw, 0x37f, true);
  return page;
}
