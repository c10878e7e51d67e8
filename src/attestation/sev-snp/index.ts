/** AMD SEV-SNP attestation reports: parse and verify (pure, browser-safe: WebCrypto, no node: imports). */
export { verifySnpReport, snpHex, type SnpAttestation, type SnpVerdict } from './verify.ts';
export type { SnpVerifyOptions, SnpCertificates, SnpCertSlot } from './options.ts';
export { parseSnpReport, type SnpReport, type SnpFirmwareVersion } from './report.ts';
export { decodeGuestPolicy, type SnpGuestPolicy, type SnpPlatformInfo, type SnpKeyType } from './bits.ts';
export { SNP_REPORT_BYTES, SNP_SIGNED_BYTES, SNP_SUPPORTED_VERSIONS } from './layout.ts';
export { SNP_PRODUCTS, productOfCpuid, decodeTcb, type SnpProduct, type TcbParts } from './products.ts';
export { SNP_TCB_FLOOR, floorsInForce, parseMinTcbSpec, type SnpMinTcb, type TcbMinimum, type Floor as SnpTcbFloor } from './tcb-floor.ts';
export { SNP_ARK_SHA256, SNP_ROOT_PINS, type SnpRootPin } from './roots.ts';
export { snpReportData, SNP_REPORT_DATA_BYTES } from './report-data.ts';
export { clearSnpVerifyMemo } from './memo.ts';
export { snpLaunchMeasurement, ovmfHash, MAX_VCPUS, type SnpMeasureParams } from './measure.ts';
export { parseOvmf, OVMF_GUIDS, SECTION_TYPES, PAGE_SIZE, type OvmfLayout, type SevSection, type SectionKind } from './ovmf.ts';
export { sevHashesTable, sevHashesPage, cmdlineSha256, SEV_HASHES_GUIDS, SEV_HASHES_TABLE_BYTES, type SevHashesInputs, type HashedInput } from './hashes-table.ts';
export { LaunchDigest, PAGE_TYPE, VMSA_GPA, LAUNCH_DIGEST_BYTES, type PageType } from './launch-digest.ts';
export { qemuVmsaPage, BSP_RESET_EIP } from './vmsa.ts';
export { CPU_SIGNATURES, SUPPORTED_CPUS, cpuSignature, cpuSignatureOf, type SupportedCpu } from './cpu-models.ts';
export { SnpMeasureError, type SnpMeasureErrorCode } from './measure-errors.ts';
export { snpConfigurations, measureConfiguration, findSnpConfigurations, describeConfiguration, DEFAULT_SNP_SEARCH, type SnpConfiguration, type SnpImage } from './configurations.ts';
