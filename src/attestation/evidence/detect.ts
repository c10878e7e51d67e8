/**
 * Which kind of evidence a blob is, from its first bytes: a COSE_Sign1
 * (Nitro or dev: CBOR array of 4, untagged 0x84 or tag 18 0xd2 0x84) or an
 * SEV-SNP report (version 2 to 5 in the first u32 LE, 1184 bytes or more).
 */
import { SNP_REPORT_BYTES } from './snp-cert-table.ts';

export type EvidenceKind = 'cose' | 'sev-snp' | 'unknown';

export function detectEvidence(bytes: Uint8Array): EvidenceKind {
  if (bytes.length >= 2 && (bytes[0] === 0x84 || (bytes[0] === 0xd2 && bytes[1] === 0x84))) return 'cose';
  if (bytes.length >= SNP_REPORT_BYTES) {
    const version = bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24);
    if (version >= 2 && version <= 5) return 'sev-snp';
  }
  return 'unknown';
}
