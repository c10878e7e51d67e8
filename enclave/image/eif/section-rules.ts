/**
 * Reader rules 4–5: what each section is, their order, and the two whose
 * content has a syntax (cmdline: UTF-8 without NUL; metadata: a JSON object).
 */
import { SECTION_HEADER_SIZE, SECTION_TYPES, decodeSectionHeader, type SectionType } from './format.ts';
import { invalid } from './invalid.ts';

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

/** 4a. Flags 0 (AWS writes 0, QEMU refuses others) and a known, valid type. */
export function typeSections(bytes: Uint8Array, walked: ReadonlyArray<{ offset: number; size: number }>): EifSection[] {
  return walked.map(({ offset, size }, index) => {
    const sh = decodeSectionHeader(bytes, offset);
    if (sh.flags !== 0) invalid(`sections[${index}].flags`, 'must be 0', { index, expected: 0, actual: sh.flags });
    const type = SECTION_TYPES[sh.typeCode];
    if (type === undefined || type === 'invalid') {
      invalid(`sections[${index}].section_type`, 'invalid or unknown section type', { index, actual: sh.typeCode });
    }
    return { index, type, offset, dataOffset: offset + SECTION_HEADER_SIZE, size };
  });
}

/** 4b. AWS's order: kernel, cmdline, [metadata (v4)], ramdisk… (≥ 1), [signature (v3+)]. */
export function checkOrder(sections: readonly EifSection[], version: number): void {
  const expect = (i: number, want: SectionType): void => {
    const got = sections[i]?.type;
    if (got !== want) invalid(`sections[${i}].section_type`, `expected ${want}`, { index: i, expected: want, actual: got ?? 'none' });
  };
  expect(0, 'kernel');
  expect(1, 'cmdline');
  let i = 2;
  if (sections[i]?.type === 'metadata') {
    if (version < 4) invalid(`sections[${i}]`, 'metadata section before version 4', { index: i, actual: version });
    i++;
  }
  expect(i, 'ramdisk');
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

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** 5a. The cmdline: UTF-8 (AWS builds it from a Rust String) without NUL (a C string). */
export function parseCmdline(raw: Uint8Array, index: number): string {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch (cause) {
    invalid(`sections[${index}]`, 'cmdline is not UTF-8', { index, cause });
  }
  if (text.includes('\0')) invalid(`sections[${index}]`, 'cmdline contains NUL', { index });
  return text;
}

/** 5b. The metadata: a JSON object (AWS: serde_json of EifIdentityInfo). */
export function parseMetadata(raw: Uint8Array, index: number): object {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(raw));
  } catch (cause) {
    invalid(`sections[${index}]`, 'metadata is not UTF-8 JSON', { index, cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    invalid(`sections[${index}]`, 'metadata is not a JSON object', { index });
  }
  return value;
}
