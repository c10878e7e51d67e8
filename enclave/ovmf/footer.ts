/**
 * The structural check of an OVMF image for SEV-SNP direct boot: pure, bytes
 * in, sections out. Layout from OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm
 * and X64/OvmfSevMetadata.asm (the same walk QEMU does in
 * pc_system_parse_ovmf_flash):
 *
 *   end - 0x30  table footer GUID 96b582de-1fb2-45f7-baea-a366c55a082d
 *   end - 0x32  u16 length of the whole GUIDed table (footer entry included)
 *   entries, walked backwards from the footer: data, u16 length (data start
 *   to GUID end), GUID
 *
 * The SEV metadata entry (dc886566-984a-4798-a75e-5585a7bf67cc) holds a u32:
 * the metadata starts that many bytes before the end of the image, as
 * "ASEV", u32 length, u32 version, u32 count, then count × {u32 base, u32
 * size, u32 type}. Type 0x10 is the SNP kernel hashes page: only an
 * AmdSevX64 build has it. This is a sanity check of the build, not the
 * launch-measurement code (src/attestation/sev-snp/).
 */
import { OvmfError } from './errors.ts';

export const FOOTER_GUID = '96b582de-1fb2-45f7-baea-a366c55a082d';
export const SEV_METADATA_GUID = 'dc886566-984a-4798-a75e-5585a7bf67cc';
export const SECTION_SNP_KERNEL_HASHES = 0x10;

export interface SevSection {
  base: number;
  size: number;
  type: number;
}

/** GUID text → its 16 bytes as stored (first three fields little-endian). */
export function guidBytes(guid: string): Uint8Array {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError(`not a GUID: ${guid}`);
  const b = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  return Uint8Array.from([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8)]);
}

/** 16 stored bytes → GUID text (lower case). */
export function guidText(b: Uint8Array): string {
  const h = (i: number[]) => i.map((k) => b[k]!.toString(16).padStart(2, '0')).join('');
  return [h([3, 2, 1, 0]), h([5, 4]), h([7, 6]), h([8, 9]), h([10, 11, 12, 13, 14, 15])].join('-');
}

/** The GUIDed table at the end of the image: GUID → data (the footer entry itself left out). */
export function readGuidedTable(fd: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(fd.buffer, fd.byteOffset, fd.byteLength);
  const footerAt = fd.length - 0x30;
  if (footerAt < 2 || guidText(fd.subarray(footerAt, footerAt + 16)) !== FOOTER_GUID) {
    throw new OvmfError('NoFooterTable', `no OVMF table footer GUID ${FOOTER_GUID} at end - 0x30`);
  }
  // The table ends where the footer entry (u16 length + GUID) begins.
  const tableEnd = footerAt - 2;
  const total = view.getUint16(tableEnd, true);
  const start = footerAt + 16 - total;
  if (total < 18 || start < 0) throw new OvmfError('BadFooterTable', `OVMF table length ${total} does not fit the image`, '18 … image size', String(total));
  const out = new Map<string, Uint8Array>();
  for (let end = tableEnd; end > start; ) {
    if (end - 18 < start) throw new OvmfError('BadFooterTable', `OVMF table entry ending at 0x${end.toString(16)} runs before the table start`);
    const guid = guidText(fd.subarray(end - 16, end));
    const len = view.getUint16(end - 18, true);
    if (len < 18 || end - len < start) throw new OvmfError('BadFooterTable', `OVMF table entry ${guid} has length ${len}`, `18 … ${end - start}`, String(len));
    out.set(guid, fd.subarray(end - len, end - 18));
    end -= len;
  }
  return out;
}

/** The SEV metadata sections the image declares. */
export function readSevMetadata(fd: Uint8Array): SevSection[] {
  const entry = readGuidedTable(fd).get(SEV_METADATA_GUID);
  if (!entry) throw new OvmfError('NoSevMetadata', `the OVMF table has no SEV metadata entry ${SEV_METADATA_GUID} (not an AmdSev/OvmfX64 build)`);
  if (entry.length < 4) throw new OvmfError('BadSevMetadata', `the SEV metadata entry has ${entry.length} data bytes`, '4', String(entry.length));
  const view = new DataView(fd.buffer, fd.byteOffset, fd.byteLength);
  const at = fd.length - new DataView(entry.buffer, entry.byteOffset, 4).getUint32(0, true);
  if (at < 0 || at + 16 > fd.length) throw new OvmfError('BadSevMetadata', `the SEV metadata offset points outside the image`);
  const sig = String.fromCharCode(...fd.subarray(at, at + 4));
  if (sig !== 'ASEV') throw new OvmfError('BadSevMetadata', `SEV metadata signature`, 'ASEV', JSON.stringify(sig));
  const length = view.getUint32(at + 4, true);
  const version = view.getUint32(at + 8, true);
  const count = view.getUint32(at + 12, true);
  if (version !== 1) throw new OvmfError('BadSevMetadata', `SEV metadata version`, '1', String(version));
  if (length !== 16 + 12 * count || at + length > fd.length) throw new OvmfError('BadSevMetadata', `SEV metadata length ${length} for ${count} sections`, String(16 + 12 * count), String(length));
  return Array.from({ length: count }, (_, i) => {
    const o = at + 16 + 12 * i;
    return { base: view.getUint32(o, true), size: view.getUint32(o + 4, true), type: view.getUint32(o + 8, true) };
  });
}

/** Checks that the image is an SNP direct-boot OVMF (footer table, SEV metadata, kernel hashes section); returns the sections. */
export function checkSnpDirectBoot(fd: Uint8Array): SevSection[] {
  const sections = readSevMetadata(fd);
  const hashes = sections.find((s) => s.type === SECTION_SNP_KERNEL_HASHES);
  if (!hashes || hashes.size === 0) {
    throw new OvmfError('NoKernelHashes', `the SEV metadata has no SNP kernel hashes section (type 0x10): not an OvmfPkg/AmdSev/AmdSevX64.dsc build`, 'type 0x10', sections.map((s) => `0x${s.type.toString(16)}`).join(','));
  }
  return sections;
}
