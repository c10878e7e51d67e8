/**
 * Size limits for Nitro-shaped attestation documents, checked before and
 * while parsing. Field limits follow AWS's "attestation document validation"
 * rules; the optional fields allow 1024 bytes (real documents carry user_data
 * over 512). A real document is under 5 KiB.
 */
export const NITRO_LIMITS = {
  /** Whole COSE_Sign1 input, checked before any parsing. */
  maxDocumentBytes: 16 * 1024,
  /** One DER certificate (cabundle entry or leaf). */
  maxCertificateBytes: 1024,
  /** cabundle entries: root, regional, zonal, instance for AWS; a few spare. */
  maxCabundle: 8,
  /** public_key, user_data, nonce. */
  maxOptionalFieldBytes: 1024,
  maxModuleIdLength: 256,
  /** PCR indices 0..31, at most 32 entries. */
  maxPcrs: 32,
  /** SHA-384 digests. */
  pcrBytes: 48,
  /** ES384 raw r‖s. */
  signatureBytes: 96,
} as const;
