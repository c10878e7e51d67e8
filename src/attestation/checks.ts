/**
 * The rule runner shared by the verifiers: each rule is a named step that
 * either returns a value (and a detail line for its row) or throws a typed
 * EncumberError. The first failure stops the walk; anything that is not an
 * attestation error is still a refusal (never accept on doubt).
 */
import { EncumberError, type AttestationErrorCode, type ErrorDetails } from '../errors.ts';
import type { AttestationCheck, AttestationFailure } from './types.ts';

// A Record, so adding a code to AttestationErrorCode without listing it here fails to compile.
const ATTESTATION_CODES: Record<AttestationErrorCode, true> = {
  InvalidEvidence: true,
  EvidenceSignatureInvalid: true,
  CertificateChainInvalid: true,
  CertificateExpired: true,
  UntrustedRoot: true,
  DebugEnclave: true,
  PcrMismatch: true,
  NonceMismatch: true,
  BindingMismatch: true,
  PublicKeyMismatch: true,
  EvidenceTooOld: true,
  TcbMismatch: true,
  TcbBelowFloor: true,
  VmplMismatch: true,
  ChipIdMismatch: true,
  PolicyViolation: true,
  MeasurementMismatch: true,
  MeasurementNotPinned: true,
  EvidenceMissing: true,
  UnknownEvidenceFormat: true,
  PolicyPinMismatch: true,
  CheckNotPossible: true,
};

export function isAttestationError(e: unknown): e is EncumberError<AttestationErrorCode> {
  return e instanceof EncumberError && Object.hasOwn(ATTESTATION_CODES, e.code);
}

/** Throw a typed attestation error (the only way rules fail). */
export function reject(code: AttestationErrorCode, message: string, details: ErrorDetails = {}): never {
  throw new EncumberError(code, message, details);
}

/** Thrown by CheckLog.step to stop the walk after recording the failed row. */
class Stop extends Error {
  readonly error: EncumberError<AttestationErrorCode>;
  constructor(error: EncumberError<AttestationErrorCode>) {
    super(error.message);
    this.error = error;
  }
}

export class CheckLog {
  readonly rows: AttestationCheck[] = [];

  /** Run one rule; record its row; on failure record it and stop the walk. */
  step<T>(name: string, rule: () => T, detail: (value: T) => string): T {
    let value: T;
    try {
      value = rule();
    } catch (e) {
      const error = isAttestationError(e)
        ? e
        : new EncumberError('InvalidEvidence', `${name}: evidence could not be checked: ${(e as Error)?.message ?? String(e)}`, {
            cause: e,
          });
      this.rows.push({ name, ok: false, detail: error.message });
      throw new Stop(error as EncumberError<AttestationErrorCode>);
    }
    this.rows.push({ name, ok: true, detail: detail(value) });
    return value;
  }

  /** Record a rule that was not requested. */
  skip(name: string, detail: string): void {
    this.rows.push({ name, ok: true, detail, skipped: true });
  }

  /** Turn whatever stopped the walk into a failed verdict. */
  failure(e: unknown): AttestationFailure {
    if (e instanceof Stop) return { ok: false, error: e.error, checks: this.rows };
    const error = isAttestationError(e)
      ? e
      : new EncumberError('InvalidEvidence', `evidence could not be checked: ${(e as Error)?.message ?? String(e)}`, {
          cause: e,
        });
    this.rows.push({ name: 'internal', ok: false, detail: error.message });
    return { ok: false, error: error as EncumberError<AttestationErrorCode>, checks: this.rows };
  }
}
