/**
 * What every attestation verifier returns (nitro and dev now; sev-snp later).
 *
 * Verifiers never throw on bad evidence: they return a verdict. `checks` lists
 * the rules in the order they ran, one row each, so a CLI or a web page can
 * show what passed, what was not requested, and the one rule that failed (the
 * last row of a failed verdict). Only invalid *options* (a caller bug) throw,
 * as EncumberError('UsageError').
 */
import type { AttestationErrorCode, EncumberError } from '../errors.ts';

export interface AttestationCheck {
  /** Stable rule name, e.g. 'chain-signatures' (see each verifier's rule list). */
  name: string;
  ok: boolean;
  /** One human line: what was checked and against what. */
  detail: string;
  /** The rule was not requested (e.g. no expected nonce given); `ok` is true. */
  skipped?: true;
}

export type AttestationFailure = {
  ok: false;
  error: EncumberError<AttestationErrorCode>;
  checks: AttestationCheck[];
};
