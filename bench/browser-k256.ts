/**
 * k256 in the verification page: @noble/curves (pure JS, what the page uses)
 * against libsecp256k1 compiled to WebAssembly (npm `tiny-secp256k1`), both
 * measured in one headless Chromium run, side by side.
 *
 *   node --import tsx bench/browser-k256.ts [--ms=1000] [--rounds=3]
 *
 * What it does:
 *   - bundles a small page with esbuild (the page's own target and minifier) that
 *     imports both implementations; tiny-secp256k1's browser loader imports its
 *     .wasm as an ES module, which esbuild cannot do, so the bytes are inlined and
 *     instantiated synchronously (the only way into a one-file `script-src 'self'`
 *     page: no fetch, no second file);
 *   - serves it on 127.0.0.1 with the page's CSP plus 'wasm-unsafe-eval', runs
 *     verify and sign (32-byte digests, compressed keys, compact low-S
 *     signatures; verify rejects high-S in both) once untimed (JIT tiers, noble's
 *     tables), then `rounds` times, interleaved, and reports the median ops/s of
 *     each row, its range, and the ratio to noble;
 *   - checks the two agree (valid, high-S twin, flipped bit) before timing;
 *   - loads the wasm bundle once more under the page's CSP as shipped
 *     (`script-src 'self'`) and reports whether WebAssembly may be compiled there;
 *   - reports what each choice adds to app.js (minified and gzip): src/web/main.ts
 *     bundled alone, and with the wasm backend imported next to it (noble is in
 *     app.js already: p256 and the CLI code paths need it either way).
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { chromium } from 'playwright-core';
import { zodEnglishOnly } from '../src/web/build.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const PAGE_CSP_SCRIPT = "script-src 'self'";

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : fallback;
}
const ms = arg('ms', 1000);
const rounds = arg('rounds', 3);

/**
 * tiny-secp256k1's browser loader does `import * as wasm from "./secp256k1.wasm"`
 * (for bundlers with ESM-wasm support). Here: inline the bytes and instantiate
 * synchronously, with the same two import modules its Node loader passes.
 */
const inlineWasm: Plugin = {
  name: 'tiny-secp256k1-inline-wasm',
  setup(b) {
    b.onResolve({ filter: /\.wasm$/ }, (a) => ({ path: join(a.resolveDir, a.path), namespace: 'wasm-instance' }));
    b.onLoad({ filter: /.*/, namespace: 'wasm-instance' }, (a) => ({
      contents: [
        `import bytes from ${JSON.stringify(`${a.path}?bytes`)};`,
        `import * as rand from './rand.js';`,
        `import * as validate_error from './validate_error.js';`,
        `const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { './rand.js': rand, './validate_error.js': validate_error });`,
        `export const { memory, PRIVATE_INPUT, PUBLIC_KEY_INPUT, PUBLIC_KEY_INPUT2, X_ONLY_PUBLIC_KEY_INPUT, X_ONLY_PUBLIC_KEY_INPUT2, TWEAK_INPUT, HASH_INPUT, EXTRA_DATA_INPUT, SIGNATURE_INPUT } = instance.exports;`,
        `export const { initializeContext, isPoint, pointAdd, pointAddScalar, pointCompress, pointFromScalar, xOnlyPointFromScalar, xOnlyPointFromPoint, pointMultiply, privateAdd, privateSub, privateNegate, xOnlyPointAddTweak, xOnlyPointAddTweakCheck, sign, signRecoverable, signSchnorr, verify, recover, verifySchnorr } = instance.exports;`,
      ].join('\n'),
      loader: 'js',
      resolveDir: dirname(a.path),
    }));
    b.onResolve({ filter: /\.wasm\?bytes$/ }, (a) => ({ path: a.path.slice(0, -'?bytes'.length), namespace: 'wasm-bytes' }));
    b.onLoad({ filter: /.*/, namespace: 'wasm-bytes' }, (a) => ({ contents: readFileSync(a.path), loader: 'binary' }));
  },
};

