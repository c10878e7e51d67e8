/**
 * The HTTP API (DESIGN.md "HTTP API"), XRPC style. Limits are enforced before
 * parsing, bodies are validated by zod at the edge, and every error goes
 * through `onError`, which maps codes to statuses in one place (./status.ts).
 *
 * The verification page is served when the caller hands its files in
 * (`web`): the page's code sits above the server, so the server never imports
 * it (src/web/assets.ts loads them for `encumber serve` and the enclave image).
 */
import { serve as serveHttp } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { EncumberError, type ErrorCode } from '../errors.ts';
import { fromHex } from '../crypto/encoding.ts';
import type { SigningService } from '../enclave/service.ts';
import { approveUpgradeBody, attestationQuery, handoffOfferBody, handoffRequestBody, signPlcOpBody, signRecordBody } from './schemas.ts';
import { jsonToIpld } from '../data/json.ts';
import type { z } from 'zod';
import { statusForCode } from './status.ts';
import { findProtoKey, mayHaveProtoKey } from '../data/proto-key.ts';
import { readBodyText, requestHeader } from './body.ts';
import { silentLogger, type LogLine, type Logger } from './log.ts';

export interface WebAsset {
  type: string;
  body: Uint8Array;
}

/** URL path ('/', '/app.js', ...) → file. */
export type WebAssets = ReadonlyMap<string, WebAsset>;

/** The paths the page's files are served at. */
export const WEB_PATHS = ['/', '/index.html', '/app.js', '/app.css', '/measurements.json'] as const;

export interface AppOptions {
  service: SigningService;
  logger?: Logger;
  /** Where internal failures (500) are logged with their code and reason (default: logger). */
  errorLogger?: Logger;
  /** Largest accepted request body (bytes), checked before reading it. */
  maxBodyBytes?: number;
  /** The verification page's files, served at `/` (src/web/assets.ts); without them only the API is served. */
  web?: () => Promise<WebAssets>;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** The key hand-off's bodies: a nonce; a document and its evidence (an SEV-SNP report with certificates is ~10 KiB). */
export const HANDOFF_OFFER_MAX_BYTES = 1024;
export const HANDOFF_REQUEST_MAX_BYTES = 96 * 1024;

type Env = { Variables: { requestId: string; errorCode?: string } };

export function createApp(opts: AppOptions): Hono<Env> {
  const { service } = opts;
  const log = opts.logger ?? silentLogger;
  const errorLog = opts.errorLogger ?? log;
  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    const requestId = crypto.randomUUID();
    c.set('requestId', requestId);
    const started = performance.now();
    await next();
    c.header('x-request-id', requestId);
    log({
      t: new Date().toISOString(),
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 100) / 100,
      error: c.get('errorCode') ?? null,
    });
  });
  // The verification page loads nothing from elsewhere; it may fetch (when the user asks) another
  // enclave's or a PDS's JSON, so connect-src also allows https and loopback http.
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", 'https:', 'http://localhost:*', 'http://127.0.0.1:*'],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  app.use('*', async (c, next) => {
    await next();
    c.header('cache-control', 'no-store');
  });

  // The verification page (src/web) and its assets; identity and attestation are public, so a
  // copy of the page on another origin (npm run build:web) may read them too.
  const web = opts.web;
  if (web) for (const path of WEB_PATHS) {
    app.get(path, async (c) => {
      const file = (await web()).get(path);
      if (!file) return c.json({ error: 'NotFound', message: `no route GET ${path}` }, 404);
      return c.body(file.body as Uint8Array<ArrayBuffer>, 200, { 'content-type': file.type });
    });
  }
  app.use('/xrpc/dev.encumber.getIdentity', cors);
  app.use('/xrpc/dev.encumber.getAttestation', cors);
  app.use('/xrpc/dev.encumber.getUpgrades', cors);
  app.use('/xrpc/dev.encumber.getGuardLog', cors);

  // 200 only while serving; otherwise 503 with the state and, once failed, the failure's code and reason.
  app.get('/xrpc/_health', (c) => {
    const state = service.state;
    if (state === 'serving') return c.json({ status: 'ok' });
    const failure = service.failure;
    c.set('errorCode', 'ServiceNotReady');
    return c.json(
      {
        error: 'ServiceNotReady',
        message: `the service is ${state}${failure ? `: ${failure.code}${failure.reason ? ` (${failure.reason})` : ''}` : ''}`,
        state,
        ...(failure ? { failure: { code: failure.code, ...(failure.reason ? { reason: failure.reason } : {}) } } : {}),
      },
      503,
    );
  });

  app.get('/xrpc/dev.encumber.getIdentity', (c) => c.json(service.identity()));

  app.get('/xrpc/dev.encumber.getAttestation', async (c) => {
    const q = attestationQuery.safeParse(c.req.query());
    if (!q.success) throw badRequest(q.error.issues[0]?.message ?? 'invalid query');
    return c.json(await service.attestation(fromHex(q.data.nonce)));
  });

  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  app.post('/xrpc/dev.encumber.signRecord', async (c) => c.json(await service.signRecord(await jsonBody(c, maxBodyBytes, signRecordBody))));

  // Quorum-approved upgrades (docs/key-handoff.md "Upgrades"): a co-signed statement in, the approvals out.
  app.post('/xrpc/dev.encumber.approveUpgrade', async (c) => c.json(await service.approveUpgrade(await jsonBody(c, maxBodyBytes, approveUpgradeBody))));
  app.get('/xrpc/dev.encumber.getUpgrades', (c) => c.json(service.upgrades()));
  // The DID guard (docs/did-guard.md): quorum-approved PLC operations, and the watcher's public log.
  app.post('/xrpc/dev.encumber.signPlcOp', async (c) => c.json(await service.signPlcOp(await jsonBody(c, maxBodyBytes, signPlcOpBody))));
  app.get('/xrpc/dev.encumber.getGuardLog', (c) => c.json(service.guardLog()));

  // Key hand-off (src/enclave/handoff.ts, docs/key-handoff.md): bodies bounded before they are read,
  // then the schema; the service checks the rest cheapest first.
  app.post('/xrpc/dev.encumber.handoffOffer', async (c) => {
    const body = await jsonBody(c, HANDOFF_OFFER_MAX_BYTES, handoffOfferBody);
    return c.json(await service.handoffOffer(bytesOf(body.nonce, 'nonce')));
  });
  app.post('/xrpc/dev.encumber.handoffRequest', async (c) => c.json(await service.handoffRequest(await jsonBody(c, HANDOFF_REQUEST_MAX_BYTES, handoffRequestBody))));

  app.notFound((c) => c.json({ error: 'NotFound', message: `no route ${c.req.method} ${c.req.path}` }, 404));

  app.onError((err, c) => {
    if (err instanceof EncumberError) {
      const status = statusForCode(err.code as ErrorCode);
      c.set('errorCode', err.code);
      // A bound on outbound work was reached (DESIGN.md "Resource rules"): the caller may retry shortly.
      if (status === 429) c.header('retry-after', '1');
      // A body over the limit was not read to its end: close the connection rather than drain it.
      if (err.code === 'TooLarge') c.header('connection', 'close');
      if (status !== 500) return c.json({ error: err.code, message: err.message }, status as 400);
    } else {
      c.set('errorCode', 'InternalError');
    }
    // The client learns nothing; the operator's log gets the typed code and reason.
    errorLog(internalFailure(err, c));
    return internal(c);
  });

  return app;
}

