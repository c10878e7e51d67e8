/**
 * The code → HTTP status table (src/server/status.ts) is total over the error
 * codes, and each code gets the status of its class: input 400, size 413,
 * policy/verification refusal 422, load shedding 429, infrastructure and
 * "not serving" 503, a failure of the program itself 500.
 *
 * CLASS below lists every code once. Its type makes the list and the
 * ErrorCode union agree both ways: a code missing from it, or a name that is
 * not a code, does not type-check (`tsc`, run by `npm run lint`); at run time
 * the test also compares its keys with the status table's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorCode } from '../../src/errors.ts';
import { STATUS_OF_CODE, statusForCode } from '../../src/server/status.ts';

type Class = 'input' | 'too-large' | 'refused' | 'rate-limited' | 'unavailable' | 'internal';

const STATUS_OF_CLASS: Record<Class, number> = {
  input: 400,
  'too-large': 413,
  refused: 422,
  'rate-limited': 429,
  unavailable: 503,
  internal: 500,
};

const CLASS = {
  MalformedBase64: 'input',
  MalformedMultibase: 'input',
  MalformedDidKey: 'input',
  UnsupportedKeyType: 'input',
  InvalidPublicKey: 'input',
  InvalidPrivateKey: 'internal',
  BadSignatureLength: 'refused',
  SignatureNotLowS: 'refused',
  SignatureOutOfRange: 'refused',
  SignatureMismatch: 'refused',
  InvalidDataModel: 'input',
  InvalidCbor: 'input',
  InvalidCid: 'input',
  InvalidSyntax: 'input',
  TooLarge: 'too-large',
  InvalidPlcLog: 'refused',
  InvalidPlcOperation: 'refused',
  PlcDidMismatch: 'refused',
  PlcCidMismatch: 'refused',
  PlcPrevMismatch: 'refused',
  PlcBadSignatureEncoding: 'refused',
  PlcInvalidSignature: 'refused',
  PlcSignatureNotLowS: 'refused',
  PlcForkKeyNotHigherPriority: 'refused',
  PlcNoRotationKeys: 'refused',
  PlcPrevNullified: 'refused',
  PlcPrevTombstoned: 'refused',
  PlcLateNullification: 'refused',
  PlcNullifiedMismatch: 'refused',
  PlcCreatedAtOrder: 'refused',
  PlcLegacyCreateNotGenesis: 'refused',
  PlcTombstoneGenesis: 'refused',
  PlcCreatedInFuture: 'refused',
  PlcRotationKeysRule: 'refused',
  InvalidEvidence: 'refused',
  EvidenceSignatureInvalid: 'refused',
  CertificateChainInvalid: 'refused',
  CertificateExpired: 'refused',
  UntrustedRoot: 'refused',
  DebugEnclave: 'refused',
  PcrMismatch: 'refused',
  NonceMismatch: 'refused',
  BindingMismatch: 'refused',
  PublicKeyMismatch: 'refused',
  EvidenceTooOld: 'refused',
  TcbMismatch: 'refused',
  TcbBelowFloor: 'refused',
  VmplMismatch: 'refused',
  ChipIdMismatch: 'refused',
  PolicyViolation: 'refused',
  MeasurementMismatch: 'refused',
  MeasurementNotPinned: 'refused',
  EvidenceMissing: 'refused',
  UnknownEvidenceFormat: 'refused',
  PolicyPinMismatch: 'refused',
  CheckNotPossible: 'refused',
  InvalidPolicy: 'refused',
  InvalidRequest: 'input',
  InsufficientCosigners: 'refused',
  InvalidCosignature: 'refused',
  UnknownSigner: 'refused',
  StalePlcLog: 'refused',
  CollectionNotAllowed: 'refused',
  RepositoryNotAllowed: 'refused',
  SignerTombstoned: 'refused',
  SignerKeyMissing: 'refused',
  MissingPlcLog: 'refused',
  PlcSourcesDisagree: 'unavailable',
  RecordTooLarge: 'too-large',
  ServiceNotReady: 'unavailable',
  MissingEnclaveSignature: 'refused',
  EnclaveSignatureInvalid: 'refused',
  ReceiptInvalid: 'refused',
  RepoProofInvalid: 'refused',
  RepoCommitSignatureInvalid: 'refused',
  RepoDidMismatch: 'refused',
  RecordNotInRepo: 'refused',
  RepoCommitStale: 'refused',
  DidResolutionFailed: 'refused',
  HandoffEvidenceInvalid: 'refused',
  HandoffMeasurementNotApproved: 'refused',
  HandoffDebugEnclave: 'refused',
  HandoffPlatformMismatch: 'refused',
  HandoffPolicyMismatch: 'refused',
  HandoffChallengeExpired: 'refused',
  HandoffReplay: 'refused',
  HandoffKeyMismatch: 'refused',
  HandoffSealInvalid: 'refused',
  UpgradeInvalid: 'refused',
  UpgradePolicyMismatch: 'refused',
  DidGuardDisabled: 'refused',
  PlcOpInvalid: 'input',
  PlcOpPrevMismatch: 'refused',
  PlcOpGuardKeyNotFirst: 'refused',
  DidGuardNotRotationKey: 'refused',
  PlcOpRejected: 'refused',
  DidGuardCannotRevert: 'refused',
  DidGuardWindowPassed: 'refused',
  DidGuardIntrusionPending: 'refused',
  DirectoryUnavailable: 'unavailable',
  RemoteUnavailable: 'unavailable',
  InternalError: 'internal',
  RateLimited: 'rate-limited',
  FirmwareSize: 'input',
  FirmwareFooterMissing: 'input',
  FirmwareTableInvalid: 'input',
  FirmwareEntryMissing: 'input',
  SevMetadataInvalid: 'input',
  UnknownSectionType: 'input',
  KernelHashesUnsupported: 'input',
  InvalidMeasureInput: 'input',
  UsageError: 'input',
} as const satisfies Record<ErrorCode, Class>;

// Both ways: every code has a class (`satisfies` above), and every key is a code.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const keysAreExactlyTheCodes: Exact<keyof typeof CLASS, ErrorCode> = true;

const CODES = Object.keys(CLASS) as ErrorCode[];

test('the list of codes is the union (type-checked) and the status table covers exactly it', () => {
  assert.equal(keysAreExactlyTheCodes, true);
  assert.deepEqual(Object.keys(STATUS_OF_CODE).sort(), [...CODES].sort());
});

test('every code answers with the status of its class', () => {
  for (const code of CODES) assert.equal(statusForCode(code), STATUS_OF_CLASS[CLASS[code]], code);
});

test('the classes the HTTP API names: 400, 413, 422, 429, 503', () => {
  assert.equal(statusForCode('InvalidRequest'), 400);
  assert.equal(statusForCode('TooLarge'), 413);
  assert.equal(statusForCode('RecordTooLarge'), 413);
  for (const code of ['InsufficientCosigners', 'InvalidCosignature', 'UnknownSigner', 'InvalidPlcLog', 'StalePlcLog', 'CollectionNotAllowed', 'RepositoryNotAllowed'] as const) {
    assert.equal(statusForCode(code), 422, code);
  }
  assert.equal(statusForCode('RateLimited'), 429);
  assert.equal(statusForCode('DirectoryUnavailable'), 503);
  assert.equal(statusForCode('ServiceNotReady'), 503);
});

test('a code outside the union (only reachable through a cast) is a failure of the program: 500', () => {
  assert.equal(statusForCode('NoSuchCode' as ErrorCode), 500);
  assert.equal(statusForCode('toString' as ErrorCode), 500);
});
