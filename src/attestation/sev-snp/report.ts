/**
 * Parse a 1184-byte SEV-SNP attestation report into typed fields, strictly:
 * known version, ECDSA P-384 signature algorithm, a signing key that exists,
 * reserved bits and bytes zero. Nothing here is trusted yet (the signature is
 * checked later); a bad value is InvalidEvidence naming the ABI field (`path`).
 */
import { reject } from '../checks.ts';
import { decodeGuestPolicy, decodePlatformInfo, POLICY_HIGHEST_KNOWN_BIT, POLICY_RESERVED_ONE_BIT, SIGNING_KEY } from './bits.ts';
import type { SnpGuestPolicy, SnpKeyType, SnpPlatformInfo } from './bits.ts';
import { ECDSA_SCALAR_BYTES, F, hex, rangePath, reservedRanges, SNP_REPORT_BYTES, SNP_SIGNED_BYTES, SNP_SUPPORTED_VERSIONS } from './layout.ts';

export interface SnpFirmwareVersion {
  major: number;
  minor: number;
  build: number;
}

export interface SnpReport {
  version: number;
  guestSvn: number;
  policy: SnpGuestPolicy;
  familyId: Uint8Array;
  imageId: Uint8Array;
  /** The VMPL the report was requested from (0..3 for a guest request). */
  vmpl: number;
  signatureAlgo: 1;
  /** TCB_VERSION values as 8 raw bytes: their layout depends on the product (see products.ts). */
  currentTcb: Uint8Array;
  platformInfo: SnpPlatformInfo;
  authorKeyEn: boolean;
  maskChipKey: boolean;
  signingKey: SnpKeyType;
  reportData: Uint8Array;
  measurement: Uint8Array;
  hostData: Uint8Array;
  idKeyDigest: Uint8Array;
  authorKeyDigest: Uint8Array;
  reportId: Uint8Array;
  reportIdMa: Uint8Array;
  reportedTcb: Uint8Array;
  /** v3+ only. */
  cpuid?: { family: number; model: number; stepping: number };
  chipId: Uint8Array;
  committedTcb: Uint8Array;
  current: SnpFirmwareVersion;
  committed: SnpFirmwareVersion;
  launchTcb: Uint8Array;
  /** v5+ only, as hex. */
  launchMitVector?: string;
  currentMitVector?: string;
  /** r ‖ s, big-endian, 48 bytes each (the IEEE P1363 form WebCrypto takes). */
  signature: Uint8Array;
  /** Bytes 0x000..0x29F: what the signature covers. */
  signed: Uint8Array;
}

function bad(path: string, message: string, expected?: unknown, actual?: unknown): never {
  return reject('InvalidEvidence', `report ${path}: ${message}`, { path, expected, actual });
}