async function cors(c: Context<Env>, next: () => Promise<void>) {
  await next();
  c.header('access-control-allow-origin', '*');
}

/**
 * A JSON body: the content type, the size (before and while reading), JSON,
 * no `__proto__` key, then the zod schema.
 */
async function jsonBody<S extends z.ZodType>(c: Context<Env>, maxBytes: number, schema: S): Promise<z.infer<S>> {
  const contentType = requestHeader(c, 'content-type') ?? '';
  if (!/^application\/json(\s*;|$)/i.test(contentType)) throw badRequest('Content-Type must be application/json');
  const text = await readBodyText(c, maxBytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('body is not valid JSON');
  }
  const proto = mayHaveProtoKey(text) ? findProtoKey(body) : undefined;
  if (proto !== undefined) throw badRequest(`forbidden key "__proto__" at ${proto}`);
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badRequest(`${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** `{"$bytes"}` decoded by the data-model rules. */
function bytesOf(v: { $bytes: string }, name: string): Uint8Array {
  try {
    return jsonToIpld(v) as Uint8Array;
  } catch {
    throw badRequest(`${name}: $bytes is not valid base64`);
  }
}

function badRequest(message: string): EncumberError {
  return new EncumberError('InvalidRequest', message);
}

/**
 * One log line for a failure the client only sees as 500: the project's error
 * code, the finer reason where the error has one (NSM failures: `reason`,
 * `nsmCode`, `errno`), and the message. Error messages name what failed,
 * never key material; stacks and causes are not logged.
 */
function internalFailure(err: unknown, c: Context<Env>): LogLine {
  const e = err as Partial<EncumberError> & { reason?: unknown; nsmCode?: unknown; errno?: unknown; name?: unknown; message?: unknown };
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const line: LogLine = {
    t: new Date().toISOString(),
    level: 'error',
    requestId: c.get('requestId') ?? null,
    method: c.req.method,
    path: c.req.path,
    error: err instanceof EncumberError ? err.code : 'InternalError',
    reason: text(e.reason) ?? (err instanceof EncumberError ? err.code : text(e.name) ?? typeof err),
    message: (text(e.message) ?? String(err)).slice(0, 500),
  };
  if (text(e.nsmCode)) line.nsmCode = text(e.nsmCode);
  if (text(e.errno)) line.errno = text(e.errno);
  return line;
}

function internal(c: Context<Env>) {
  return c.json({ error: 'InternalError', message: 'internal error' }, 500);
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Listen on host:port (0: any free port) with Node's HTTP server; resolves once listening. */
export async function listen(app: Hono<Env>, host: string, port: number): Promise<RunningServer> {
  const server = await new Promise<ReturnType<typeof serveHttp>>((ok, fail) => {
    const s = serveHttp({ fetch: app.fetch, port, hostname: host }, () => ok(s));
    s.once('error', fail);
  });
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
