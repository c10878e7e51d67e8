/**
 * writeEif: the EIF AWS's EifBuilder would write for the same inputs
 * (src/utils/mod.rs `write_to`): header, kernel, cmdline, metadata (when
 * given), ramdisks, in that file order and that section-table order; no
 * signature section (PCR8 signing is not done here). Pure and deterministic:
 * the output depends on the arguments only.
 */
import { EncumberError } from '../../../src/errors.ts';
import { eifCrc } from './crc32.ts';
import {
  CRC_OFFSET,
  EIF_VERSION,
  FLAG_ARCH_AARCH64,
  HEADER_SIZE,
  MAX_SECTIONS,
  MIB,
  SECTION_CODE,
  SECTION_HEADER_SIZE,
  encodeHeader,
  encodeSectionHeader,
  type SectionType,
} from './format.ts';
import { encodeMetadata } from './metadata.ts';
import { computeEifPcrs, type EifPcrs } from './pcrs.ts';

export type EifArch = 'x86_64' | 'aarch64';

export interface WriteEifInput {
  kernel: Uint8Array;
  cmdline: string;
  /** ramdisks[0] is the boot ramdisk (PCR1), the rest the application (PCR2). At least one. */
  ramdisks: readonly Uint8Array[];
  /** The metadata section's JSON (see eifIdentityMetadata); omitted → no metadata section. */
  metadata?: object;
  /** Default 1024 (AWS's 1 GiB); stored in the header in bytes. */
  defaultMemMiB?: number;
  /** Default 2 (AWS's default). */
  defaultCpus?: number;
  /** Default x86_64 (header flags 0); aarch64 sets flag bit 0. */
  arch?: EifArch;
}

export interface WriteEifResult {
  bytes: Uint8Array;
  pcrs: EifPcrs;
}

function usage(path: string, message: string, actual?: unknown): never {
  throw new EncumberError('UsageError', `writeEif: ${path}: ${message}`, { path, actual });
}

function positiveInt(path: string, value: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) usage(path, `expected an integer in 1..${max}`, value);
  return value;
}

export function writeEif(input: WriteEifInput): WriteEifResult {
  // Inputs: checked before any byte is laid out.
  if (!(input.kernel instanceof Uint8Array) || input.kernel.length === 0) usage('kernel', 'expected non-empty bytes');
  if (typeof input.cmdline !== 'string') usage('cmdline', 'expected a string');
  if (input.cmdline.includes('\0')) usage('cmdline', 'must not contain NUL (AWS builds it as a C string)');
  if (!Array.isArray(input.ramdisks) || input.ramdisks.length === 0) usage('ramdisks', 'expected at least one ramdisk');
  input.ramdisks.forEach((r, i) => {
    if (!(r instanceof Uint8Array)) usage(`ramdisks[${i}]`, 'expected bytes');
  });
  const memMiB = positiveInt('defaultMemMiB', input.defaultMemMiB ?? 1024, 2 ** 43 - 1);
  const cpus = positiveInt('defaultCpus', input.defaultCpus ?? 2, 2 ** 16);
  const arch = input.arch ?? 'x86_64';
  if (arch !== 'x86_64' && arch !== 'aarch64') usage('arch', 'expected x86_64 or aarch64', arch);

  const cmdline = new TextEncoder().encode(input.cmdline);
  const sections: Array<{ type: SectionType; data: Uint8Array }> = [
    { type: 'kernel', data: input.kernel },
    { type: 'cmdline', data: cmdline },
  ];
  if (input.metadata !== undefined) sections.push({ type: 'metadata', data: encodeMetadata(input.metadata) });
  for (const r of input.ramdisks) sections.push({ type: 'ramdisk', data: r });
  if (sections.length > MAX_SECTIONS) usage('ramdisks', `at most ${MAX_SECTIONS} sections fit the header`, sections.length);

  // Layout: each section header directly after the previous section's data.
  const offsets: bigint[] = [];
  const sizes: bigint[] = [];
  let total = HEADER_SIZE;
  for (const s of sections) {
    offsets.push(BigInt(total));
    sizes.push(BigInt(s.data.length));
    total += SECTION_HEADER_SIZE + s.data.length;
  }

  const bytes = new Uint8Array(total);
  encodeHeader(
    {
      version: EIF_VERSION,
      flags: arch === 'aarch64' ? FLAG_ARCH_AARCH64 : 0,
      defaultMem: BigInt(memMiB) * BigInt(MIB),
      defaultCpus: BigInt(cpus),
      reserved: 0,
      sectionCount: sections.length,
      sectionOffsets: offsets,
      sectionSizes: sizes,
      unused: 0,
      crc32: 0,
    },
    bytes,
  );
  sections.forEach((s, i) => {
    const at = Number(offsets[i]);
    encodeSectionHeader(SECTION_CODE[s.type], s.data.length, bytes, at);
    bytes.set(s.data, at + SECTION_HEADER_SIZE);
  });

  // CRC over everything but the CRC field itself (the header's last 4 bytes).
  new DataView(bytes.buffer).setUint32(CRC_OFFSET, eifCrc(bytes));

  return { bytes, pcrs: computeEifPcrs(input.kernel, cmdline, input.ramdisks) };
}
