/**
 * NSM failures: one class on the project's error base. `code` stays in the
 * project's union (a bad request is the caller's UsageError; anything the
 * device or the wire did is InternalError, which fails closed); `reason` says
 * which NSM rule failed, and tests match on it, never on message text.
 */
import { EncumberError } from '../../../errors.ts';
import type { NsmErrorCode } from './messages.ts';

export type NsmFailure =
  /** A request we refuse to send: a field too long, an index out of range, too large when encoded. */
  | 'InvalidRequest'
  /** The response is not one well-formed NSM response (bad CBOR, wrong shape, too large). */
  | 'MalformedResponse'
  /** A well-formed response of another kind than the request asked for. */
  | 'UnexpectedResponse'
  /** The NSM answered Error(code); `nsmCode` holds the code's name. */
  | 'NsmError'
  /** The device could not be opened (absent, no permission). */
  | 'DeviceUnavailable'
  /** The ioctl failed; `errno` holds the errno name. */
  | 'DeviceFailed'
  /** The FFI (koffi) or libc could not be loaded. */
  | 'FfiUnavailable';

export interface NsmErrorDetails {
  nsmCode?: NsmErrorCode;
  errno?: string;
  expected?: unknown;
  actual?: unknown;
  path?: string;
  cause?: unknown;
}

export class NsmError extends EncumberError<'UsageError' | 'InternalError'> {
  readonly reason: NsmFailure;
  readonly nsmCode?: NsmErrorCode;
  readonly errno?: string;

  constructor(reason: NsmFailure, message: string, details: NsmErrorDetails = {}) {
    const { nsmCode, errno, ...rest } = details;
    super(reason === 'InvalidRequest' ? 'UsageError' : 'InternalError', message, rest);
    this.name = 'NsmError';
    this.reason = reason;
    if (nsmCode !== undefined) this.nsmCode = nsmCode;
    if (errno !== undefined) this.errno = errno;
  }
}

export function isNsmError(e: unknown): e is NsmError {
  return e instanceof NsmError;
}
