/**
 * The page's k256 engine is @noble/curves, pure JS (docs/decisions.md, "k256
 * in the page"; bench/browser-k256.ts measures the alternative). libsecp256k1
 * as WebAssembly would need 'wasm-unsafe-eval' in the page's CSP, which is
 * `script-src 'self'`, and adds ~1.2 MB gzip to a page budgeted at 200 kB.
 * Needs no browser: it reads the bundle the page ships.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildWeb } from '../../src/web/build.ts';

test('the page verifies k256 with noble and compiles no WebAssembly', async () => {
  const files = await buildWeb();
  const js = new TextDecoder().decode(files.find((f) => f.name === 'app.js')!.body);
  // The secp256k1 group order as noble's secp256k1.js spells it: noble's curve is in the bundle.
  assert.match(js, /0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141/i, "noble's secp256k1 is bundled");
  assert.doesNotMatch(js, /WebAssembly/, "the page's CSP (script-src 'self', no 'wasm-unsafe-eval') would refuse to compile it");
  const html = new TextDecoder().decode(files.find((f) => f.name === 'index.html')!.body);
  assert.doesNotMatch(html, /unsafe-eval/, 'the CSP stays without any eval, wasm included');
});
