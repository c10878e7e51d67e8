/**
 * The SEV-SNP ATTESTATION_REPORT layout (AMD SEV Secure Nested Paging Firmware
 * ABI Specification, pub. 56860, "ATTESTATION_REPORT Structure"): 1184 bytes,
 * little-endian, the ECDSA signature covering bytes 0x000..0x29F.
 *
 * Report versions: 2 (the original layout), 3 (ABI 1.55: CPUID family, model
 * and stepping at 0x188..0x18A), 4 (same layout as 3), 5 (ABI 1.58: launch
 * and current mitigation vectors at 0x1F8 and 0x200). Anything else is refused:
 * a newer version may give meaning to bytes we would otherwise ignore.
 */
export const SNP_REPORT_BYTES = 0x4a0;
/** The signature covers every byte before it. */
export const SNP_SIGNED_BYTES = 0x2a0;
export const SNP_SUPPORTED_VERSIONS: readonly number[] = [2, 3, 4, 5];

/** [start, end) of each field. */
export const F = {
  version: [0x000, 0x004],
  guestSvn: [0x004, 0x008],
  policy: [0x008, 0x010],
  familyId: [0x010, 0x020],
  imageId: [0x020, 0x030],
  vmpl: [0x030, 0x034],
  signatureAlgo: [0x034, 0x038],
  currentTcb: [0x038, 0x040],
  platformInfo: [0x040, 0x048],
  /** author_key_en (bit 0), mask_chip_key (bit 1), signing_key (bits 4:2). */
  signerInfo: [0x048, 0x04c],
  reportData: [0x050, 0x090],
  measurement: [0x090, 0x0c0],
  hostData: [0x0c0, 0x0e0],
  idKeyDigest: [0x0e0, 0x110],
  authorKeyDigest: [0x110, 0x140],
  reportId: [0x140, 0x160],
  reportIdMa: [0x160, 0x180],
  reportedTcb: [0x180, 0x188],
  /** v3+: CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (one byte each). */
  cpuid: [0x188, 0x18b],
  chipId: [0x1a0, 0x1e0],
  committedTcb: [0x1e0, 0x1e8],
  /** current build, minor, major (0x1E8..0x1EA); 0x1EB reserved. */
  currentVersion: [0x1e8, 0x1eb],
  /** committed build, minor, major (0x1EC..0x1EE); 0x1EF reserved. */
  committedVersion: [0x1ec, 0x1ef],
  launchTcb: [0x1f0, 0x1f8],
  /** v5+ */
  launchMitVector: [0x1f8, 0x200],
  currentMitVector: [0x200, 0x208],
  /** ECDSA P-384: R and S, 72 bytes each, little-endian; only the low 48 bytes may be non-zero. */
  signatureR: [0x2a0, 0x2e8],
  signatureS: [0x2e8, 0x330],
} as const satisfies Record<string, readonly [number, number]>;

/** P-384 scalars are 48 bytes; the upper 24 of each 72-byte field are zero. */
export const ECDSA_SCALAR_BYTES = 48;

/**
 * Ranges that must be zero, by version. Inside the signed part they are
 * reserved by the ABI; after the signature (0x330..0x49F) they are not
 * signed at all, so requiring zero there keeps one report from having
 * several byte forms that all verify.
 */
export function reservedRanges(version: number): Array<readonly [number, number]> {
  return [
    [0x04c, 0x050],
    version >= 3 ? [0x18b, 0x1a0] : [0x188, 0x1a0],
    [0x1eb, 0x1ec],
    [0x1ef, 0x1f0],
    version >= 5 ? [0x208, SNP_SIGNED_BYTES] : [0x1f8, SNP_SIGNED_BYTES],
    [0x330, SNP_REPORT_BYTES],
  ];
}

/** Field path for an offset, for error messages: 'reserved[0x4c..0x50)' style. */
export const hex = (n: number): string => `0x${n.toString(16)}`;
export const rangePath = ([a, b]: readonly [number, number]): string => `reserved[${hex(a)}..${hex(b)})`;
