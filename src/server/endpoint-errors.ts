/**
 * The error codes each XRPC endpoint can answer with (the `error` of its JSON
 * error body). The same lists are the `errors` of the endpoints' lexicons in
 * src/lexicons; test/contract checks that they are equal and that every
 * failing request an endpoint is driven into answers with a code listed here.
 *
 * `InternalError` is listed everywhere: it is the body of any 500 (the
 * client learns nothing more).
 */
import type { ErrorCode } from '../errors.ts';

export const ENDPOINTS = [
  'dev.encumber.getIdentity',
  'dev.encumber.getAttestation',
  'dev.encumber.signRecord',
  'dev.encumber.handoffOffer',
  'dev.encumber.handoffRequest',
  'dev.encumber.approveUpgrade',
  'dev.encumber.getUpgrades',
  'dev.encumber.signPlcOp',
  'dev.encumber.getGuardLog',
] as const;

export type Endpoint = (typeof ENDPOINTS)[number];

/**
 * What any M-of-N decision can answer (signRecord, approveUpgrade, signPlcOp share the co-signer checks,
 * src/policy/decide.ts, and the PLC state behind them): the co-signatures, then each co-signer's PLC state.
 */
const QUORUM_ERRORS = [
  'UnknownSigner',
  'InvalidCosignature',
  'InsufficientCosigners',
  'MissingPlcLog',
  'InvalidPlcLog',
  'StalePlcLog',
  'SignerTombstoned',
  'SignerKeyMissing',
] as const satisfies readonly ErrorCode[];

/** 429 / 503 of a request that reads the PLC directory: bounds and infrastructure (fail closed). */
const DIRECTORY_BOUND_ERRORS = ['RateLimited', 'DirectoryUnavailable', 'PlcSourcesDisagree', 'ServiceNotReady', 'InternalError'] as const satisfies readonly ErrorCode[];

export const ENDPOINT_ERRORS = {
  'dev.encumber.getIdentity': ['ServiceNotReady', 'InternalError'],
  'dev.encumber.getAttestation': ['InvalidRequest', 'RateLimited', 'ServiceNotReady', 'InternalError'],
  'dev.encumber.signRecord': [
    // 400 / 413: the request itself.
    'InvalidRequest',
    'TooLarge',
    'RecordTooLarge',
    // 422: scope, checked before any PLC work.
    'RepositoryNotAllowed',
    'CollectionNotAllowed',
    // 422: the co-signatures, then the co-signers' PLC state.
    ...QUORUM_ERRORS,
    // 429 / 503: bounds and infrastructure (fail closed).
    ...DIRECTORY_BOUND_ERRORS,
  ],
  'dev.encumber.handoffOffer': ['InvalidRequest', 'TooLarge', 'RateLimited', 'ServiceNotReady', 'InternalError'],
  'dev.encumber.handoffRequest': [
    // 400 / 413: the request itself.
    'InvalidRequest',
    'TooLarge',
    // 422: the joiner's document, challenge and evidence.
    'HandoffPolicyMismatch',
    'HandoffPlatformMismatch',
    'HandoffReplay',
    'HandoffChallengeExpired',
    'HandoffEvidenceInvalid',
    'HandoffDebugEnclave',
    'HandoffMeasurementNotApproved',
    // 429 / 503.
    'RateLimited',
    'ServiceNotReady',
    'InternalError',
  ],
  'dev.encumber.approveUpgrade': [
    // 400 / 413: the request itself.
    'InvalidRequest',
    'TooLarge',
    // 422: the statement, then the co-signatures with the signRecord rules.
    'UpgradeInvalid',
    'UpgradePolicyMismatch',
    ...QUORUM_ERRORS,
    // 429 / 503.
    ...DIRECTORY_BOUND_ERRORS,
  ],
  'dev.encumber.getUpgrades': ['ServiceNotReady', 'InternalError'],
  // The DID guard (docs/did-guard.md).
  'dev.encumber.signPlcOp': [
    'InvalidRequest',
    'TooLarge',
    'PlcOpInvalid',
    'DidGuardDisabled',
    'RepositoryNotAllowed',
    ...QUORUM_ERRORS,
    // 422: the operation against the organisation's DID, then the directory's answer.
    'DidGuardNotRotationKey',
    'PlcOpPrevMismatch',
    'PlcOpGuardKeyNotFirst',
    'DidGuardIntrusionPending',
    'PlcOpRejected',
    ...DIRECTORY_BOUND_ERRORS,
  ],
  'dev.encumber.getGuardLog': ['DidGuardDisabled', 'ServiceNotReady', 'InternalError'],
} as const satisfies Record<Endpoint, readonly ErrorCode[]>;

export function endpointErrors(endpoint: Endpoint): readonly ErrorCode[] {
  return ENDPOINT_ERRORS[endpoint];
}
