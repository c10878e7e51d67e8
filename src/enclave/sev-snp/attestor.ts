/**
 * The SEV-SNP attestor: report_data = SHA-256(binding DAG-CBOR) ‖ SHA-256(nonce)
 * (DESIGN.md), the report from configfs-tsm, and the certificates from the
 * auxblob, or else from a certificate table file the operator provides
 * (fetched from AMD KDS ahead of time; see docs/deploy-sev-snp.md).
 * Evidence = report ‖ certificate table.
 */
import { snpReportData } from '../../attestation/sev-snp/report-data.ts';
import { EncumberError } from '../../errors.ts';
import { joinSnpEvidence, SNP_REPORT_BYTES } from '../../attestation/evidence/snp-cert-table.ts';
import type { Attestor } from '../attestor.ts';
import { requestTsmReport, type TsmFs } from './tsm.ts';


export interface SnpAttestorOptions {
  root?: string;
  fs?: TsmFs;
  /** Certificate table (auxblob format) to use when the host supplies none. */
  fallbackCertTable?: Uint8Array;
  privlevel?: number;
}

export function snpAttestor(opts: SnpAttestorOptions = {}): Attestor {
  return {
    platform: 'sev-snp',
    attest: async (req) => {
      const { report, auxblob } = await requestTsmReport(snpReportData(req.bindingBytes, req.nonce), {
        ...(opts.root ? { root: opts.root } : {}),
        ...(opts.fs ? { fs: opts.fs } : {}),
        ...(opts.privlevel !== undefined ? { privlevel: opts.privlevel } : {}),
      });
      if (report.length !== SNP_REPORT_BYTES) {
        throw new EncumberError('InternalError', `configfs-tsm returned ${report.length} bytes, an SNP report is ${SNP_REPORT_BYTES}`);
      }
      const table = auxblob.length > 0 ? auxblob : opts.fallbackCertTable;
      if (!table) {
        throw new EncumberError('InternalError', 'no SNP certificates: the host supplied no auxblob and no --snp-certs table was given');
      }
      return joinSnpEvidence(report, table);
    },
  };
}
