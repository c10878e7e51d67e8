/**
 * Enclave Image File (AWS Nitro Enclaves): writer, strict reader, PCR0/1/2.
 * Format facts and their upstream sources are in format.ts and pcrs.ts.
 */
export { writeEif, type WriteEifInput, type WriteEifResult, type EifArch } from './write.ts';
export { readEif, type ReadEif, type EifHeaderInfo, type EifSection } from './read.ts';
export { describeEif, type EifDescription } from './describe.ts';
export { computeEifPcrs, extendFromZero, type EifPcrs } from './pcrs.ts';
export { eifIdentityMetadata, rfc3339FromEpoch, type EifIdentityInput } from './metadata.ts';
export { crc32, eifCrc } from './crc32.ts';
export { EIF_VERSION, HEADER_SIZE, SECTION_HEADER_SIZE, MAX_SECTIONS, type SectionType } from './format.ts';
