/**
 * readEif: strict parse of an Enclave Image File, then the PCRs of what it
 * holds. The rules run in this order and the first failure throws
 * EncumberError('InvalidEvidence') with `path` naming the field:
 *
 *   1. header: at least 548 bytes, magic ".eif", version 2..4 (CRC exists
 *      from 2), flags 0 or 1 (arch), reserved and unused 0, 1..32 sections,
 *      table slots past section_cnt all zero;
 *   2. layout: section i's header sits at the offset the table says, and that
 *      is where section i-1 ended (the first at 548); each section header's
 *      size equals the table's; the file ends exactly after the last section;
 *   3. CRC-32 of the file without the CRC field equals eif_crc32;
 *   4. sections: flags 0, known types, in AWS's order
 *      kernel, cmdline, [metadata (v4)], ramdisk…(≥ 1), [signature (v3+)];
 *   5. content: cmdline is UTF-8, metadata is a JSON object.
 *
 * Measurement walks the sections in file order, as AWS's EifReader does.
 */
import { EncumberError, type ErrorDetails } from '../../../src/errors.ts';
import { crc32Update } from './crc32.ts';
import {
  CRC_OFFSET,
  EIF_MAGIC,
  FLAG_ARCH_AARCH64,
  HEADER_SIZE,
  MAX_SECTIONS,
  MIB,
  SECTION_HEADER_SIZE,
  SECTION_TYPES,
  decodeHeader,
  decodeSectionHeader,
  type SectionType,
} from './format.ts';
import { computeEifPcrs, type EifPcrs } from './pcrs.ts';
import type { EifArch } from './write.ts';

export interface EifHeaderInfo {
  version: number;
  flags: number;
  arch: EifArch;
  /** As stored (bytes). */
  defaultMem: bigint;
  /** defaultMem / 1 MiB (may be fractional if the file says so). */
  defaultMemMiB: number;
  defaultCpus: bigint;
  sectionCount: number;
  crc32: number;
}

export interface EifSection {
  index: number;
  type: SectionType;
  /** File offset of the section header. */
  offset: number;
  /** File offset of the data (offset + 12). */
  dataOffset: number;
  /** Data size, header excluded. */
  size: number;
}

export interface ReadEif {
  header: EifHeaderInfo;
  sections: EifSection[];
  kernel: Uint8Array;
  cmdline: string;
  ramdisks: Uint8Array[];
  /** Parsed metadata JSON, when the file has a metadata section. */
  metadata?: unknown;
  /** The signature section's raw bytes (CBOR), when present; not verified here. */
  signature?: Uint8Array;
  pcrs: EifPcrs;
}

function invalid(path: string, message: string, details: ErrorDetails = {}): never {
  throw new EncumberError('InvalidEvidence', `EIF ${path}: ${message}`, { path, ...details });
}