export function parseSnpReport(bytes: Uint8Array): SnpReport {
  if (!(bytes instanceof Uint8Array)) bad('size', 'evidence must be bytes');
  if (bytes.length !== SNP_REPORT_BYTES) bad('size', `is ${bytes.length} bytes, a report is exactly ${SNP_REPORT_BYTES}`, SNP_REPORT_BYTES, bytes.length);
  const r = new Uint8Array(bytes); // our own copy: the caller's buffer may change under us
  const view = new DataView(r.buffer);
  const u32 = (at: number): number => view.getUint32(at, true);
  const field = ([a, b]: readonly [number, number]): Uint8Array => r.slice(a, b);
  const u64hex = (at: number): string => `0x${(BigInt(u32(at + 4)) * 2n ** 32n + BigInt(u32(at))).toString(16)}`;

  const version = u32(F.version[0]);
  if (!SNP_SUPPORTED_VERSIONS.includes(version)) bad('version', `${version} is not a supported report version`, SNP_SUPPORTED_VERSIONS, version);

  const signatureAlgo = u32(F.signatureAlgo[0]);
  if (signatureAlgo !== 1) bad('signature_algo', `${signatureAlgo} is not 1 (ECDSA P-384 with SHA-384)`, 1, signatureAlgo);

  // Guest policy: bit 17 is reserved as one; bits above the highest defined one must be zero.
  const policyLo = u32(F.policy[0]);
  const policyHi = u32(F.policy[0] + 4);
  if (!((policyLo >>> POLICY_RESERVED_ONE_BIT) & 1)) bad('policy', `bit ${POLICY_RESERVED_ONE_BIT} is reserved and must be one`, 1, 0);
  if (policyHi !== 0 || policyLo >>> (POLICY_HIGHEST_KNOWN_BIT + 1) !== 0) {
    bad('policy', `reserved bits ${POLICY_HIGHEST_KNOWN_BIT + 1}..63 must be zero`, 0, u64hex(F.policy[0]));
  }

  // Signer info: bits 31:5 reserved; signing_key 0 (VCEK) or 1 (VLEK). 7 means unsigned, 2..6 are reserved.
  const signerInfo = u32(F.signerInfo[0]);
  if (signerInfo >>> 5 !== 0) bad('signer_info', 'reserved bits 5..31 must be zero', 0, hex(signerInfo));
  const keyCode = (signerInfo >>> 2) & 7;
  const signingKey = SIGNING_KEY[keyCode];
  if (!signingKey) {
    bad('signing_key', keyCode === 7 ? 'is 7: the report is not signed' : `${keyCode} is reserved`, [0, 1], keyCode);
  }

  for (const range of reservedRanges(version)) {
    for (let i = range[0]; i < range[1]; i++) {
      if (r[i] !== 0) bad(rangePath(range), `byte ${hex(i)} is ${hex(r[i]!)}, must be zero`, 0, r[i]);
    }
  }

  // Signature: little-endian R and S; the upper 24 bytes of each field are zero.
  const signature = new Uint8Array(2 * ECDSA_SCALAR_BYTES);
  for (const [name, [a, b], out] of [['r', F.signatureR, 0], ['s', F.signatureS, ECDSA_SCALAR_BYTES]] as const) {
    for (let i = a + ECDSA_SCALAR_BYTES; i < b; i++) {
      if (r[i] !== 0) bad(`signature.${name}`, `byte ${hex(i)} lies beyond a P-384 scalar and must be zero`, 0, r[i]);
    }
    signature.set(r.slice(a, a + ECDSA_SCALAR_BYTES).reverse(), out);
  }

  const version3 = (at: number): SnpFirmwareVersion => ({ build: r[at]!, minor: r[at + 1]!, major: r[at + 2]! });
  const report: SnpReport = {
    version,
    guestSvn: u32(F.guestSvn[0]),
    policy: decodeGuestPolicy(policyLo),
    familyId: field(F.familyId),
    imageId: field(F.imageId),
    vmpl: u32(F.vmpl[0]),
    signatureAlgo: 1,
    currentTcb: field(F.currentTcb),
    platformInfo: decodePlatformInfo(u32(F.platformInfo[0]), u32(F.platformInfo[0] + 4)),
    authorKeyEn: (signerInfo & 1) === 1,
    maskChipKey: (signerInfo & 2) === 2,
    signingKey: signingKey!,
    reportData: field(F.reportData),
    measurement: field(F.measurement),
    hostData: field(F.hostData),
    idKeyDigest: field(F.idKeyDigest),
    authorKeyDigest: field(F.authorKeyDigest),
    reportId: field(F.reportId),
    reportIdMa: field(F.reportIdMa),
    reportedTcb: field(F.reportedTcb),
    chipId: field(F.chipId),
    committedTcb: field(F.committedTcb),
    current: version3(F.currentVersion[0]),
    committed: version3(F.committedVersion[0]),
    launchTcb: field(F.launchTcb),
    signature,
    signed: r.slice(0, SNP_SIGNED_BYTES),
  };
  if (version >= 3) report.cpuid = { family: r[F.cpuid[0]]!, model: r[F.cpuid[0] + 1]!, stepping: r[F.cpuid[0] + 2]! };
  if (version >= 5) {
    report.launchMitVector = u64hex(F.launchMitVector[0]);
    report.currentMitVector = u64hex(F.currentMitVector[0]);
  }
  return report;
}
