/**
 * describeEif: a JSON-ready summary of an EIF for `encumber rebuild --compare`
 * and humans, in the spirit of `nitro-cli describe-eif`. Parses strictly
 * (readEif), so a file that describes is a file that would load.
 */
import { readEif } from './read.ts';
import type { SectionType } from './format.ts';

export interface EifDescription {
  version: number;
  arch: 'x86_64' | 'aarch64';
  flags: number;
  defaultMemMiB: number;
  defaultCpus: string;
  totalSize: number;
  crc32: string;
  sections: Array<{ index: number; type: SectionType; offset: number; size: number }>;
  kernelSize: number;
  cmdline: string;
  ramdiskSizes: number[];
  metadata: unknown;
  signed: boolean;
  measurements: { HashAlgorithm: 'SHA384'; PCR0: string; PCR1: string; PCR2: string };
}

export function describeEif(bytes: Uint8Array): EifDescription {
  const eif = readEif(bytes);
  return {
    version: eif.header.version,
    arch: eif.header.arch,
    flags: eif.header.flags,
    defaultMemMiB: eif.header.defaultMemMiB,
    defaultCpus: eif.header.defaultCpus.toString(),
    totalSize: bytes.length,
    crc32: eif.header.crc32.toString(16).padStart(8, '0'),
    sections: eif.sections.map(({ index, type, offset, size }) => ({ index, type, offset, size })),
    kernelSize: eif.kernel.length,
    cmdline: eif.cmdline,
    ramdiskSizes: eif.ramdisks.map((r) => r.length),
    metadata: eif.metadata ?? null,
    signed: eif.signature !== undefined,
    measurements: { HashAlgorithm: 'SHA384', PCR0: eif.pcrs[0], PCR1: eif.pcrs[1], PCR2: eif.pcrs[2] },
  };
}
