/** The one way the reader's rules fail: InvalidEvidence with `path` naming the field. */
import { EncumberError, type ErrorDetails } from '../../../src/errors.ts';

export function invalid(path: string, message: string, details: ErrorDetails = {}): never {
  throw new EncumberError('InvalidEvidence', `EIF ${path}: ${message}`, { path, ...details });
}

export const hex32 = (n: number): string => n.toString(16).padStart(8, '0');
