/**
 * Errors of the SEV-SNP launch-measurement calculation. The inputs are files
 * (firmware, kernel) a builder or verifier supplies, so every failure names
 * what was expected and what came, under a stable code that tests match on.
 */
export type SnpMeasureErrorCode =
  /** The firmware is empty or not a whole number of 4 KiB pages. */
  | 'FirmwareSize'
  /** No OVMF footer GUID table in the last 50 bytes of the firmware. */
  | 'FirmwareFooterMissing'
  /** The footer table, or an entry in it, is malformed. */
  | 'FirmwareTableInvalid'
  /** A footer-table entry the launch needs is absent (SEV metadata, SEV-ES reset block, hashes table). */
  | 'FirmwareEntryMissing'
  /** The SEV metadata ("ASEV") is absent, out of bounds or of another version. */
  | 'SevMetadataInvalid'
  /** A SEV metadata section of a type the calculation does not know. */
  | 'UnknownSectionType'
  /** A kernel was given but the firmware has no kernel-hashes section (not an AmdSev build). */
  | 'KernelHashesUnsupported'
  /** A parameter out of range: vCPU count, CPU model, signature, guest features, digest length. */
  | 'InvalidMeasureInput';

export class SnpMeasureError extends Error {
  constructor(
    readonly code: SnpMeasureErrorCode,
    message: string,
    readonly expected?: unknown,
    readonly actual?: unknown,
  ) {
    super(message);
    this.name = 'SnpMeasureError';
  }
}
