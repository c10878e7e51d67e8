/**
 * The directory client: `GET {directory}/{did}/log/audit`, the I/O edge of
 * the PLC code, over the project's one JSON-over-HTTP client (bounded in time
 * and size, no redirects). Every failure is a typed `DirectoryUnavailable`
 * (the service answers 503 and does not sign), except a 404, which says the
 * DID does not exist (`MissingPlcLog`).
 */
import { EncumberError } from '../../errors.ts';
import { requestJson } from '../../http/json.ts';

export interface DirectoryClientOptions {
  timeoutMs?: number;
  maxBytes?: number;
  fetch?: typeof fetch;
  /** See HttpJsonOptions.timeoutSignal. */
  timeoutSignal?: (ms: number) => AbortSignal;
  /** Extra request options (the page's `cache: 'no-store'`: a log is never taken from the browser's cache). */
  init?: Pick<RequestInit, 'cache'>;
}

export const DEFAULT_DIRECTORY_TIMEOUT_MS = 5_000;
export const DEFAULT_DIRECTORY_MAX_BYTES = 2 * 1024 * 1024;

export async function fetchAuditLog(directory: string, did: string, opts: DirectoryClientOptions = {}): Promise<unknown> {
  const url = new URL(`${encodeURIComponent(did)}/log/audit`, directory.endsWith('/') ? directory : directory + '/');
  const { status, body } = await requestJson(url, {
    timeoutMs: opts.timeoutMs ?? DEFAULT_DIRECTORY_TIMEOUT_MS,
    maxBytes: opts.maxBytes ?? DEFAULT_DIRECTORY_MAX_BYTES,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.timeoutSignal ? { timeoutSignal: opts.timeoutSignal } : {}),
    ...(opts.init ? { init: opts.init } : {}),
    unavailableCode: 'DirectoryUnavailable',
    what: `PLC directory ${url.origin}`,
  });
  if (status === 404) throw new EncumberError('MissingPlcLog', `PLC directory has no DID ${did}`);
  if (status !== 200) throw new EncumberError('DirectoryUnavailable', `PLC directory ${url.origin}: HTTP ${status}`);
  // An empty success is the directory's fault, not a log to verify (fail closed with 503, as for any broken answer).
  if (body === undefined) throw new EncumberError('DirectoryUnavailable', `PLC directory ${url.origin}: empty answer`);
  return body;
}
