/**
 * The Enclave Image File layout, as aws-nitro-enclaves-image-format defines it
 * (src/defs/mod.rs). Every integer is big-endian.
 *
 *   EifHeader (548 bytes)
 *     0   magic            [u8; 4] = ".eif"
 *     4   version          u16     (4 = current: 2 added the CRC, 3 the signature, 4 the metadata)
 *     6   flags            u16     (bit 0: aarch64; clear: x86_64)
 *     8   default_mem      u64     (bytes; AWS writes 1 GiB)
 *     16  default_cpus     u64     (AWS writes 2)
 *     24  reserved         u16
 *     26  section_cnt      u16     (≤ 32)
 *     28  section_offsets  [u64; 32]  (file offset of each section's header)
 *     284 section_sizes    [u64; 32]  (size of each section's data, header excluded)
 *     540 unused           u32
 *     544 eif_crc32        u32     (CRC-32/IEEE of the whole file except these 4 bytes)
 *   then per section: EifSectionHeader (12 bytes: type u16, flags u16, size u64) + data.
 *
 * This file holds the constants and the two header codecs; nothing here
 * decides whether a file is acceptable (read.ts does).
 */

export const EIF_MAGIC = new Uint8Array([0x2e, 0x65, 0x69, 0x66]); // ".eif"
export const EIF_VERSION = 4;
export const MAX_SECTIONS = 32;
export const HEADER_SIZE = 548;
export const SECTION_HEADER_SIZE = 12;
export const CRC_OFFSET = 544;
export const FLAG_ARCH_AARCH64 = 0x1;
export const MIB = 1024 * 1024;

export const OFFSETS = {
  magic: 0,
  version: 4,
  flags: 6,
  defaultMem: 8,
  defaultCpus: 16,
  reserved: 24,
  sectionCount: 26,
  sectionOffsets: 28,
  sectionSizes: 28 + 8 * MAX_SECTIONS,
  unused: 28 + 16 * MAX_SECTIONS,
  crc32: CRC_OFFSET,
} as const;

/** EifSectionType, in its Rust declaration order (the u16 on disk). */
export const SECTION_TYPES = ['invalid', 'kernel', 'cmdline', 'ramdisk', 'signature', 'metadata'] as const;
export type SectionType = (typeof SECTION_TYPES)[number];
export const SECTION_CODE: Record<SectionType, number> = {
  invalid: 0,
  kernel: 1,
  cmdline: 2,
  ramdisk: 3,
  signature: 4,
  metadata: 5,
};

export interface RawHeader {
  magic: Uint8Array;
  version: number;
  flags: number;
  defaultMem: bigint;
  defaultCpus: bigint;
  reserved: number;
  sectionCount: number;
  sectionOffsets: bigint[];
  sectionSizes: bigint[];
  unused: number;
  crc32: number;
}

export interface RawSectionHeader {
  typeCode: number;
  flags: number;
  size: bigint;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Write a header into `out[0..548)`; tables shorter than 32 are zero-filled. */
export function encodeHeader(h: Omit<RawHeader, 'magic'>, out: Uint8Array): void {
  const v = view(out);
  out.set(EIF_MAGIC, OFFSETS.magic);
  v.setUint16(OFFSETS.version, h.version);
  v.setUint16(OFFSETS.flags, h.flags);
  v.setBigUint64(OFFSETS.defaultMem, h.defaultMem);
  v.setBigUint64(OFFSETS.defaultCpus, h.defaultCpus);
  v.setUint16(OFFSETS.reserved, h.reserved);
  v.setUint16(OFFSETS.sectionCount, h.sectionCount);
  for (let i = 0; i < MAX_SECTIONS; i++) {
    v.setBigUint64(OFFSETS.sectionOffsets + 8 * i, h.sectionOffsets[i] ?? 0n);
    v.setBigUint64(OFFSETS.sectionSizes + 8 * i, h.sectionSizes[i] ?? 0n);
  }
  v.setUint32(OFFSETS.unused, h.unused);
  v.setUint32(OFFSETS.crc32, h.crc32);
}

/** Decode the 548 header bytes at the start of `bytes` (caller checked the length). */
export function decodeHeader(bytes: Uint8Array): RawHeader {
  const v = view(bytes);
  const sectionOffsets: bigint[] = [];
  const sectionSizes: bigint[] = [];
  for (let i = 0; i < MAX_SECTIONS; i++) {
    sectionOffsets.push(v.getBigUint64(OFFSETS.sectionOffsets + 8 * i));
    sectionSizes.push(v.getBigUint64(OFFSETS.sectionSizes + 8 * i));
  }
  return {
    magic: bytes.slice(0, 4),
    version: v.getUint16(OFFSETS.version),
    flags: v.getUint16(OFFSETS.flags),
    defaultMem: v.getBigUint64(OFFSETS.defaultMem),
    defaultCpus: v.getBigUint64(OFFSETS.defaultCpus),
    reserved: v.getUint16(OFFSETS.reserved),
    sectionCount: v.getUint16(OFFSETS.sectionCount),
    sectionOffsets,
    sectionSizes,
    unused: v.getUint32(OFFSETS.unused),
    crc32: v.getUint32(OFFSETS.crc32),
  };
}

export function encodeSectionHeader(typeCode: number, size: number, out: Uint8Array, at: number): void {
  const v = view(out);
  v.setUint16(at, typeCode);
  v.setUint16(at + 2, 0); // flags: always 0 (AWS writes 0, QEMU refuses anything else)
  v.setBigUint64(at + 4, BigInt(size));
}

export function decodeSectionHeader(bytes: Uint8Array, at: number): RawSectionHeader {
  const v = view(bytes);
  return { typeCode: v.getUint16(at), flags: v.getUint16(at + 2), size: v.getBigUint64(at + 4) };
}
