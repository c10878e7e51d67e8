/**
 * The page's files and how the server serves them (no browser needed):
 * the build is deterministic and within its size budget, references only
 * its own files, and the app serves it at `/` with a self-only CSP; the
 * public GET endpoints allow other origins (a copy of the page elsewhere).
 */
import { loadWebAssets } from '../../src/web/assets.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { buildWeb } from '../../src/web/build.ts';
import { createWorld } from '../support/world.ts';

test('npm run build:web is deterministic, self-contained and small', async () => {
  const [a, b] = [await buildWeb(), await buildWeb()];
  assert.deepEqual(
    a.map((f) => f.name),
    b.map((f) => f.name),
  );
  for (const [i, f] of a.entries()) assert.deepEqual(f.body, b[i]!.body, `${f.name} is byte-identical across builds`);
  const html = new TextDecoder().decode(a.find((f) => f.name === 'index.html')!.body);
  const refs = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(refs, ['data:,', 'app.css', 'app.js', '#verdict'], 'the page loads only its own files (and links within itself)');
  assert.match(html, /http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self';/);
  const js = a.find((f) => f.name === 'app.js')!.body;
  const text = new TextDecoder().decode(js);
  assert.doesNotMatch(text, /\bimport\s*\(|\brequire\(["']/, 'no run-time module loading');
  assert.doesNotMatch(text, /sourceMappingURL/);
  // Budget: today ≈ 535 kB minified, ≈ 165 kB gzip (zod ≈ 190 kB of it).
  assert.ok(js.length < 650_000, `app.js is ${js.length} bytes`);
  assert.ok(gzipSync(js).length < 200_000, `app.js is ${gzipSync(js).length} bytes gzipped`);
});

test('the server serves the page at / with a self-only CSP, and CORS on the public GET endpoints', async () => {
  const { app } = await createWorld({ web: loadWebAssets });
  const page = await app.request('/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type')!, /^text\/html/);
  assert.match(await page.text(), /encumber · live verification/);
  const csp = page.headers.get('content-security-policy')!;
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  for (const [path, type] of [
    ['/app.js', /^text\/javascript/],
    ['/app.css', /^text\/css/],
    ['/index.html', /^text\/html/],
  ] as const) {
    const r = await app.request(path);
    assert.equal(r.status, 200, path);
    assert.match(r.headers.get('content-type')!, type, path);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  }
  const id = await app.request('/xrpc/dev.encumber.getIdentity');
  assert.equal(id.headers.get('access-control-allow-origin'), '*');
  const att = await app.request('/xrpc/dev.encumber.getAttestation?nonce=00');
  assert.equal(att.headers.get('access-control-allow-origin'), '*');
  // Nothing else gains CORS, and unknown paths are still JSON 404s.
  const sign = await app.request('/xrpc/dev.encumber.signRecord', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(sign.headers.get('access-control-allow-origin'), null);
  const missing = await app.request('/nowhere.js');
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: string }).error, 'NotFound');
});
