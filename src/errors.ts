/**
 * One error base for the whole project. Every failure carries a stable `code`
 * (tests and API clients match on it, never on message text) and, where it
 * helps, what was expected and what came.
 *
 * Codes are grouped by concern so a reader can tell "the input was bad" from
 * "the infrastructure failed" (see `isInfrastructureCode`).
 */

/** Keys, did:key, signatures (src/crypto). */
export type CryptoErrorCode =
  | 'MalformedBase64'
  | 'MalformedMultibase'
  | 'MalformedDidKey'
  | 'UnsupportedKeyType'
  | 'InvalidPublicKey'
  | 'InvalidPrivateKey'
  | 'BadSignatureLength'
  | 'SignatureNotLowS'
  | 'SignatureOutOfRange'
  | 'SignatureMismatch';

/** Data model, DAG-CBOR and CIDs (src/data). */
export type DataErrorCode =
  | 'InvalidDataModel'
  | 'InvalidCbor'
  | 'InvalidCid'
  | 'InvalidSyntax'
  | 'TooLarge';

/** did:plc audit-log verification (src/plc). */
export type PlcErrorCode =
  | 'InvalidPlcLog'
  | 'InvalidPlcOperation'
  | 'PlcDidMismatch'
  | 'PlcCidMismatch'
  | 'PlcPrevMismatch'
  | 'PlcBadSignatureEncoding'
  | 'PlcInvalidSignature'
  | 'PlcSignatureNotLowS'
  | 'PlcForkKeyNotHigherPriority'
  | 'PlcNoRotationKeys'
  | 'PlcPrevNullified'
  | 'PlcPrevTombstoned'
  | 'PlcLateNullification'
  | 'PlcNullifiedMismatch'
  | 'PlcCreatedAtOrder'
  | 'PlcLegacyCreateNotGenesis'
  | 'PlcTombstoneGenesis'
  | 'PlcCreatedInFuture'
  | 'PlcRotationKeysRule';

/** Attestation evidence: parsing and verification (src/attestation). */
export type AttestationErrorCode =
  | 'InvalidEvidence'
  | 'EvidenceSignatureInvalid'
  | 'CertificateChainInvalid'
  | 'CertificateExpired'
  | 'UntrustedRoot'
  | 'DebugEnclave'
  | 'PcrMismatch'
  | 'NonceMismatch'
  | 'BindingMismatch'
  | 'PublicKeyMismatch'
  | 'EvidenceTooOld'
  | 'TcbMismatch'
  /** SEV-SNP: reported_tcb is below a minimum (an AMD security bulletin in force, or the caller's floor). */
  | 'TcbBelowFloor'
  /** SEV-SNP: the report comes from another VMPL than the expected one. */
  | 'VmplMismatch'
  | 'ChipIdMismatch'
  | 'PolicyViolation'
  | 'MeasurementMismatch'
  | 'MeasurementNotPinned'
  | 'EvidenceMissing'
  | 'UnknownEvidenceFormat'
  /** The enclave's policy (CID or repository) is not the one the verifier pinned. */
  | 'PolicyPinMismatch'
  /** The verifier asked for a check the inputs do not allow (never a silent skip). */
  | 'CheckNotPossible';

/** SEV-SNP launch-measurement calculation (src/attestation/sev-snp/measure.ts): bad firmware or parameters. */
export type SnpMeasureErrorCode =
  /** The firmware is empty or not a whole number of 4 KiB pages. */
  | 'FirmwareSize'
  /** No OVMF footer GUID table in the last 50 bytes of the firmware. */
  | 'FirmwareFooterMissing'
  /** The footer table, or an entry in it, is malformed. */
  | 'FirmwareTableInvalid'
  /** A footer-table entry the launch needs is absent (SEV metadata, SEV-ES reset block, hashes table). */
  | 'FirmwareEntryMissing'
  /** The SEV metadata ("ASEV") is absent, out of bounds or of another version. */
  | 'SevMetadataInvalid'
  /** A SEV metadata section of a type the calculation does not know. */
  | 'UnknownSectionType'
  /** A kernel was given but the firmware has no kernel-hashes section (not an AmdSev build). */
  | 'KernelHashesUnsupported'
  /** A parameter out of range: vCPU count, CPU model, signature, guest features, digest length. */
  | 'InvalidMeasureInput';

