/**
 * The one JSON-over-HTTP client (src/http/json.ts): bounded in time and size,
 * no redirects, typed failures; other statuses are answers, not errors. Each
 * rule is driven through an injected fetch (no network, no real waiting).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getJsonObject, requestJson, xrpcErrorText } from '../../src/http/json.ts';
import { EncumberError } from '../../src/errors.ts';

const URL_ = 'http://127.0.0.1:9/x';
const answer = (body: BodyInit | null, init: ResponseInit = {}) => async () => new Response(body, init);
const rejectsWith = async (p: Promise<unknown>, code: string, message?: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof EncumberError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });

test('a JSON answer is parsed; the request asks for JSON, sends JSON, refuses redirects and carries a timeout signal', async () => {
  let seen: RequestInit | undefined;
  const fetch = (async (_u: URL, init: RequestInit) => {
    seen = init;
    return new Response('{"a":1}', { status: 200 });
  }) as unknown as typeof globalThis.fetch;
  assert.deepEqual(await requestJson(URL_, { fetch, method: 'POST', body: { b: 2 } }), { status: 200, body: { a: 1 } });
  assert.equal(seen?.redirect, 'error');
  assert.equal(seen?.body, '{"b":2}');
  assert.equal((seen!.headers as Record<string, string>)['content-type'], 'application/json');
  assert.ok(seen?.signal instanceof AbortSignal);
  // A POST is not retried, so it never rides a kept-alive connection; a GET may.
  assert.equal((seen!.headers as Record<string, string>).connection, 'close');
  await requestJson(URL_, { fetch });
  assert.equal((seen!.headers as Record<string, string>).connection, undefined);
  await requestJson(URL_, { fetch, method: 'POST', body: {}, headers: { connection: 'keep-alive' } });
  assert.equal((seen!.headers as Record<string, string>).connection, 'close', 'a caller cannot undo it');
});

test('another status is an answer, with its XRPC error; an error page need not be JSON', async () => {
  const r = await requestJson(URL_, { fetch: answer('{"error":"InsufficientCosigners","message":"1 of 2"}', { status: 422 }) as never });
  assert.equal(r.status, 422);
  assert.equal(xrpcErrorText(r.body), ' InsufficientCosigners: 1 of 2');
  assert.deepEqual(await requestJson(URL_, { fetch: answer('<html>bad gateway</html>', { status: 502 }) as never }), { status: 502, body: undefined });
  await rejectsWith(getJsonObject(URL_, { fetch: answer('{"error":"RateLimited"}', { status: 429 }) as never }), 'RemoteUnavailable', /HTTP 429 RateLimited/);
});

test('a success that is not JSON is refused, unless the caller accepts that', async () => {
  await rejectsWith(requestJson(URL_, { fetch: answer('OK', { status: 200 }) as never }), 'RemoteUnavailable', /not JSON/);
  assert.deepEqual(await requestJson(URL_, { fetch: answer('OK', { status: 200 }) as never, allowNonJson: true }), { status: 200, body: undefined });
  await rejectsWith(getJsonObject(URL_, { fetch: answer('[1]', { status: 200 }) as never }), 'RemoteUnavailable', /not a JSON object/);
});

test('size: a declared oversize answer is refused before reading; an undeclared one while reading', async () => {
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(new Uint8Array(1024).fill(0x20));
    },
  });
  await rejectsWith(requestJson(URL_, { fetch: answer('x'.repeat(10), { headers: { 'content-length': '5000' } }) as never, maxBytes: 4096 }), 'RemoteUnavailable', /5000 bytes exceeds 4096/);
  await rejectsWith(requestJson(URL_, { fetch: answer(endless) as never, maxBytes: 4096 }), 'RemoteUnavailable', /exceeds 4096/);
  assert.ok(pulled <= 8, `read ${pulled} chunks of an endless body`);
});

test('time: when the timeout signal fires, the request ends as a typed timeout (the caller\'s clock, no waiting)', async () => {
  const clock = new AbortController();
  const hanging = ((_u: URL, init: RequestInit) =>
    new Promise((_ok, fail) => init.signal!.addEventListener('abort', () => fail(init.signal!.reason)))) as unknown as typeof fetch;
  const pending = requestJson(URL_, { fetch: hanging, timeoutMs: 1234, timeoutSignal: (ms) => (assert.equal(ms, 1234), clock.signal) });
  clock.abort(new DOMException('time is up', 'TimeoutError'));
  await rejectsWith(pending, 'RemoteUnavailable', /no answer within 1234 ms/);
});

test('transport failures carry the caller\'s code and name the remote', async () => {
  const down = (async () => {
    throw new TypeError('fetch failed');
  }) as unknown as typeof fetch;
  await rejectsWith(requestJson(URL_, { fetch: down }), 'RemoteUnavailable', /127\.0\.0\.1:9.*fetch failed/);
  await rejectsWith(requestJson(URL_, { fetch: down, unavailableCode: 'DirectoryUnavailable', what: 'PLC directory' }), 'DirectoryUnavailable', /^PLC directory: /);
});
