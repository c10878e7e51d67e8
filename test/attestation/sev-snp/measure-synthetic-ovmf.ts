/**
 * A tiny OVMF-shaped firmware with a real footer GUID table and SEV metadata,
 * built by hand (Buffer writes, node:crypto) for the measurement unit tests
 * and the CLI tests, so they need neither the real build nor a Debian OVMF.
 * Also a reference chain of the SNP launch digest written out from the spec,
 * independent of src/attestation/sev-snp.
 */
import { createHash } from 'node:crypto';

export const GUID = {
  footer: '96b582de-1fb2-45f7-baea-a366c55a082d',
  metadata: 'dc886566-984a-4798-a75e-5585a7bf67cc',
  resetBlock: '00f771de-1a7e-4fcb-890e-68c77e2fb44e',
  hashTable: '7255371f-3a3b-4b04-927b-1da6efa8d454',
};

/** EFI byte order: the first three fields little-endian. */
export function guidLe(g: string): Buffer {
  const h = g.replace(/-/g, '');
  const b = Buffer.from(h, 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

export interface SyntheticSection {
  gpa: number;
  size: number;
  type: number;
}

export interface SyntheticOvmfOptions {
  pages?: number;
  sections?: SyntheticSection[];
  apEip?: number | null;
  hashesTableGpa?: number;
  footer?: boolean;
  metadataSignature?: string;
}

export const SYNTHETIC_AP_EIP = 0x80b004;
export const SYNTHETIC_SECTIONS: SyntheticSection[] = [
  { gpa: 0x800000, size: 0x2000, type: 1 }, // SNP_SEC_MEM, 2 pages
  { gpa: 0x802000, size: 0x1000, type: 2 }, // SECRETS
  { gpa: 0x803000, size: 0x1000, type: 3 }, // CPUID
  { gpa: 0x804000, size: 0x1000, type: 4 }, // SVSM_CAA
  { gpa: 0x805000, size: 0x1000, type: 0x10 }, // SNP_KERNEL_HASHES
];
export const SYNTHETIC_HASHES_GPA = 0x805c00;

/**
 * Firmware of `pages` pages filled with a byte pattern; at the end:
 *   ... [metadata entry][reset block entry][hash table entry][u16 size][footer GUID][32 bytes]
 * and the "ASEV" metadata 0x800 bytes before the end of the image.
 */
export function syntheticOvmf(o: SyntheticOvmfOptions = {}): Uint8Array {
  const pages = o.pages ?? 3;
  const fw = Buffer.alloc(pages * 4096);
  for (let i = 0; i < fw.length; i++) fw[i] = (i * 7 + (i >> 12)) & 0xff;
  const sections = o.sections ?? SYNTHETIC_SECTIONS;

  // SEV metadata, 0x800 bytes from the end.
  const metaAt = fw.length - 0x800;
  fw.write(o.metadataSignature ?? 'ASEV', metaAt, 'latin1');
  fw.writeUInt32LE(16 + 12 * sections.length, metaAt + 4);
  fw.writeUInt32LE(1, metaAt + 8);
  fw.writeUInt32LE(sections.length, metaAt + 12);
  sections.forEach((s, i) => {
    fw.writeUInt32LE(s.gpa, metaAt + 16 + 12 * i);
    fw.writeUInt32LE(s.size, metaAt + 20 + 12 * i);
    fw.writeUInt32LE(s.type, metaAt + 24 + 12 * i);
  });

  const entry = (data: Buffer, guid: string) => {
    const size = Buffer.alloc(2);
    size.writeUInt16LE(data.length + 18);
    return Buffer.concat([data, size, guidLe(guid)]);
  };
  const u32 = (x: number, extra = 0) => {
    const b = Buffer.alloc(4 + extra);
    b.writeUInt32LE(x);
    return b;
  };
  const entries = [entry(u32(0x800), GUID.metadata)];
  if (o.apEip !== null) entries.push(entry(u32(o.apEip ?? SYNTHETIC_AP_EIP), GUID.resetBlock));
  entries.push(entry(Buffer.concat([u32(o.hashesTableGpa ?? SYNTHETIC_HASHES_GPA), u32(0x400)]), GUID.hashTable));
  const table = Buffer.concat(entries);
  const footerAt = fw.length - 32 - 18;
  table.copy(fw, footerAt - table.length);
  fw.writeUInt16LE(table.length + 18, footerAt);
  (o.footer === false ? Buffer.alloc(16, 0xee) : guidLe(GUID.footer)).copy(fw, footerAt + 2);
  return new Uint8Array(fw);
}

/** The PAGE_INFO chain, written out from the ABI spec with node:crypto. */
export class ReferenceChain {
  ld: Buffer = Buffer.alloc(48);
  step(type: number, gpa: number, contents: Buffer): this {
    const info = Buffer.alloc(0x70);
    this.ld.copy(info, 0);
    contents.copy(info, 48);
    info.writeUInt16LE(0x70, 96);
    info.writeUInt8(type, 98);
    info.writeBigUInt64LE(BigInt(gpa), 104);
    this.ld = createHash('sha384').update(info).digest();
    return this;
  }
  normal(gpa: number, page: Uint8Array): this {
    return this.step(1, gpa, createHash('sha384').update(page).digest());
  }
  vmsa(page: Uint8Array): this {
    return this.step(2, 0xfffffffff000, createHash('sha384').update(page).digest());
  }
  zero(gpa: number): this {
    return this.step(3, gpa, Buffer.alloc(48));
  }
  secrets(gpa: number): this {
    return this.step(5, gpa, Buffer.alloc(48));
  }
  cpuid(gpa: number): this {
    return this.step(6, gpa, Buffer.alloc(48));
  }
}

/** A QEMU reset-state VMSA page, written out field by field (Linux struct sev_es_save_area offsets). */
export function referenceVmsa(eip: number, sig: number, features: bigint): Buffer {
  const p = Buffer.alloc(4096);
  const seg = (at: number, sel: number, attr: number, base: number) => {
    p.writeUInt16LE(sel, at);
    p.writeUInt16LE(attr, at + 2);
    p.writeUInt32LE(0xffff, at + 4);
    p.writeBigUInt64LE(BigInt(base), at + 8);
  };
  seg(0x00, 0, 0x93, 0); // es
  seg(0x10, 0xf000, 0x9b, eip - (eip % 0x10000)); // cs
  seg(0x20, 0, 0x93, 0); // ss
  seg(0x30, 0, 0x93, 0); // ds
  seg(0x40, 0, 0x93, 0); // fs
  seg(0x50, 0, 0x93, 0); // gs
  seg(0x60, 0, 0, 0); // gdtr
  seg(0x70, 0, 0x82, 0); // ldtr
  seg(0x80, 0, 0, 0); // idtr
  seg(0x90, 0, 0x8b, 0); // tr
  p.writeBigUInt64LE(0x1000n, 0xd0); // efer
  p.writeBigUInt64LE(0x40n, 0x148); // cr4
  p.writeBigUInt64LE(0x10n, 0x158); // cr0
  p.writeBigUInt64LE(0x400n, 0x160); // dr7
  p.writeBigUInt64LE(0xffff0ff0n, 0x168); // dr6
  p.writeBigUInt64LE(0x2n, 0x170); // rflags
  p.writeBigUInt64LE(BigInt(eip % 0x10000), 0x178); // rip
  p.writeBigUInt64LE(0x0007040600070406n, 0x268); // g_pat
  p.writeBigUInt64LE(BigInt(sig), 0x310); // rdx
  p.writeBigUInt64LE(features, 0x3b0); // sev_features
  p.writeBigUInt64LE(1n, 0x3e8); // xcr0
  p.writeUInt32LE(0x1f80, 0x408); // mxcsr
  p.writeUInt16LE(0x37f, 0x410); // x87 fcw
  return p;
}