/** The page's esbuild options (src/web/build.ts). */
async function bundle(contents: string, plugins: Plugin[] = []): Promise<Uint8Array> {
  const r = await build({
    absWorkingDir: ROOT,
    stdin: { contents, resolveDir: ROOT, sourcefile: 'entry.ts', loader: 'ts' },
    bundle: true,
    platform: 'browser',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    format: 'iife',
    minify: true,
    legalComments: 'eof',
    charset: 'utf8',
    write: false,
    plugins: [zodEnglishOnly, ...plugins],
    logLevel: 'error',
  });
  return r.outputFiles[0]!.contents;
}

const sizes = (b: Uint8Array) => ({ min: b.length, gz: gzipSync(b, { level: 9 }).length });

// The code that runs in the page. Plain JS in a string: it is bundled, not type-checked here.
const PAGE_MAIN = `
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as wasm from 'tiny-secp256k1';

const N = 64;
const noble = secp256k1;
const n = noble.Point.CURVE().n;
function bytes32(seed) {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = (seed * 131 + i * 17 + 1) & 0xff;
  return out;
}
const sets = [];
for (let i = 0; i < N; i++) {
  const priv = noble.utils.randomSecretKey();
  const pub = noble.getPublicKey(priv, true);
  const digest = bytes32(i);
  const sig = noble.sign(digest, priv, { prehash: false, lowS: true, format: 'compact' });
  sets.push({ priv, pub, digest, sig });
}
const nobleVerify = (s) => noble.verify(s.sig, s.digest, s.pub, { prehash: false, lowS: true, format: 'compact' });
const wasmVerify = (s) => wasm.verify(s.digest, s.pub, s.sig, true);
const nobleSign = (s) => noble.sign(s.digest, s.priv, { prehash: false, lowS: true, format: 'compact' });
const wasmSign = (s) => wasm.sign(s.digest, s.priv);

function highS(sig) {
  const r = sig.slice(0, 32);
  let s = 0n;
  for (const b of sig.slice(32)) s = (s << 8n) | BigInt(b);
  let t = n - s;
  const out = new Uint8Array(64);
  out.set(r);
  for (let i = 63; i >= 32; i--) { out[i] = Number(t & 0xffn); t >>= 8n; }
  return out;
}

function agree() {
  const problems = [];
  for (const [i, s] of sets.entries()) {
    const hi = { ...s, sig: highS(s.sig) };
    const flip = { ...s, sig: s.sig.slice() };
    flip.sig[i % 64] ^= 1 << (i % 8);
    const cases = [['valid', s, true], ['high-S twin', hi, false], ['bit flip', flip, false]];
    for (const [what, c, want] of cases) {
      let a, b;
      try { a = nobleVerify(c); } catch { a = false; }
      try { b = wasmVerify(c); } catch { b = false; }
      if (a !== want || b !== want) problems.push(what + ' #' + i + ': noble ' + a + ', wasm ' + b);
    }
    const ns = nobleSign(s), ws = wasmSign(s);
    if (ns.length !== ws.length || ns.some((x, j) => x !== ws[j])) problems.push('sign #' + i + ': RFC 6979 signatures differ');
  }
  return problems;
}

function run(fn, budget) {
  let i = 0;
  const warm = performance.now() + Math.min(1000, budget);
  while (performance.now() < warm) fn(sets[i++ % N]);
  i = 0;
  const start = performance.now();
  const end = start + budget;
  while (performance.now() < end) fn(sets[i++ % N]);
  return (i * 1000) / (performance.now() - start);
}

globalThis.k256bench = (budget, rounds) => {
  const rows = { 'verify noble': [], 'verify wasm': [], 'sign noble': [], 'sign wasm': [] };
  const fns = { 'verify noble': nobleVerify, 'verify wasm': wasmVerify, 'sign noble': nobleSign, 'sign wasm': wasmSign };
  // One untimed pass first, so the wasm has tiered up (Liftoff → TurboFan) and noble's tables are built.
  for (const k of Object.keys(rows)) run(fns[k], budget);
  for (let r = 0; r < rounds; r++) for (const k of Object.keys(rows)) rows[k].push(run(fns[k], budget));
  return { problems: agree(), rows, userAgent: navigator.userAgent };
};
globalThis.k256ready = true;
`;

