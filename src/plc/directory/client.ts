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

/**
 * `POST {directory}/{did}` with a signed operation (the DID guard's write,
 * docs/did-guard.md). 2xx: accepted, the directory's answer returned as it
 * came. 4xx: the directory refused the operation (`PlcOpRejected`, its
 * message kept). Anything else, or no answer: `DirectoryUnavailable`.
 */
export async function submitOperation(directory: string, did: string, operation: unknown, opts: DirectoryClientOptions = {}): Promise<{ status: number; body: unknown }> {
  const url = new URL(encodeURIComponent(did), directory.endsWith('/') ? directory : directory + '/');
  const { status, body } = await requestJson(url, {
    method: 'POST',
    body: operation,
    allowNonJson: true,
    timeoutMs: opts.timeoutMs ?? DEFAULT_DIRECTORY_TIMEOUT_MS,
    maxBytes: opts.maxBytes ?? DEFAULT_DIRECTORY_MAX_BYTES,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.timeoutSignal ? { timeoutSignal: opts.timeoutSignal } : {}),
    unavailableCode: 'DirectoryUnavailable',
    what: `PLC directory ${url.origin}`,
  });
  if (status >= 200 && status < 300) return { status, body };
  if (status >= 400 && status < 500) {
    const said = typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string' ? (body as { message: string }).message : JSON.stringify(body ?? null).slice(0, 300);
    throw new EncumberError('PlcOpRejected', `PLC directory ${url.origin} refused the operation (HTTP ${status}): ${said}`, { actual: status });
  }
  throw new EncumberError('DirectoryUnavailable', `PLC directory ${url.origin}: HTTP ${status}`);
}
