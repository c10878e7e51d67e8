/**
 * readEif: strict parse of an Enclave Image File, then the PCRs of what it
 * holds. The rules run in this order; the first failure throws
 * EncumberError('InvalidEvidence') whose `path` names the field:
 *
 *   1. header (header-rules.ts): ≥ 548 bytes, magic ".eif", version 2..4,
 *      flags 0/1, reserved and unused 0, 1..32 sections, table tail zero;
 *   2. layout: contiguous sections from byte 548, each section header's size
 *      equal to the table's, nothing after the last section;
 *   3. CRC-32 of the file without the CRC field equals eif_crc32;
 *   4. sections (section-rules.ts): flags 0, known types, in AWS's order
 *      kernel, cmdline, [metadata (v4)], ramdisk…, [signature (v3+)];
 *   5. content: cmdline UTF-8 without NUL, metadata a JSON object.
 *
 * Measurement takes the sections in file order, as AWS's EifReader does.
 */
import { EncumberError } from '../../../src/errors.ts';
import { FLAG_ARCH_AARCH64, HEADER_SIZE, MIB, decodeHeader } from './format.ts';
import { checkCrc, checkHeader, walkLayout } from './header-rules.ts';
import { invalid } from './invalid.ts';
import { computeEifPcrs, type EifPcrs } from './pcrs.ts';
import { checkOrder, parseCmdline, parseMetadata, typeSections, type EifSection } from './section-rules.ts';
import type { EifArch } from './write.ts';

export type { EifSection } from './section-rules.ts';

export interface EifHeaderInfo {
  version: number;
  flags: number;
  arch: EifArch;
  /** As stored (bytes). */
  defaultMem: bigint;
  /** defaultMem / 1 MiB (fractional if the file says so). */
  defaultMemMiB: number;
  defaultCpus: bigint;
  sectionCount: number;
  crc32: number;
}

export interface ReadEif {
  header: EifHeaderInfo;
  sections: EifSection[];
  kernel: Uint8Array;
  cmdline: string;
  ramdisks: Uint8Array[];
  /** Parsed metadata JSON, when the file has a metadata section (not measured). */
  metadata?: object;
  /** The signature section's raw bytes (CBOR), when present: kept, not verified, not measured (PCR8 is not computed). */
  signature?: Uint8Array;
  pcrs: EifPcrs;
}

export function readEif(bytes: Uint8Array): ReadEif {
  if (!(bytes instanceof Uint8Array)) throw new EncumberError('UsageError', 'readEif: expected bytes');
  if (bytes.length < HEADER_SIZE) {
    invalid('header', `truncated: ${bytes.length} bytes, the header alone is ${HEADER_SIZE}`, { expected: HEADER_SIZE, actual: bytes.length });
  }
  const h = decodeHeader(bytes);
  checkHeader(h);
  const walked = walkLayout(bytes, h);
  checkCrc(bytes, h);
  const sections = typeSections(bytes, walked);
  checkOrder(sections, h.version);

  const data = (s: EifSection): Uint8Array => bytes.slice(s.dataOffset, s.dataOffset + s.size);
  const kernel = data(sections[0]!);
  const cmdlineBytes = data(sections[1]!);
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
    cmdline: parseCmdline(cmdlineBytes, 1),
    ramdisks,
    pcrs: computeEifPcrs(kernel, cmdlineBytes, ramdisks),
  };
  const meta = sections.find((s) => s.type === 'metadata');
  if (meta) out.metadata = parseMetadata(data(meta), meta.index);
  const sig = sections.find((s) => s.type === 'signature');
  if (sig) out.signature = data(sig);
  return out;
}
