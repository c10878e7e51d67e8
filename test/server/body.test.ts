/**
 * The signRecord body under Node's HTTP server (read from the IncomingMessage,
 * src/server/body.ts) and under `app.request` (the web stream): the same
 * answers, the limit checked from Content-Length before reading and while
 * reading a chunked body.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createApp, listen, type RunningServer } from '../../src/server/app.ts';
import { cosignBy, createWorld, draftFor, withLogs, type World } from '../support/world.ts';

const MAX = 64 * 1024;
let w: World;
let server: RunningServer;
let body: string;

before(async () => {
  w = await createWorld();
  server = await listen(createApp({ service: w.service, maxBodyBytes: MAX }), '127.0.0.1', 0);
  body = JSON.stringify(withLogs(cosignBy(draftFor('body reader'), w.members[0]!, w.members[1]!), w.members));
});
after(() => server.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, any>;
}

/** POST `chunks` one write each; chunked unless `length` is given. */
function send(chunks: string[], headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/xrpc/dev.encumber.signRecord`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
    });
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const halves = (s: string) => [s.slice(0, s.length >> 1), s.slice(s.length >> 1)];

test('a chunked body in several writes is read whole and signed', async () => {
  assert.ok(body.length < MAX);
  const a = await send(halves(body));
  assert.equal(a.status, 200, JSON.stringify(a.json));
  assert.equal(typeof a.json.cid, 'string');
});

test('a body with Content-Length is read whole and signed; the same request through app.request gives the same CID', async () => {
  const a = await send([body], { 'content-length': String(Buffer.byteLength(body)) });
  assert.equal(a.status, 200, JSON.stringify(a.json));
  const viaWeb = await w.app.request('/xrpc/dev.encumber.signRecord', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(viaWeb.status, 200);
  assert.equal(((await viaWeb.json()) as { cid: string }).cid, a.json.cid);
});

test('a chunked body over the limit: 413 TooLarge, and the connection is closed instead of drained', async () => {
  const pad = 'x'.repeat(16 * 1024);
  const a = await send(Array.from({ length: 8 }, () => pad));
  assert.equal(a.status, 413);
  assert.equal(a.json.error, 'TooLarge');
  assert.equal(a.headers.connection, 'close');
});

test('Content-Length over the limit: 413 TooLarge before the body is read', async () => {
  const a = await send(['{}'], { 'content-length': String(MAX + 1) });
  assert.equal(a.status, 413);
  assert.equal(a.json.error, 'TooLarge');
});

test('the limit holds for the web body stream too (app.request)', async () => {
  const small = createApp({ service: w.service, maxBodyBytes: 100 });
  const stream = new ReadableStream<Uint8Array>({
    start(ctl) {
      for (let i = 0; i < 3; i++) ctl.enqueue(new TextEncoder().encode('x'.repeat(60)));
      ctl.close();
    },
  });
  const res = await small.request('/xrpc/dev.encumber.signRecord', { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { error: string }).error, 'TooLarge');
});

test('the content type is read from the Node message: text/plain is refused with 400', async () => {
  const a = await send([body], { 'content-type': 'text/plain' });
  assert.equal(a.status, 400);
  assert.equal(a.json.error, 'InvalidRequest');
});
