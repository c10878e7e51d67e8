/**
 * The one place where error codes become HTTP statuses. The table is total
 * over the error-code union: a new code without a status is a type error.
 *
 *   400  the request is malformed (input problems)
 *   413  the request or its record is too large
 *   422  a policy or verification refusal, with its precise code
 *   429  a bound on outbound work is reached (src/enclave/limits.ts); retry shortly
 *   503  infrastructure failed or the service is not serving (fail closed: never sign on doubt)
 *   500  a failure of the program itself, answered without detail
 */
import type { ErrorCode } from '../errors.ts';

const INPUT = 400;
const TOO_LARGE = 413;
const REFUSED = 422;
const RATE_LIMITED = 429;
const INTERNAL = 500;
const UNAVAILABLE = 503;

export const STATUS_OF_CODE: Readonly<Record<ErrorCode, number>> = {
  // Keys, did:key, signatures: the form is input, a signature that does not verify is a refusal.
  MalformedBase64: INPUT,
  MalformedMultibase: INPUT,
  MalformedDidKey: INPUT,
  UnsupportedKeyType: INPUT,
  InvalidPublicKey: INPUT,
  // Only the enclave's own key is a private key: never the caller's doing.
  InvalidPrivateKey: INTERNAL,
  BadSignatureLength: REFUSED,
  SignatureNotLowS: REFUSED,
  SignatureOutOfRange: REFUSED,
  SignatureMismatch: REFUSED,

  // Data model, DAG-CBOR, CIDs.
  InvalidDataModel: INPUT,
  InvalidCbor: INPUT,
  InvalidCid: INPUT,
  InvalidSyntax: INPUT,
  TooLarge: TOO_LARGE,

  // did:plc audit-log rules.
  InvalidPlcLog: REFUSED,
  InvalidPlcOperation: REFUSED,
  PlcDidMismatch: REFUSED,
  PlcCidMismatch: REFUSED,
  PlcPrevMismatch: REFUSED,
  PlcBadSignatureEncoding: REFUSED,
  PlcInvalidSignature: REFUSED,
  PlcSignatureNotLowS: REFUSED,
  PlcForkKeyNotHigherPriority: REFUSED,
  PlcNoRotationKeys: REFUSED,
  PlcPrevNullified: REFUSED,
  PlcPrevTombstoned: REFUSED,
  PlcLateNullification: REFUSED,
  PlcNullifiedMismatch: REFUSED,
  PlcCreatedAtOrder: REFUSED,
  PlcLegacyCreateNotGenesis: REFUSED,
  PlcTombstoneGenesis: REFUSED,
  PlcCreatedInFuture: REFUSED,
  PlcRotationKeysRule: REFUSED,

  // Attestation evidence (verifier side).
  InvalidEvidence: REFUSED,
  EvidenceSignatureInvalid: REFUSED,
  CertificateChainInvalid: REFUSED,
  CertificateExpired: REFUSED,
  UntrustedRoot: REFUSED,
  DebugEnclave: REFUSED,
  PcrMismatch: REFUSED,
  NonceMismatch: REFUSED,
  BindingMismatch: REFUSED,
  PublicKeyMismatch: REFUSED,
  EvidenceTooOld: REFUSED,
  TcbMismatch: REFUSED,
  TcbBelowFloor: REFUSED,
  VmplMismatch: REFUSED,
  ChipIdMismatch: REFUSED,
  PolicyViolation: REFUSED,
  MeasurementMismatch: REFUSED,
  MeasurementNotPinned: REFUSED,
  EvidenceMissing: REFUSED,
  UnknownEvidenceFormat: REFUSED,
  PolicyPinMismatch: REFUSED,
  CheckNotPossible: REFUSED,

  // Policy decisions and signing requests.
  InvalidPolicy: REFUSED,
  InvalidRequest: INPUT,
  InsufficientCosigners: REFUSED,
  InvalidCosignature: REFUSED,
  UnknownSigner: REFUSED,
  StalePlcLog: REFUSED,
  CollectionNotAllowed: REFUSED,
  RepositoryNotAllowed: REFUSED,
  SignerTombstoned: REFUSED,
  SignerKeyMissing: REFUSED,
  MissingPlcLog: REFUSED,
  // Not the caller's fault and may pass once the mirrors catch up; never sign on doubt.
  PlcSourcesDisagree: UNAVAILABLE,
  RecordTooLarge: TOO_LARGE,
  // Booting, or failed (terminal): src/enclave/service.ts.
  ServiceNotReady: UNAVAILABLE,

  // A published record's enclave parts (verifier side).
  MissingEnclaveSignature: REFUSED,
  EnclaveSignatureInvalid: REFUSED,
  ReceiptInvalid: REFUSED,

  // An atproto record proof (getRecord CAR), verifier side.
  RepoProofInvalid: REFUSED,
  RepoCommitSignatureInvalid: REFUSED,
  RepoDidMismatch: REFUSED,
  RecordNotInRepo: REFUSED,
  RepoCommitStale: REFUSED,
  DidResolutionFailed: REFUSED,

  // Key hand-off: a peer's evidence, program, platform, policy or challenge refused (src/enclave/handoff.ts).
  HandoffEvidenceInvalid: REFUSED,
  HandoffMeasurementNotApproved: REFUSED,
  HandoffDebugEnclave: REFUSED,
  HandoffPlatformMismatch: REFUSED,
  HandoffPolicyMismatch: REFUSED,
  HandoffChallengeExpired: REFUSED,
  HandoffReplay: REFUSED,
  HandoffKeyMismatch: REFUSED,
  HandoffSealInvalid: REFUSED,
  // The DID guard (docs/did-guard.md).
  DidGuardDisabled: REFUSED,
  PlcOpInvalid: INPUT,
  PlcOpPrevMismatch: REFUSED,
  PlcOpGuardKeyNotFirst: REFUSED,
  DidGuardNotRotationKey: REFUSED,
  PlcOpRejected: REFUSED,
  DidGuardCannotRevert: REFUSED,
  DidGuardWindowPassed: REFUSED,
  DidGuardIntrusionPending: REFUSED,

  // Quorum-approved upgrades: a malformed statement, or one for another policy (src/verifier/upgrade.ts).
  UpgradeInvalid: REFUSED,
  UpgradePolicyMismatch: REFUSED,

  // Infrastructure.
  DirectoryUnavailable: UNAVAILABLE,
  RemoteUnavailable: UNAVAILABLE,
  InternalError: INTERNAL,

  RateLimited: RATE_LIMITED,
  // The SEV-SNP measurement calculation's inputs (firmware, parameters): never reached by a request today.
  FirmwareSize: INPUT,
  FirmwareFooterMissing: INPUT,
  FirmwareTableInvalid: INPUT,
  FirmwareEntryMissing: INPUT,
  SevMetadataInvalid: INPUT,
  UnknownSectionType: INPUT,
  KernelHashesUnsupported: INPUT,
  InvalidMeasureInput: INPUT,
  UsageError: INPUT,
};

/**
 * The status of a code. An error whose code is outside the union (only
 * possible through a cast) is a failure of the program: 500.
 */
export function statusForCode(code: ErrorCode): number {
  return Object.hasOwn(STATUS_OF_CODE, code) ? STATUS_OF_CODE[code] : INTERNAL;
}
