/**
 * The parts of an OVMF image the SEV-SNP launch depends on, read from the
 * GUID table at its end (edk2 OvmfPkg/ResetVector, QEMU pc_system_ovmf_*):
 *
 *   ... entry data ‖ u16 size ‖ GUID ... ‖ u16 table size ‖ footer GUID ‖ 32 bytes (reset vector)
 *
 * Entries are read backwards from the footer; each size covers its own data,
 * size field and GUID. The SEV metadata entry gives the offset from the end of
 * the image of the "ASEV" header, followed by (gpa u32, size u32, type u32)
 * section descriptors. Pure: bytes in, a description out.
 */
import { guidBytes, guidEqual, guidString } from './guid.ts';
import { SnpMeasureError } from './measure-errors.ts';

export const PAGE_SIZE = 4096;
const FOUR_GIB = 0x1_0000_0000;

export const OVMF_GUIDS = {
  footerTable: '96b582de-1fb2-45f7-baea-a366c55a082d',
  sevMetadata: 'dc886566-984a-4798-a75e-5585a7bf67cc',
  sevEsResetBlock: '00f771de-1a7e-4fcb-890e-68c77e2fb44e',
  sevHashTable: '7255371f-3a3b-4b04-927b-1da6efa8d454',
} as const;

/** SEV metadata section types (OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm). */
export const SECTION_TYPES = {
  1: 'SNP_SEC_MEM',
  2: 'SNP_SECRETS',
  3: 'CPUID',
  4: 'SVSM_CAA',
  0x10: 'SNP_KERNEL_HASHES',
} as const;
export type SectionKind = (typeof SECTION_TYPES)[keyof typeof SECTION_TYPES];

export interface SevSection {
  gpa: number;
  size: number;
  kind: SectionKind;
}

export interface OvmfLayout {
  /** Image size in bytes (whole 4 KiB pages). */
  size: number;
  /** Where QEMU maps it: ending at 4 GiB. */
  gpa: number;
  /** Footer-table entries by GUID string (lowercase), data only. */
  entries: ReadonlyMap<string, Uint8Array>;
  /** SEV metadata sections, in image order (the order they are measured in). */
  sections: readonly SevSection[];
  /** The application processors' reset address (SEV-ES reset block). */
  apResetEip: number;
  /** Where the firmware expects QEMU's SEV hashes table, when it supports one (AmdSev builds). */
  hashesTableGpa?: number;
}

const u16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

const ENTRY_HEADER = 18; // u16 size + GUID
const FOOTER_GUID = guidBytes(OVMF_GUIDS.footerTable);

function footerTable(fw: Uint8Array): Map<string, Uint8Array> {
  const footerAt = fw.length - 32 - ENTRY_HEADER;
  if (footerAt < 0 || !guidEqual(fw, footerAt + 2, FOOTER_GUID)) {
    throw new SnpMeasureError('FirmwareFooterMissing', `no OVMF footer GUID table (${OVMF_GUIDS.footerTable}) 50 bytes before the end of the firmware`);
  }
  const tableSize = u16(fw, footerAt);
  if (tableSize < ENTRY_HEADER || tableSize - ENTRY_HEADER > footerAt) {
    throw new SnpMeasureError('FirmwareTableInvalid', `OVMF footer table size ${tableSize} is out of range`, `${ENTRY_HEADER}..${footerAt + ENTRY_HEADER}`, tableSize);
  }
  const start = footerAt - (tableSize - ENTRY_HEADER);
  const entries = new Map<string, Uint8Array>();
  let end = footerAt; // the current entry ends here
  while (end - start >= ENTRY_HEADER) {
    const size = u16(fw, end - ENTRY_HEADER);
    if (size < ENTRY_HEADER || size > end - start) {
      throw new SnpMeasureError('FirmwareTableInvalid', `OVMF footer table entry ending at ${end} has size ${size}`, `${ENTRY_HEADER}..${end - start}`, size);
    }
    entries.set(guidString(fw, end - 16), fw.subarray(end - size, end - ENTRY_HEADER));
    end -= size;
  }
  return entries;
}