export function readEif(bytes: Uint8Array): ReadEif {
  if (!(bytes instanceof Uint8Array)) throw new EncumberError('UsageError', 'readEif: expected bytes');

  // 1. Header.
  if (bytes.length < HEADER_SIZE) {
    invalid('header', `truncated: ${bytes.length} bytes, the header alone is ${HEADER_SIZE}`, {
      expected: HEADER_SIZE,
      actual: bytes.length,
    });
  }
  const h = decodeHeader(bytes);
  if (!EIF_MAGIC.every((b, i) => h.magic[i] === b)) {
    invalid('header.magic', 'not ".eif"', { expected: '2e656966', actual: Buffer.from(h.magic).toString('hex') });
  }
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

  // 2. Layout: contiguous sections, sizes agreeing, nothing after the last.
  const fileLength = BigInt(bytes.length);
  const walked: Array<{ offset: number; size: number }> = [];
  let expectedOffset = BigInt(HEADER_SIZE);
  for (let i = 0; i < h.sectionCount; i++) {
    const offset = h.sectionOffsets[i]!;
    const size = h.sectionSizes[i]!;
    if (offset !== expectedOffset) {
      invalid(`header.section_offsets[${i}]`, 'section does not start where the previous one ends', {
        index: i,
        expected: expectedOffset.toString(),
        actual: offset.toString(),
      });
    }
    if (offset + BigInt(SECTION_HEADER_SIZE) > fileLength) {
      invalid(`sections[${i}]`, 'truncated: section header past the end of the file', { index: i });
    }
    const at = Number(offset);
    const sh = decodeSectionHeader(bytes, at);
    if (sh.size !== size) {
      invalid(`sections[${i}].section_size`, 'differs from the header table', {
        index: i,
        expected: size.toString(),
        actual: sh.size.toString(),
      });
    }
    const end = offset + BigInt(SECTION_HEADER_SIZE) + size;
    if (end > fileLength) {
      invalid(`sections[${i}]`, 'truncated: section data past the end of the file', {
        index: i,
        expected: end.toString(),
        actual: bytes.length,
      });
    }
    walked.push({ offset: at, size: Number(size) });
    expectedOffset = end;
  }
  if (expectedOffset !== fileLength) {
    invalid('sections', 'bytes after the last section', { expected: expectedOffset.toString(), actual: bytes.length });
  }

  // 3. CRC of everything except the CRC field.
  const crc = crc32Update(crc32Update(0, bytes.subarray(0, CRC_OFFSET)), bytes.subarray(HEADER_SIZE));
  if (crc !== h.crc32) {
    invalid('header.eif_crc32', 'CRC mismatch', { expected: hex32(crc), actual: hex32(h.crc32) });
  }

  // 4. Section types, flags and order.
  const sections: EifSection[] = walked.map(({ offset, size }, index) => {
    const sh = decodeSectionHeader(bytes, offset);
    if (sh.flags !== 0) invalid(`sections[${index}].flags`, 'must be 0', { index, expected: 0, actual: sh.flags });
    const type = SECTION_TYPES[sh.typeCode];
    if (type === undefined || type === 'invalid') {
      invalid(`sections[${index}].section_type`, 'invalid or unknown section type', { index, actual: sh.typeCode });
    }
    return { index, type, offset, dataOffset: offset + SECTION_HEADER_SIZE, size };
  });
  checkOrder(sections, h.version);

  // 5. Content.
  const data = (s: EifSection): Uint8Array => bytes.slice(s.dataOffset, s.dataOffset + s.size);
  const kernel = data(sections[0]!);
  const cmdlineBytes = data(sections[1]!);
  let cmdline: string;
  try {
    cmdline = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(cmdlineBytes);
  } catch (cause) {
    invalid('sections[1]', 'cmdline is not UTF-8', { index: 1, cause });
  }
  if (cmdline.includes('\0')) invalid('sections[1]', 'cmdline contains NUL', { index: 1 });
  const ramdisks = sections.filter((s) => s.type === 'ramdisk').map(data);
  const out: ReadEif = {
    header: {
      version: h.version,
      flags: h.flags,
      arch: h.flags & FLAG_ARCH_AARCH64 ? 'aarch64' : 'x86_64',
      defaultMem: h.defaultMem,
      defaultMemMiB: Number(h.defaultMem) / MIB,
      defaultCpus: h.defaultCpus,
      sectionCount: h.sectionCount,
      crc32: h.crc32,
    },
    sections,
    kernel,
    cmdline,
    ramdisks,
    pcrs: computeEifPcrs(kernel, cmdlineBytes, ramdisks),
  };
  const meta = sections.find((s) => s.type === 'metadata');
  if (meta) out.metadata = parseMetadata(data(meta), meta.index);
  const sig = sections.find((s) => s.type === 'signature');
  if (sig) out.signature = data(sig);
  return out;
}

/** kernel, cmdline, [metadata (v4)], ramdisk+, [signature (v3+)]. */
function checkOrder(sections: readonly EifSection[], version: number): void {
  const at = (i: number, want: SectionType): void => {
    const got = sections[i]?.type;
    if (got !== want) invalid(`sections[${i}].section_type`, `expected ${want}`, { index: i, expected: want, actual: got ?? 'none' });
  };
  at(0, 'kernel');
  at(1, 'cmdline');
  let i = 2;
  if (sections[i]?.type === 'metadata') {
    if (version < 4) invalid(`sections[${i}]`, 'metadata section before version 4', { index: i, actual: version });
    i++;
  }
  at(i, 'ramdisk');
  while (sections[i]?.type === 'ramdisk') i++;
  if (sections[i]?.type === 'signature') {
    if (version < 3) invalid(`sections[${i}]`, 'signature section before version 3', { index: i, actual: version });
    i++;
  }
  if (i !== sections.length) {
    invalid(`sections[${i}].section_type`, 'out of order (kernel, cmdline, [metadata], ramdisk…, [signature])', {
      index: i,
      actual: sections[i]?.type,
    });
  }
}

function parseMetadata(raw: Uint8Array, index: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw));
  } catch (cause) {
    invalid(`sections[${index}]`, 'metadata is not UTF-8 JSON', { index, cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    invalid(`sections[${index}]`, 'metadata is not a JSON object', { index });
  }
  return value;
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