// Only the wasm backend, to see whether the shipped CSP lets it start (a refusal throws at module init).
const PROBE_IIFE = `
import * as wasm from 'tiny-secp256k1';
globalThis.k256probe = 'ok: ' + typeof wasm.verify;
`;

// Time from navigation to the first verify done, each implementation alone in a fresh page
// (loading the script, compiling, noble's lazy precomputation / the wasm context).
const FIRST = (impl: string) => `
${impl === 'noble' ? "import { secp256k1 } from '@noble/curves/secp256k1.js';" : "import * as wasm from 'tiny-secp256k1';"}
const priv = new Uint8Array(32).fill(7);
const digest = new Uint8Array(32).fill(9);
const pub = ${impl === 'noble' ? 'secp256k1.getPublicKey(priv, true)' : 'wasm.pointFromScalar(priv, true)'};
const sig = ${impl === 'noble' ? "secp256k1.sign(digest, priv, { prehash: false, format: 'compact' })" : 'wasm.sign(digest, priv)'};
const ok = ${impl === 'noble' ? "secp256k1.verify(sig, digest, pub, { prehash: false, lowS: true, format: 'compact' })" : 'wasm.verify(digest, pub, sig, true)'};
globalThis.k256first = ok ? performance.now() : -1;
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function serve(files: Record<string, { type: string; body: Uint8Array | string }>, csp: string): Promise<{ server: Server; origin: string }> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const f = files[req.url ?? ''];
      if (!f) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': f.type, 'content-security-policy': csp, 'cache-control': 'no-store' }).end(f.body);
    });
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, origin: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` });
    });
  });
}

const html = (script: string) => `<!doctype html><meta charset="utf-8"><title>k256</title><script src="${script}"></script>`;

// ---- sizes -----------------------------------------------------------------
const nobleAlone = await bundle(`import { secp256k1 } from '@noble/curves/secp256k1.js'; globalThis.x = secp256k1;`);
const wasmAlone = await bundle(`import * as w from 'tiny-secp256k1'; globalThis.x = w;`, [inlineWasm]);
let app: Uint8Array | undefined;
let appWasm: Uint8Array | undefined;
let appError = '';
try {
  app = await bundle(`import './src/web/main.ts';`);
  appWasm = await bundle(`import './src/web/main.ts'; import * as w from 'tiny-secp256k1'; globalThis.x = w;`, [inlineWasm]);
} catch (e) {
  appError = (e as Error).message.split('\n')[0]!;
}
const wasmFile = readFileSync(join(ROOT, 'node_modules', 'tiny-secp256k1', 'lib', 'secp256k1.wasm'));

