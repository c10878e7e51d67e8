/**
 * Words for the page: a label per check row, a status that is more than a
 * colour (pass, warn, fail, skipped), and the reason for a failure in plain
 * words, by the row that failed and its error code. Pure, no DOM.
 */

import type { ErrorCode } from '../errors.ts';

export type RowStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface Row {
  name: string;
  ok: boolean;
  detail: string;
  skipped?: true;
  status: RowStatus;
}

/** A passing row whose detail says the user accepted less (NOT pinned, dev root, ...) is a warning. */
export function rowStatus(c: { ok: boolean; skipped?: true; detail: string }): RowStatus {
  if (!c.ok) return 'fail';
  if (c.skipped) return /\bNOT\b/.test(c.detail) ? 'warn' : 'skip';
  return /\bNOT\b|DEV ROOT/.test(c.detail) ? 'warn' : 'pass';
}

export const STATUS_TEXT: Record<RowStatus, string> = { pass: 'pass', warn: 'warning', fail: 'FAIL', skip: 'not checked' };

const LABELS: Record<string, string> = {
  source: 'Where the evidence came from',
  'trust-anchor': 'Trust anchors',
  binding: 'Binding document (key, policy, platform)',
  format: 'Evidence format',
  size: 'Evidence size',
  'cose-structure': 'COSE_Sign1 envelope',
  'document-structure': 'Attestation document',
  'trusted-root': 'Hardware root',
  certificates: 'Certificates',
  'certificate-set': 'Certificate set',
  'certificate-table': 'Certificate table',
  'chain-signatures': 'Certificate chain signatures',
  'ark-signature': 'AMD root (ARK) self-signature',
  'intermediate-signature': 'ASK/ASVK signed by the ARK',
  'endorsement-key-signature': 'VCEK/VLEK signed by the ASK',
  'report-signature': 'Report signature',
  'chain-constraints': 'Certificate chain constraints',
  'cose-signature': 'Evidence signature',
  validity: 'Certificate validity at the checked time',
  'debug-mode': 'Not a debug enclave',
  debug: 'Not a debug VM',
  pcrs: 'PCRs (expected values)',
  nonce: 'Nonce echoed (freshness)',
  'public-key': 'Enclave key in the evidence',
  'user-data': 'Binding CID in the evidence',
  freshness: 'Evidence age',
  'report-structure': 'SEV-SNP report',
  'report-data': 'report_data = SHA-256(binding) ‖ SHA-256(nonce)',
  product: 'AMD product',
  tcb: 'TCB version',
  'chip-id': 'Chip identity',
  'migration-agent': 'No migration agent',
  vmpl: 'VMPL',
  measurement: 'Launch measurement (expected values)',
  platform: 'Platform',
  'published-measurement': 'Measurement = a published reproducible build',
  attestation: 'Attestation',
  identity: 'Identity',
  'identity-policy': 'Policy hashes to its CID',
  'identity-binding': 'Binding names this key and policy',
  policy: 'Policy (repository, members, threshold, collections)',
  'policy-pin': 'Policy = the one you trust',
  'record-location': 'Record published in the policy\'s repository',
  'record-shape': 'Record shape and collection',
  payload: 'Payload rebuilt',
  'enclave-signature': 'Enclave signature over the payload',
  receipt: 'Receipt (policy, PLC heads)',
  cosignatures: 'Co-signatures (M of N members)',
  'cosigner-keys': 'Co-signers\' keys in their PLC state',
  'at-uri': 'Record address',
  handle: 'Handle → DID',
  'repository-did': 'Repository DID → PDS and signing key',
  'repository-pds': 'Record and proof read from the PDS',
  'repository-proof': 'Repository proof',
  'repo-proof-car': 'Repository proof (CAR, one root)',
  'repo-commit': 'Repository commit (v3, hashes to its CID)',
  'repo-commit-did': 'Commit is the URI\'s repository',
  'repo-commit-signature': 'Commit signed by the repository key',
  'repo-mst-path': 'Record key in the commit\'s tree',
  'repo-record': 'Record = the tree\'s leaf',
  'repo-commit-latest': 'Commit is the repository\'s latest',
  'enclave-key': 'Enclave key attested',
  'guard-enabled': 'Policy enables the DID guard',
  'guard-log-document': 'Guard log (repository, policy, guard key)',
  'guard-log-signature': 'Guard log signed by the enclave key',
  'guard-log': 'Guard log (getGuardLog)',
  'guard-intrusions': 'Changes the guard did not sign',
  'guard-intrusion': 'Change the guard did not sign',
  statement: 'Upgrade statement (policy, measurements)',
  upgrades: 'Approved upgrades (getUpgrades)',
  upgrade: 'Approved upgrade',
};

