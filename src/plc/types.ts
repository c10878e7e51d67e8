/**
 * did:plc audit-log types: the shape the directory serves at
 * `GET /:did/log/audit`, and the verified state the verifier returns.
 */
import type { EncumberError, PlcErrorCode } from '../errors.ts';

export interface PlcService {
  type: string;
  endpoint: string;
}

/** Current-format operation. */
export interface PlcOperation {
  type: 'plc_operation';
  rotationKeys: string[];
  verificationMethods: Record<string, string>;
  alsoKnownAs: string[];
  services: Record<string, PlcService>;
  prev: string | null;
  sig: string;
}

export interface PlcTombstone {
  type: 'plc_tombstone';
  prev: string;
  sig: string;
}

/** Legacy genesis operation (2022), valid only as the first entry. */
export interface PlcLegacyCreate {
  type: 'create';
  signingKey: string;
  recoveryKey: string;
  handle: string;
  service: string;
  prev: null;
  sig: string;
}

export type PlcAnyOperation = PlcOperation | PlcTombstone | PlcLegacyCreate;

/** One entry of `/:did/log/audit`. */
export interface PlcAuditEntry {
  did: string;
  operation: PlcAnyOperation;
  cid: string;
  nullified: boolean;
  createdAt: string;
}

export type PlcWarningCode = 'EmptyRotationKeys' | 'DuplicateRotationKeys';

export interface PlcWarning {
  code: PlcWarningCode;
  index: number;
  message: string;
}

export interface PlcState {
  did: string;
  /** Empty when tombstoned. */
  rotationKeys: string[];
  /** Key id without '#' → did:key. Empty when tombstoned. */
  verificationMethods: Record<string, string>;
  alsoKnownAs: string[];
  services: Record<string, PlcService>;
  tombstoned: boolean;
  /** The canonical head: the last operation that is not nullified. */
  head: { cid: string; createdAt: string; index: number };
  /** Computed `nullified` flag of every entry, in log order (equal to the log's when valid). */
  nullified: boolean[];
  /** CIDs of the canonical chain, genesis first (used for high-water marks). */
  canonicalCids: string[];
  /** CIDs of every entry, in log order, nullified ones included. */
  entryCids: string[];
  /** Deviations from the creation-time rules that historic logs may carry. */
  warnings: PlcWarning[];
}

export interface PlcVerifyOptions {
  /**
   * Reject empty or duplicate `rotationKeys` (the spec's creation-time rule).
   * Off by default: historic logs with them exist and both reference
   * implementations accept them (docs/decisions.md).
   */
  specStrict?: boolean;
  /** If given, an entry whose createdAt is later than now + maxClockSkewMs is rejected. */
  now?: Date;
  /** Default 5 minutes. */
  maxClockSkewMs?: number;
  /** Refuse logs longer than this before any work (default 10 000 entries). */
  maxEntries?: number;
}

export type PlcVerdict =
  | { ok: true; state: PlcState }
  | { ok: false; error: EncumberError<PlcErrorCode> };

/** One verified entry, as the walk keeps it. */
export interface VerifiedNode {
  index: number;
  cid: string;
  createdAt: string;
  createdAtMs: number;
  op: PlcAnyOperation;
  /** The rotation keys this op establishes (may sign the next op). */
  keys: readonly string[];
  /** Index, in the keys that were allowed to sign this op, of the key that did. */
  signerIndex: number;
  /** That key (tried first for the next op). */
  signerKey: string;
}
