/**
 * encumber/verify — the verifier library: everything a relying party needs to
 * check an enclave-signed record, pure and browser-safe (no I/O, no clock:
 * the caller fetches documents and passes `at`). The CLI's `record verify`
 * and `attest verify` and the verification page are shells around it.
 *
 *   const report = await verifySignedRecord({ identity, record, evidence, nonce, roots, measurements, pin, plcLogs, at });
 *   report.valid; report.error?.code; report.attestation / report.record: the check rows.
 */
export { verifySignedRecord, type SignedRecordInput, type SignedRecordReport } from './signed-record.ts';
export { verifyRecordProof, type RecordProof, type RecordProofInput, type RepoCommit } from './repo-proof.ts';
export { verifyPublishedRecord, type Identity, type RecordVerdict, type RecordVerifyOptions } from './record.ts';
export { verifyEvidence, type EvidenceInput, type EvidenceOptions, type EvidencePlatform, type EvidenceVerdict } from './evidence.ts';
export { checkPolicyPin, describePolicy, isPinned, type PolicyPin } from './policy-pin.ts';
export { parseMeasurements, type MeasurementPin } from './measurements.ts';
export {
  evidenceFromAnswer,
  identityFromAnswer,
  isAttestationAnswer,
  isIdentityAnswer,
  plcLogsFromDocument,
  recordFromDocument,
} from './inputs.ts';
export { countQuorum } from '../policy/quorum.ts';
export { buildPayload } from '../policy/payload.ts';
export { parsePolicy } from '../policy/policy.ts';
export type { AttestationCheck } from '../attestation/types.ts';
export { EncumberError, isEncumberError, type ErrorCode } from '../errors.ts';
