/** AMD SEV-SNP attestation reports: parse and verify (pure, browser-safe: WebCrypto, no node: imports). */
export { verifySnpReport, snpHex, type SnpAttestation, type SnpVerdict } from './verify.ts';
export type { SnpVerifyOptions, SnpCertificates, SnpCertSlot } from './options.ts';
export { parseSnpReport, type SnpReport, type SnpFirmwareVersion } from './report.ts';
export { decodeGuestPolicy, type SnpGuestPolicy, type SnpPlatformInfo, type SnpKeyType } from './bits.ts';
export { SNP_REPORT_BYTES, SNP_SIGNED_BYTES, SNP_SUPPORTED_VERSIONS } from './layout.ts';
export { SNP_PRODUCTS, productOfCpuid, decodeTcb, type SnpProduct, type TcbParts } from './products.ts';
export { SNP_ARK_SHA256, SNP_ROOT_PINS, type SnpRootPin } from './roots.ts';
export { snpReportData, SNP_REPORT_DATA_BYTES } from './report-data.ts';
export { clearSnpVerifyMemo } from './memo.ts';
