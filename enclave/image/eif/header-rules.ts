/**
 * Reader rules 1–3: the header, the layout it describes, the CRC. Nothing
 * here looks inside a section's data.
 */
import { eifCrc } from './crc32.ts';
import {
  EIF_MAGIC,
  FLAG_ARCH_AARCH64,
  HEADER_SIZE,
  MAX_SECTIONS,
  SECTION_HEADER_SIZE,
  decodeSectionHeader,
  type RawHeader,
} from './format.ts';
import { hex32, invalid } from './invalid.ts';

/** 1. At least 548 bytes (checked by the caller), magic, version 2..4, flags, zero fields, count, zero table tail. */
export function checkHeader(h: RawHeader): void {
  if (!EIF_MAGIC.every((b, i) => h.magic[i] === b)) {
    invalid('header.magic', 'not ".eif"', { expected: '2e656966', actual: Buffer.from(h.magic).toString('hex') });
  }
  // Version 2 introduced the CRC, 3 the signature section, 4 the metadata section.
  if (h.version < 2 || h.version > 4) invalid('header.version', 'unsupported version', { expected: '2..4', actual: h.version });
  if ((h.flags & ~FLAG_ARCH_AARCH64) !== 0) invalid('header.flags', 'unknown flag bits', { expected: '0 or 1', actual: h.flags });
  if (h.reserved !== 0) invalid('header.reserved', 'must be 0', { expected: 0, actual: h.reserved });
  if (h.unused !== 0) invalid('header.unused', 'must be 0', { expected: 0, actual: h.unused });
  if (h.sectionCount < 1 || h.sectionCount > MAX_SECTIONS) {
    invalid('header.section_cnt', `expected 1..${MAX_SECTIONS}`, { actual: h.sectionCount });
  }
  for (let i = h.sectionCount; i < MAX_SECTIONS; i++) {
    if (h.sectionOffsets[i] !== 0n || h.sectionSizes[i] !== 0n) {
      invalid(`header.section_offsets[${i}]`, 'unused table slot is not zero', { index: i });
    }
  }
}

/**
 * 2. Section i's header is at the table's offset, which is where section i-1
 * ended (the first right after the header); the section header's size equals
 * the table's; the file ends exactly after the last section.
 */
export function walkLayout(bytes: Uint8Array, h: RawHeader): Array<{ offset: number; size: number }> {
  const fileLength = BigInt(bytes.length);
  const out: Array<{ offset: number; size: number }> = [];
  let expected = BigInt(HEADER_SIZE);
  for (let i = 0; i < h.sectionCount; i++) {
    const offset = h.sectionOffsets[i]!;
    const size = h.sectionSizes[i]!;
    if (offset !== expected) {
      invalid(`header.section_offsets[${i}]`, 'section does not start where the previous one ends', {
        index: i,
        expected: expected.toString(),
        actual: offset.toString(),
      });
    }
    if (offset + BigInt(SECTION_HEADER_SIZE) > fileLength) {
      invalid(`sections[${i}]`, 'truncated: section header past the end of the file', { index: i });
    }
    const sh = decodeSectionHeader(bytes, Number(offset));
    if (sh.size !== size) {
      invalid(`sections[${i}].section_size`, 'differs from the header table', { index: i, expected: size.toString(), actual: sh.size.toString() });
    }
    const end = offset + BigInt(SECTION_HEADER_SIZE) + size;
    if (end > fileLength) {
      invalid(`sections[${i}]`, 'truncated: section data past the end of the file', { index: i, expected: end.toString(), actual: bytes.length });
    }
    out.push({ offset: Number(offset), size: Number(size) });
    expected = end;
  }
  if (expected !== fileLength) invalid('sections', 'bytes after the last section', { expected: expected.toString(), actual: bytes.length });
  return out;
}

/** 3. CRC-32 over the whole file except the CRC field. */
export function checkCrc(bytes: Uint8Array, h: RawHeader): void {
  const crc = eifCrc(bytes);
  if (crc !== h.crc32) invalid('header.eif_crc32', 'CRC mismatch', { expected: hex32(crc), actual: hex32(h.crc32) });
}
