/**
 * The directory client: `GET {directory}/{did}/log/audit`, the I/O edge of
 * the PLC code. Bounded in time and size; every failure is a typed
 * `DirectoryUnavailable` (the service answers 503 and does not sign), except
 * a 404, which says the DID does not exist (`MissingPlcLog`).
 */
import { EncumberError } from '../../errors.ts';

export interface DirectoryClientOptions {
  timeoutMs?: number;
  maxBytes?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_DIRECTORY_TIMEOUT_MS = 5_000;
export const DEFAULT_DIRECTORY_MAX_BYTES = 2 * 1024 * 1024;

export async function fetchAuditLog(directory: string, did: string, opts: DirectoryClientOptions = {}): Promise<unknown> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_DIRECTORY_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_DIRECTORY_MAX_BYTES;
  const doFetch = opts.fetch ?? fetch;
  const url = new URL(`${encodeURIComponent(did)}/log/audit`, directory.endsWith('/') ? directory : directory + '/');
  const unavailable = (why: string, cause?: unknown) =>
    new EncumberError('DirectoryUnavailable', `PLC directory ${url.origin}: ${why}`, { cause });

  let res: Response;
  try {
    res = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error', headers: { accept: 'application/json' } });
  } catch (cause) {
    const timedOut = (cause as Error)?.name === 'TimeoutError';
    throw unavailable(timedOut ? `no answer within ${timeoutMs} ms` : `request failed (${(cause as Error)?.message})`, cause);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    throw new EncumberError('MissingPlcLog', `PLC directory has no DID ${did}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw unavailable(`HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw unavailable(`answer of ${declared} bytes exceeds ${maxBytes}`);
  }
  const text = await readLimited(res, maxBytes, timeoutMs).catch((cause) => {
    throw cause instanceof EncumberError ? cause : unavailable(`reading the answer failed (${(cause as Error)?.message})`, cause);
  });
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw unavailable('answer is not JSON', cause);
  }
}

async function readLimited(res: Response, maxBytes: number, _timeoutMs: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new EncumberError('DirectoryUnavailable', `PLC directory answer exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}
