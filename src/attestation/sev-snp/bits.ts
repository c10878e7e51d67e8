/**
 * The bit fields of a report: guest policy (0x08), platform info (0x40) and
 * signer info (0x48). Decoding is pure; judging them is the verifier's job.
 */

/** Guest policy (set by the guest owner at launch, enforced by the firmware for the guest's life). */
export interface SnpGuestPolicy {
  /** The 64-bit value as hex, e.g. '0x3001f'. */
  raw: string;
  abiMinor: number;
  abiMajor: number;
  /** 16: the host may use SMT. */
  smt: boolean;
  /** 18: a migration agent may be associated (it can read the guest's memory to migrate it). */
  migrateMa: boolean;
  /** 19: the host may debug the guest (read and write its memory). */
  debug: boolean;
  /** 20: the guest may run on one socket only. */
  singleSocket: boolean;
  /** 21: CXL devices or memory may be populated. */
  cxlAllow: boolean;
  /** 22: AES-256-XTS memory encryption required. */
  memAes256Xts: boolean;
  /** 23: RAPL must be disabled. */
  raplDis: boolean;
  /** 24: ciphertext hiding must be enabled. */
  ciphertextHiding: boolean;
  /** 25: page swap disabled. */
  pageSwapDisable: boolean;
}

export const POLICY_RESERVED_ONE_BIT = 17;
/** Bits 26..63 are reserved and must be zero (ABI 1.58). */
export const POLICY_HIGHEST_KNOWN_BIT = 25;

const bit = (v: number, n: number): boolean => Math.floor(v / 2 ** n) % 2 === 1;

/** `value` must already be known to fit in 26 bits (see report.ts). */
export function decodeGuestPolicy(value: number): SnpGuestPolicy {
  return {
    raw: `0x${value.toString(16)}`,
    abiMinor: value & 0xff,
    abiMajor: (value >>> 8) & 0xff,
    smt: bit(value, 16),
    migrateMa: bit(value, 18),
    debug: bit(value, 19),
    singleSocket: bit(value, 20),
    cxlAllow: bit(value, 21),
    memAes256Xts: bit(value, 22),
    raplDis: bit(value, 23),
    ciphertextHiding: bit(value, 24),
    pageSwapDisable: bit(value, 25),
  };
}

/** Platform info (set by the host's firmware; describes the machine, informational here). */
export interface SnpPlatformInfo {
  raw: string;
  smtEnabled: boolean;
  tsmeEnabled: boolean;
  eccEnabled: boolean;
  raplDisabled: boolean;
  ciphertextHidingEnabled: boolean;
  aliasCheckComplete: boolean;
  tioEnabled: boolean;
}

/** `lo` and `hi` are the two little-endian 32-bit words. Unknown bits are kept in `raw`, not refused. */
export function decodePlatformInfo(lo: number, hi: number): SnpPlatformInfo {
  return {
    raw: `0x${(BigInt(hi) * 2n ** 32n + BigInt(lo)).toString(16)}`,
    smtEnabled: bit(lo, 0),
    tsmeEnabled: bit(lo, 1),
    eccEnabled: bit(lo, 2),
    raplDisabled: bit(lo, 3),
    ciphertextHidingEnabled: bit(lo, 4),
    aliasCheckComplete: bit(lo, 5),
    tioEnabled: bit(lo, 7),
  };
}

export type SnpKeyType = 'vcek' | 'vlek';

/** SIGNING_KEY (bits 4:2 of 0x48): 0 VCEK, 1 VLEK, 7 none; 2..6 reserved. */
export const SIGNING_KEY: Readonly<Record<number, SnpKeyType>> = { 0: 'vcek', 1: 'vlek' };