export function labelOf(name: string): string {
  return LABELS[name] ?? name;
}

/** Plain words by error code (attestation), or by the failed row (record). */
const BY_CODE: Partial<Record<ErrorCode, string>> = {
  UntrustedRoot:
    'The evidence does not chain to a root you trust. A real AWS Nitro enclave chains to the AWS Nitro root; a dev enclave chains to its own dev root, which you must supply (or explicitly accept).',
  CertificateExpired:
    'A certificate in the evidence was not valid at the time checked. Old evidence cannot show what runs now; to audit it as of its own time, set the time to the document\'s timestamp.',
  CertificateChainInvalid: 'The certificate chain is broken: a certificate is not signed by the one above it, or breaks the CA rules.',
  EvidenceSignatureInvalid: 'The evidence signature does not verify: the document was altered, or not signed by the certified key.',
  InvalidEvidence: 'The evidence is malformed: it is not a well-formed attestation document.',
  UnknownEvidenceFormat: 'This is neither a Nitro/dev attestation document (COSE_Sign1) nor an AMD SEV-SNP report.',
  DebugEnclave: 'The enclave runs in debug mode: its host can read its memory, so its key is not protected.',
  NonceMismatch:
    'The evidence does not echo the random nonce that was sent. It may be an old answer replayed, not fresh proof from the enclave.',
  PublicKeyMismatch: 'The evidence vouches for a different key than the one the enclave publishes.',
  BindingMismatch: 'The evidence is not about this binding: the key, policy or platform it vouches for is not the one published.',
  PcrMismatch:
    'The enclave runs a program whose measurement (PCRs) is not one of the published builds you gave: it is not (provably) the reproducible build.',
  MeasurementMismatch: 'The launch measurement is not one of the published builds you gave: it is not (provably) the reproducible build.',
  MeasurementNotPinned:
    'You gave no published measurements, so which program holds the key was not checked. Drop a measurements file (encumber measure, or attestation/measurements.json), or accept any program explicitly.',
  EvidenceTooOld: 'The evidence is older than the maximum age.',
  TcbMismatch: 'The TCB the report claims is not the one its certificate vouches for.',
  TcbBelowFloor:
    'The platform runs AMD firmware or microcode older than the fix of a published security bulletin (named in the row): its host may be able to read or change the enclave. Only an explicit minimum TCB (or none) accepts it.',
  VmplMismatch: 'The report was requested from another privilege level (VMPL) inside the guest than the one expected: it may not come from the enclave program itself.',
  ChipIdMismatch: 'The report is not from the chip its certificate names.',
  PolicyViolation: 'The guest policy allows what a trustworthy enclave must not (debug, migration agent, or the wrong VMPL).',
  PolicyPinMismatch:
    'The enclave enforces another policy, or a policy for another repository, than the one you said you trust: its signatures are not your organisation\'s.',
  CheckNotPossible: 'You asked for a check that these inputs do not allow (see the row): it is a failure, not a skip.',
  EvidenceMissing: 'There is no attestation: without it nothing shows which program holds the key.',
  MissingEnclaveSignature: 'The record carries no enclave signature as its last entry: the enclave did not sign it.',
  EnclaveSignatureInvalid: 'The enclave\'s signature does not verify over this record: it was changed after signing, or not signed by this enclave.',
  ReceiptInvalid: 'The enclave\'s receipt is missing, for another record or policy, badly signed, or does not cover a co-signer.',
  RepoProofInvalid:
    'The repository proof (the getRecord CAR) is malformed: not one root, a block missing or not matching its CID, or a bad commit or tree node (see the row).',
  RepoCommitSignatureInvalid: 'The repository commit is not signed by the repository\'s signing key: it did not come from that account.',
  RepoDidMismatch: 'The repository commit belongs to another account than the one the at:// URI names.',
  RecordNotInRepo: 'The signed repository commit does not contain this record: it was deleted, never published there, or replaced.',
  RepoCommitStale: 'The record came from a server other than the repository\'s own PDS, and its commit is not the repository\'s latest there: it may show a post since edited or deleted.',
  DidResolutionFailed: 'The repository\'s DID does not name a PDS and signing key that can be used (or does not claim the handle given), so the record cannot be proved to be in it.',
  HandoffEvidenceInvalid: 'Key hand-off: the other instance\'s evidence does not verify, or its hand-off document is malformed.',
  HandoffMeasurementNotApproved: 'Key hand-off: the other instance runs a program that is not an approved build.',
  HandoffDebugEnclave: 'Key hand-off: the other instance is a debug-mode enclave, whose host can read its memory.',
  HandoffPlatformMismatch: 'Key hand-off: the other instance attests on another platform (a dev root is never accepted by hardware, nor the reverse).',
  HandoffPolicyMismatch: 'Key hand-off: the other instance enforces another policy.',
  HandoffChallengeExpired: 'Key hand-off: the challenge expired before it was answered.',
  HandoffReplay: 'Key hand-off: the challenge is unknown or was already used (each is good for one request).',
  HandoffKeyMismatch: 'Key hand-off: the key that was sealed is not the key the sender attested.',
  HandoffSealInvalid: 'Key hand-off: the sealed key does not open with this instance\'s ephemeral key and this transcript.',
  UpgradeInvalid: 'Upgrade: the statement is not a well-formed dev.encumber.upgrade (policy CID, measurements, createdAt).',
  UpgradePolicyMismatch: 'Upgrade: the statement names another policy than the one the enclave enforces.',
  DidGuardDisabled: 'The enclave\'s policy does not enable the DID guard: it holds no rotation key for the organisation\'s DID.',
  PlcOpInvalid: 'DID guard: the proposed PLC operation is not an unsigned plc_operation of the allowed shape.',
  PlcOpPrevMismatch: 'DID guard: the operation does not follow the current head of the organisation\'s DID log (someone changed the DID since the draft was made).',
  PlcOpGuardKeyNotFirst: 'DID guard: the operation would remove the enclave\'s guard key or lower its priority, which the policy does not allow.',
  DidGuardNotRotationKey: 'DID guard: the organisation\'s DID does not list the enclave\'s guard key among its rotation keys, so the enclave cannot change it.',
  PlcOpRejected: 'DID guard: the PLC directory refused the operation the enclave signed.',
  DidGuardCannotRevert: 'DID guard: an operation the guard did not sign was signed by a rotation key the guard key does not outrank, so it cannot be reverted.',
  DidGuardWindowPassed: 'DID guard: an operation the guard did not sign is older than PLC\'s 72-hour recovery window and can no longer be reverted.',
  DidGuardIntrusionPending: 'DID guard: the organisation\'s DID log holds a change the guard did not sign and will revert; an operation built on it would be undone with it. Draft again once the guard has reverted it.',
  InvalidCosignature: 'A co-signature does not verify, or a member signed twice.',
  UnknownSigner: 'A co-signature is by someone the policy does not name.',
  InsufficientCosigners: 'Fewer members co-signed than the policy needs.',
  RemoteUnavailable: 'A server this page asked did not answer usably (see the row).',
  UsageError: 'An input could not be read (see the row).',
};

