/**
 * Errors of the SEV-SNP launch-measurement calculation. The inputs are files
 * (firmware, kernel) a builder or verifier supplies, so every failure names
 * what was expected and what came, under a stable code that tests match on.
 */
import { EncumberError, type SnpMeasureErrorCode } from '../../errors.ts';

export type { SnpMeasureErrorCode };

/** An EncumberError with a measurement code (src/errors.ts), so every front end reports it the same way. */
export class SnpMeasureError extends EncumberError<SnpMeasureErrorCode> {
  constructor(code: SnpMeasureErrorCode, message: string, expected?: unknown, actual?: unknown) {
    super(code, message, { ...(expected !== undefined ? { expected } : {}), ...(actual !== undefined ? { actual } : {}) });
    this.name = 'SnpMeasureError';
  }
}
