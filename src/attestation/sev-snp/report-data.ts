/**
 * encumber's SEV-SNP report_data (DESIGN.md "Binding and attestation"):
 * SHA-256(binding DAG-CBOR) ‖ SHA-256(nonce), 64 bytes. The enclave computes
 * it to request a report; a verifier recomputes it to check one.
 */
import { sha256 } from '@noble/hashes/sha2.js';

export const SNP_REPORT_DATA_BYTES = 64;

export function snpReportData(bindingBytes: Uint8Array, nonce: Uint8Array): Uint8Array {
  const out = new Uint8Array(SNP_REPORT_DATA_BYTES);
  out.set(sha256(bindingBytes), 0);
  out.set(sha256(nonce), 32);
  return out;
}