const BY_ROW: Record<string, string> = {
  'identity-policy': 'The identity\'s policy does not hash to the policy CID it claims.',
  'identity-binding': 'The identity\'s binding does not match its key or policy.',
  'record-shape': 'The record is not a signed record of a collection this policy allows.',
  payload: 'The payload everyone signed could not be rebuilt from this record.',
  'enclave-signature':
    'The enclave\'s signature does not verify over this record: it was changed after signing, or not signed by this enclave.',
  receipt: 'The enclave\'s receipt is missing, for another record or policy, or its signature does not verify.',
  cosignatures: 'The co-signatures do not add up: one does not verify, is by a non-member, or there are fewer than the policy needs.',
  'record-location': 'The record was published in another repository (or collection) than the one this enclave\'s policy governs: the enclave\'s signature does not speak for it.',
  'cosigner-keys': 'A co-signer\'s key is not the one its PLC audit log named at the state the receipt recorded.',
  'guard-log-document':
    'The guard log is not a dev.encumber.guardLog about this enclave\'s repository, policy and guard key, or it carries members the enclave does not write.',
  'guard-log-signature': 'The guard log\'s signature does not verify with the enclave key: it was changed after the enclave signed it, or another key signed it.',
};

export function plainReason(error: { code: ErrorCode; check?: string }): string {
  if (error.check && BY_ROW[error.check]) return BY_ROW[error.check]!;
  return BY_CODE[error.code] ?? 'A check failed (see the red row).';
}
