/**
 * The one JSON-over-HTTP client (the CLI, the page, the member tools and the
 * PLC directory client): bounded in time and size, no redirects, a typed
 * `RemoteUnavailable` for every transport failure. An answer with another
 * status is returned, not thrown: XRPC errors (`{ error, message }`) are
 * answers the caller shows. Browser-safe (fetch, AbortSignal, TextDecoder).
 */
import { EncumberError, type ErrorCode } from '../errors.ts';

export interface HttpJsonOptions {
  method?: 'GET' | 'POST';
  /** Sent as JSON (content-type application/json). */
  body?: unknown;
  /** Default 10 s. */
  timeoutMs?: number;
  /** The signal that ends a request after `timeoutMs` (default AbortSignal.timeout): tests pass their own clock. */
  timeoutSignal?: (ms: number) => AbortSignal;
  /** Default 4 MiB: a larger answer is refused while it is read. */
  maxBytes?: number;
  fetch?: typeof fetch;
  /** The code of transport failures (default RemoteUnavailable; the PLC client says DirectoryUnavailable). */
  unavailableCode?: ErrorCode;
  /** What the remote is, for messages ("the enclave", "PLC directory"). */
  what?: string;
  /** A success need not carry JSON (e.g. a PLC directory accepting an operation answers 200 with text): body undefined. */
  allowNonJson?: boolean;
  /** Extra request headers (e.g. `authorization`); they cannot replace accept or content-type. */
  headers?: Readonly<Record<string, string>>;
  /** Extra request options (e.g. the page's `cache: 'no-store'`). */
  init?: Pick<RequestInit, 'cache'>;
}

export interface HttpJsonAnswer {
  status: number;
  /** The parsed JSON body (undefined for an empty body). */
  body: unknown;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
export const DEFAULT_HTTP_MAX_BYTES = 4 * 1024 * 1024;

/** What a bounded request returns before any decoding: the status, the content type and the whole body. */
export interface HttpBytesAnswer {
  status: number;
  contentType: string;
  bytes: Uint8Array;
}

/**
 * The bounded request under both readers: time limit, no redirects, size
 * limit from Content-Length and while reading, a typed unavailable error for
 * every transport failure. `accept`, the JSON body's content type and a POST's
 * `connection: close` are set here and cannot be replaced by `headers`.
 */
async function requestBounded(url: URL | string, opts: HttpJsonOptions, accept: string): Promise<HttpBytesAnswer> {
  const u = new URL(url);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_HTTP_MAX_BYTES;
  const unavailable = unavailableError(u, opts);
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(u, {
      method: opts.method ?? 'GET',
      redirect: 'error',
      signal: (opts.timeoutSignal ?? AbortSignal.timeout)(timeoutMs),
      headers: {
        ...opts.headers,
        accept,
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        // A POST is not retried: it gets a connection of its own, never a kept-alive one the remote may have just
        // closed as idle (a browser ignores the header and manages its connections itself).
        ...(opts.method === 'POST' ? { connection: 'close' } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      ...opts.init,
    });
  } catch (cause) {
    const timedOut = (cause as Error)?.name === 'TimeoutError';
    throw unavailable(timedOut ? `no answer within ${timeoutMs} ms` : `cannot reach ${u.origin} (${(cause as Error)?.message})`, cause);
  }
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw unavailable(`answer of ${declared} bytes exceeds ${maxBytes}`);
  }
  try {
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', bytes: await readLimited(res.body, maxBytes) };
  } catch (cause) {
    throw cause instanceof EncumberError ? unavailable(cause.message) : unavailable(`reading the answer failed (${(cause as Error)?.message})`, cause);
  }
}

const unavailableError = (u: URL, opts: HttpJsonOptions) => (why: string, cause?: unknown) =>
  new EncumberError(opts.unavailableCode ?? 'RemoteUnavailable', `${opts.what ?? u.origin}: ${why}`, cause === undefined ? {} : { cause });

export async function requestJson(url: URL | string, opts: HttpJsonOptions = {}): Promise<HttpJsonAnswer> {
  const { status, bytes } = await requestBounded(url, opts, 'application/json');
  if (bytes.length === 0) return { status, body: undefined };
  try {
    return { status, body: JSON.parse(new TextDecoder('utf-8').decode(bytes)) };
  } catch (cause) {
    // An error page need not be JSON; a success must be.
    if (status !== 200 || opts.allowNonJson) return { status, body: undefined };
    throw unavailableError(new URL(url), opts)('the answer is not JSON', cause);
  }
}

/** A binary answer (e.g. a CAR), with the same bounds; another status is returned with its bytes, not thrown. */
export function requestBytes(url: URL | string, opts: HttpJsonOptions & { accept: string }): Promise<HttpBytesAnswer> {
  return requestBounded(url, opts, opts.accept);
}

/** GET and require 200 with a JSON object; another status is a RemoteUnavailable naming the XRPC error if any. */
export async function getJsonObject(url: URL | string, opts: HttpJsonOptions = {}): Promise<Record<string, unknown>> {
  const { status, body } = await requestJson(url, opts);
  if (status !== 200) throw new EncumberError(opts.unavailableCode ?? 'RemoteUnavailable', `${opts.what ?? new URL(url).origin}: HTTP ${status}${xrpcErrorText(body)}`);
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new EncumberError(opts.unavailableCode ?? 'RemoteUnavailable', `${opts.what ?? new URL(url).origin}: the answer is not a JSON object`);
  }
  return body as Record<string, unknown>;
}

/** ` Code: message` of an XRPC error body, or ''. */
export function xrpcErrorText(body: unknown): string {
  const b = body as { error?: unknown; message?: unknown } | undefined;
  return b && typeof b.error === 'string' ? ` ${b.error}${typeof b.message === 'string' ? `: ${b.message}` : ''}` : '';
}

/** A whole web body stream, refused (`TooLarge`) as soon as it passes `maxBytes` (the server's request bodies too). */
export async function readLimited(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new EncumberError('TooLarge', `body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}