/** Policy decisions and signing requests (src/policy, src/enclave, src/server). */
export type PolicyErrorCode =
  | 'InvalidPolicy'
  | 'InvalidRequest'
  | 'InsufficientCosigners'
  | 'InvalidCosignature'
  | 'UnknownSigner'
  | 'InvalidPlcLog'
  | 'StalePlcLog'
  | 'CollectionNotAllowed'
  | 'RepositoryNotAllowed'
  | 'SignerTombstoned'
  | 'SignerKeyMissing'
  | 'MissingPlcLog'
  /** The directory and a mirror (fetch mode) serve different heads for a signer. */
  | 'PlcSourcesDisagree'
  | 'RecordTooLarge'
  | 'ServiceNotReady';

/**
 * A published record checked by a verifier (src/verifier): the parts only the
 * enclave writes. Co-signer failures use the enclave's own codes
 * (InvalidCosignature, UnknownSigner, InsufficientCosigners, ...).
 */
export type RecordErrorCode =
  /** The record has no signatures, or its last entry is not the enclave's. */
  | 'MissingEnclaveSignature'
  /** The enclave entry does not verify over the payload, or names another binding. */
  | 'EnclaveSignatureInvalid'
  /** The receipt is missing, for another payload or policy, badly signed, or does not cover a co-signer. */
  | 'ReceiptInvalid';

/**
 * An atproto record proof (the CAR of com.atproto.sync.getRecord) checked by
 * a verifier (src/verifier/repo-proof.ts). A CAR over the size limit is
 * `TooLarge`; a malformed request (DID, NSID, rkey, did:key) keeps its syntax code.
 */
export type RepoProofErrorCode =
  /** The CAR, a block or the commit is malformed: not CAR v1, not one root, a block missing or not hashing to its CID, a bad MST node. */
  | 'RepoProofInvalid'
  /** The commit's signature does not verify with the repository's signing key (including high-S or wrong length). */
  | 'RepoCommitSignatureInvalid'
  /** The commit is for another repository than the one the at:// URI names. */
  | 'RepoDidMismatch'
  /** The commit's MST does not hold the record's key, or its leaf is not the record that was sent. */
  | 'RecordNotInRepo'
  /** A proof from a PDS other than the DID's own is not of the repository's latest commit there (an old proof replayed). */
  | 'RepoCommitStale'
  /** The repository DID could not be resolved to a PDS and signing key (no such service or key, a tombstone, a handle the DID does not claim). */
  | 'DidResolutionFailed';

/**
 * Enclave-to-enclave key hand-off (src/enclave/handoff.ts, docs/key-handoff.md):
 * why a sending instance refused a joining one, or a joining instance refused
 * what a sender offered.
 */
export type HandoffErrorCode =
  /** The peer's evidence does not verify (chain, signature, nonce, key, document), or its document is malformed. */
  | 'HandoffEvidenceInvalid'
  /** The peer runs a program whose measurement is not in this instance's approved set. */
  | 'HandoffMeasurementNotApproved'
  /** The peer is a debug-mode enclave (its host can read its memory). */
  | 'HandoffDebugEnclave'
  /** The peer attests on another platform (a dev root offered to hardware, or the reverse, or Nitro vs SEV-SNP). */
  | 'HandoffPlatformMismatch'
  /** The peer enforces another policy. */
  | 'HandoffPolicyMismatch'
  /** The challenge was issued but has expired. */
  | 'HandoffChallengeExpired'
  /** The challenge is unknown or was already used (single use). */
  | 'HandoffReplay'
  /** The sealed key is not the key the sender attested. */
  | 'HandoffKeyMismatch'
  /** The sealed key does not open with this instance's ephemeral key and transcript. */
  | 'HandoffSealInvalid';