function entryU32(entries: ReadonlyMap<string, Uint8Array>, guid: string, what: string): number | undefined {
  const data = entries.get(guid);
  if (data === undefined) return undefined;
  if (data.length < 4) throw new SnpMeasureError('FirmwareTableInvalid', `${what} entry holds ${data.length} bytes, expected at least 4`);
  return u32(data, 0);
}

function sevMetadata(fw: Uint8Array, offsetFromEnd: number): SevSection[] {
  const at = fw.length - offsetFromEnd;
  if (offsetFromEnd > fw.length || at + 16 > fw.length) throw new SnpMeasureError('SevMetadataInvalid', `SEV metadata offset ${offsetFromEnd} from the end is outside the ${fw.length}-byte firmware`);
  if (fw[at] !== 0x41 || fw[at + 1] !== 0x53 || fw[at + 2] !== 0x45 || fw[at + 3] !== 0x56) throw new SnpMeasureError('SevMetadataInvalid', 'SEV metadata header does not start with "ASEV"');
  const size = u32(fw, at + 4);
  const version = u32(fw, at + 8);
  const count = u32(fw, at + 12);
  if (version !== 1) throw new SnpMeasureError('SevMetadataInvalid', `SEV metadata version ${version}`, 1, version);
  if (size < 16 + 12 * count || at + size > fw.length) throw new SnpMeasureError('SevMetadataInvalid', `SEV metadata of ${size} bytes cannot hold ${count} sections inside the firmware`);
  const sections: SevSection[] = [];
  for (let i = 0; i < count; i++) {
    const d = at + 16 + 12 * i;
    const gpa = u32(fw, d);
    const len = u32(fw, d + 4);
    const type = u32(fw, d + 8);
    const kind = SECTION_TYPES[type as keyof typeof SECTION_TYPES];
    if (kind === undefined) throw new SnpMeasureError('UnknownSectionType', `SEV metadata section ${i} has type ${type}`, Object.keys(SECTION_TYPES).join(', '), type);
    if (gpa % PAGE_SIZE !== 0 || len === 0 || len % PAGE_SIZE !== 0) {
      throw new SnpMeasureError('SevMetadataInvalid', `SEV metadata section ${i} (${kind}) at 0x${gpa.toString(16)}, ${len} bytes, is not whole 4 KiB pages`);
    }
    sections.push({ gpa, size: len, kind });
  }
  return sections;
}

/** Reads the footer table and SEV metadata of an OVMF image (any size, whole 4 KiB pages). */
export function parseOvmf(fw: Uint8Array): OvmfLayout {
  if (fw.length === 0 || fw.length % PAGE_SIZE !== 0 || fw.length > FOUR_GIB) {
    throw new SnpMeasureError('FirmwareSize', `firmware is ${fw.length} bytes, expected a non-zero multiple of ${PAGE_SIZE}`, `multiple of ${PAGE_SIZE}`, fw.length);
  }
  const entries = footerTable(fw);
  const metaOffset = entryU32(entries, OVMF_GUIDS.sevMetadata, 'SEV metadata');
  if (metaOffset === undefined) throw new SnpMeasureError('FirmwareEntryMissing', `no SEV metadata entry (${OVMF_GUIDS.sevMetadata}) in the OVMF footer table: not an SEV-SNP capable firmware`);
  const apResetEip = entryU32(entries, OVMF_GUIDS.sevEsResetBlock, 'SEV-ES reset block');
  if (apResetEip === undefined) throw new SnpMeasureError('FirmwareEntryMissing', `no SEV-ES reset block entry (${OVMF_GUIDS.sevEsResetBlock}) in the OVMF footer table`);
  const hashesTableGpa = entryU32(entries, OVMF_GUIDS.sevHashTable, 'SEV hash table');
  return {
    size: fw.length,
    gpa: FOUR_GIB - fw.length,
    entries,
    sections: sevMetadata(fw, metaOffset),
    apResetEip,
    ...(hashesTableGpa ? { hashesTableGpa } : {}),
  };
}