// ---- browser run -------------------------------------------------------------
const pageJs = await bundle(PAGE_MAIN, [inlineWasm]);
const probeJs = await bundle(PROBE_IIFE, [inlineWasm]);
const firstNoble = await bundle(FIRST('noble'));
const firstWasm = await bundle(FIRST('wasm'), [inlineWasm]);
const benchSite = await serve(
  {
    '/': { type: 'text/html', body: html('/bench.js') },
    '/bench.js': { type: 'text/javascript', body: pageJs },
    '/noble': { type: 'text/html', body: html('/noble.js') },
    '/noble.js': { type: 'text/javascript', body: firstNoble },
    '/wasm': { type: 'text/html', body: html('/wasm.js') },
    '/wasm.js': { type: 'text/javascript', body: firstWasm },
  },
  `default-src 'none'; ${PAGE_CSP_SCRIPT} 'wasm-unsafe-eval'`,
);
const probeSite = await serve(
  { '/': { type: 'text/html', body: html('/probe.js') }, '/probe.js': { type: 'text/javascript', body: probeJs } },
  `default-src 'none'; ${PAGE_CSP_SCRIPT}`,
);
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
let result: { problems: string[]; rows: Record<string, number[]>; userAgent: string };
let probe = '';
const first: { noble: number[]; wasm: number[] } = { noble: [], wasm: [] };
try {
  for (let r = 0; r < rounds; r++) {
    for (const impl of ['noble', 'wasm'] as const) {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      await p.goto(`${benchSite.origin}/${impl}`);
      await p.waitForFunction(() => (globalThis as { k256first?: number }).k256first, undefined, { timeout: 30_000 });
      first[impl].push(await p.evaluate(() => (globalThis as unknown as { k256first: number }).k256first));
      await ctx.close();
    }
  }
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${benchSite.origin}/`);
  await page.waitForFunction(() => (globalThis as { k256ready?: boolean }).k256ready === true || undefined, undefined, { timeout: 30_000 }).catch(() => {
    throw new Error(`the bench page did not start: ${errors.join('; ')}`);
  });
  result = await page.evaluate(([b, r]) => (globalThis as unknown as { k256bench: (b: number, r: number) => typeof result }).k256bench(b, r), [ms, rounds] as const);
  const p2 = await browser.newPage();
  const probeErrors: string[] = [];
  p2.on('pageerror', (e) => probeErrors.push(e.message));
  await p2.goto(`${probeSite.origin}/`);
  await p2.waitForTimeout(1000);
  probe = (await p2.evaluate(() => (globalThis as { k256probe?: string }).k256probe)) ?? `error: ${probeErrors.join('; ') || 'did not run'}`;
} finally {
  await browser.close();
  benchSite.server.close();
  probeSite.server.close();
}

// ---- report -------------------------------------------------------------------
const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
const row = (k: string) => median(result.rows[k]!);
console.log(`k256 in Chromium (${result.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? 'Chromium'}), ${rounds} rounds × ${ms} ms, interleaved, median; 32-byte digests, 64 keys`);
if (result.problems.length) console.log(`DISAGREEMENT: ${result.problems.join('; ')}`);
else console.log('noble and wasm agree on every valid signature, high-S twin and flipped bit, and sign the same RFC 6979 bytes');
console.log('');
const range = (k: string) => `${Math.min(...result.rows[k]!).toFixed(0)}–${Math.max(...result.rows[k]!).toFixed(0)}`;
console.log('| operation | @noble/curves 2.x | libsecp256k1 wasm (tiny-secp256k1 2.2.4) | wasm ÷ noble (per round: min–max) |');
console.log('|---|---:|---:|---:|');
for (const op of ['verify', 'sign']) {
  const a = row(`${op} noble`);
  const b = row(`${op} wasm`);
  const per = result.rows[`${op} wasm`]!.map((w, i) => w / result.rows[`${op} noble`]![i]!);
  console.log(`| ${op} | ${a.toFixed(0)}/s (${range(`${op} noble`)}) | ${b.toFixed(0)}/s (${range(`${op} wasm`)}) | ${(b / a).toFixed(2)}× (${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)}) |`);
}
console.log(`| first verify after navigation (load + compile + set-up, fresh page) | ${median(first.noble).toFixed(0)} ms | ${median(first.wasm).toFixed(0)} ms | ${(median(first.wasm) / median(first.noble)).toFixed(2)}× the time |`);
console.log('');
const ns = sizes(nobleAlone);
const ws = sizes(wasmAlone);
console.log('| bundle | minified | gzip -9 |');
console.log('|---|---:|---:|');
console.log(`| noble secp256k1 alone | ${kB(ns.min)} | ${kB(ns.gz)} |`);
console.log(`| tiny-secp256k1 alone (wasm inlined) | ${kB(ws.min)} | ${kB(ws.gz)} |`);
console.log(`| secp256k1.wasm file | ${kB(wasmFile.length)} | ${kB(gzipSync(wasmFile, { level: 9 }).length)} |`);
if (app && appWasm) {
  const a = sizes(app);
  const b = sizes(appWasm);
  console.log(`| app.js today (noble) | ${kB(a.min)} | ${kB(a.gz)} |`);
  console.log(`| app.js + wasm backend | ${kB(b.min)} (+${kB(b.min - a.min)}) | ${kB(b.gz)} (+${kB(b.gz - a.gz)}) |`);
  console.log(`| page budget (test/browser/build.test.ts) | < 650.0 kB | < 200.0 kB |`);
} else console.log(`(app.js not bundled: ${appError})`);
console.log('');
console.log(`wasm under the page's CSP as shipped (default-src 'none'; ${PAGE_CSP_SCRIPT}): ${probe}`);