/**
 * Quorum-approved upgrades (src/verifier/upgrade.ts, docs/key-handoff.md
 * "Upgrades"): a `dev.encumber.upgrade` statement that cannot be approved.
 * Co-signer failures keep the enclave's own codes (InsufficientCosigners,
 * UnknownSigner, InvalidCosignature, the PLC codes).
 */
export type UpgradeErrorCode =
  /** The statement is malformed: not a dev.encumber.upgrade, a bad CID or time, no or malformed measurements. */
  | 'UpgradeInvalid'
  /** The statement names another policy than the one the instance enforces (or the identity publishes). */
  | 'UpgradePolicyMismatch';

/**
 * The DID guard (docs/did-guard.md): quorum-approved PLC operations for the
 * organisation's DID (dev.encumber.signPlcOp) and the watcher that reverts
 * operations the guard key did not sign.
 */
export type DidGuardErrorCode =
  /** The policy does not enable the DID guard. */
  | 'DidGuardDisabled'
  /** The proposed PLC operation is not an unsigned plc_operation of the allowed shape. */
  | 'PlcOpInvalid'
  /** The operation's prev is not the CID of the head of the DID's current verified log. */
  | 'PlcOpPrevMismatch'
  /** The operation does not keep the guard key as the highest-priority rotation key. */
  | 'PlcOpGuardKeyNotFirst'
  /** The DID's current state does not list the guard key among its rotation keys. */
  | 'DidGuardNotRotationKey'
  /** The PLC directory refused the signed operation. */
  | 'PlcOpRejected'
  /** An operation to revert was signed by a key the guard key does not outrank. */
  | 'DidGuardCannotRevert'
  /** An operation to revert is older than the 72-hour recovery window. */
  | 'DidGuardWindowPassed'
  /** The DID's log holds an operation the guard will revert: an operation built on it would be nullified with it. */
  | 'DidGuardIntrusionPending';

/** Infrastructure failures: never the caller's fault, always fail closed. */
export type InfrastructureErrorCode =
  | 'DirectoryUnavailable'
  /** A remote service (an enclave, a PDS) did not answer usably: unreachable, too slow, too large, not JSON. */
  | 'RemoteUnavailable'
  | 'InternalError';

/** Load shedding: a bound on outbound work (directory requests, attestations) is reached; retry later. */
export type ResourceErrorCode = 'RateLimited';

export type ErrorCode =
  | CryptoErrorCode
  | DataErrorCode
  | PlcErrorCode
  | AttestationErrorCode
  | SnpMeasureErrorCode
  | PolicyErrorCode
  | RecordErrorCode
  | RepoProofErrorCode
  | HandoffErrorCode
  | UpgradeErrorCode
  | DidGuardErrorCode
  | InfrastructureErrorCode
  | ResourceErrorCode
  | 'UsageError';

export interface ErrorDetails {
  expected?: unknown;
  actual?: unknown;
  /** Index of the offending entry (audit logs, arrays). */
  index?: number;
  /** Dotted path of the offending field. */
  path?: string;
  cause?: unknown;
}

export class EncumberError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly expected?: unknown;
  readonly actual?: unknown;
  readonly index?: number;
  readonly path?: string;

  constructor(code: C, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'EncumberError';
    this.code = code;
    if (details.expected !== undefined) this.expected = details.expected;
    if (details.actual !== undefined) this.actual = details.actual;
    if (details.index !== undefined) this.index = details.index;
    if (details.path !== undefined) this.path = details.path;
  }

  toJSON(): { code: C; message: string; index?: number; path?: string } {
    const out: { code: C; message: string; index?: number; path?: string } = {
      code: this.code,
      message: this.message,
    };
    if (this.index !== undefined) out.index = this.index;
    if (this.path !== undefined) out.path = this.path;
    return out;
  }
}

export function isEncumberError(e: unknown): e is EncumberError {
  return e instanceof EncumberError;
}

const INFRASTRUCTURE: ReadonlySet<ErrorCode> = new Set<InfrastructureErrorCode>([
  'DirectoryUnavailable',
  'RemoteUnavailable',
  'InternalError',
]);

export function isInfrastructureCode(code: ErrorCode): boolean {
  return INFRASTRUCTURE.has(code);
}
