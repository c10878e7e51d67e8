/** One way to report a malformed identifier: code InvalidSyntax, input shown truncated. */
import { EncumberError } from '../../errors.ts';

export function syntaxError(expected: string, input: unknown, reason: string, cause?: unknown): EncumberError {
  const actual = typeof input === 'string' ? input.slice(0, 100) : typeof input;
  return new EncumberError('InvalidSyntax', `invalid ${expected} (${reason}): ${JSON.stringify(actual)}`, {
    expected,
    actual,
    cause,
  });
}
