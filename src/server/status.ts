/**
 * The one place where error codes become HTTP statuses. Input problems are
 * 4xx, policy/verification refusals 422, infrastructure failures 503 (fail
 * closed: never sign on doubt), anything unknown 500 with no detail.
 */
import type { ErrorCode } from '../errors.ts';

const STATUS: Partial<Record<ErrorCode, number>> = {
  InvalidRequest: 400,
  UsageError: 400,
  InvalidDataModel: 400,
  InvalidCbor: 400,
  InvalidCid: 400,
  InvalidSyntax: 400,
  MalformedBase64: 400,
  TooLarge: 413,
  RecordTooLarge: 413,
  InsufficientCosigners: 422,
  InvalidCosignature: 422,
  UnknownSigner: 422,
  InvalidPlcLog: 422,
  StalePlcLog: 422,
  CollectionNotAllowed: 422,
  RepositoryNotAllowed: 422,
  SignerTombstoned: 422,
  SignerKeyMissing: 422,
  MissingPlcLog: 422,
  // A bound on directory requests or attestations in flight is reached (src/enclave/limits.ts).
  RateLimited: 429,
  DirectoryUnavailable: 503,
  // Not the caller's fault and may pass once the mirrors catch up; never sign on doubt.
  PlcSourcesDisagree: 503,
  ServiceNotReady: 503,
};

export function statusForCode(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}
