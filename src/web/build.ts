/**
 * The verification page as static files: index.html, app.js (one esbuild
 * bundle of src/web/main.ts and the verifier modules it imports, for the
 * browser), app.css, and attestation/measurements.json when the repository
 * publishes one. Deterministic: no timestamps, no absolute paths, no source
 * maps. Nothing is fetched at run time (no CDN).
 *
 *   npm run build:web [-- --out dist/web]     writes the files and prints their sizes
 *
 * The server builds the same files in memory when it runs from source
 * (src/web/assets.ts), so `npm start` serves the page with no build step.
 */
import { build, type Plugin } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../crypto/encoding.ts';

export interface WebFile {
  /** URL path under the page's directory, e.g. 'app.js'. */
  name: string;
  type: string;
  body: Uint8Array;
}

const WEB_DIR = fileURLToPath(new URL('./', import.meta.url));
const ROOT = join(WEB_DIR, '..', '..');

/**
 * zod's classic API re-exports every locale (~250 kB minified); the page
 * only ever needs English messages, so the locale index resolves to `en`.
 */
export const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) =>
      /[\\/]zod[\\/]/.test(a.importer) ? { path: join(dirname(a.importer), '..', 'locales', 'index.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (a) => ({
      contents: `export { default as en } from './en.js';`,
      loader: 'js',
      resolveDir: dirname(a.path),
    }));
  },
};

export async function buildWeb(): Promise<WebFile[]> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/web/main.ts'],
    bundle: true,
    platform: 'browser',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    format: 'iife',
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    charset: 'utf8',
    write: false,
    outfile: 'app.js',
    plugins: [zodEnglishOnly],
    logLevel: 'warning',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('app.js'));
  if (!js) throw new Error('esbuild produced no app.js');
  const files: WebFile[] = [
    { name: 'index.html', type: 'text/html; charset=utf-8', body: readFileSync(join(WEB_DIR, 'index.html')) },
    { name: 'app.js', type: 'text/javascript; charset=utf-8', body: js.contents },
    { name: 'app.css', type: 'text/css; charset=utf-8', body: readFileSync(join(WEB_DIR, 'app.css')) },
  ];
  const published = join(ROOT, 'attestation', 'measurements.json');
  if (existsSync(published)) files.push({ name: 'measurements.json', type: 'application/json', body: readFileSync(published) });
  return files.map((f) => ({ ...f, body: new Uint8Array(f.body) }));
}

export function sizeReport(files: WebFile[]): string[] {
  const lines = files.map((f) => `${f.name.padEnd(18)} ${String(f.body.length).padStart(8)} bytes  ${String(gzipSync(f.body, { level: 9 }).length).padStart(7)} gzip  sha256 ${toHex(sha256(f.body))}`);
  const total = files.reduce((n, f) => n + f.body.length, 0);
  const gz = files.reduce((n, f) => n + gzipSync(f.body, { level: 9 }).length, 0);
  lines.push(`${'total'.padEnd(18)} ${String(total).padStart(8)} bytes  ${String(gz).padStart(7)} gzip`);
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--out');
  const out = i > 0 ? process.argv[i + 1]! : join(ROOT, 'dist', 'web');
  const files = await buildWeb();
  mkdirSync(out, { recursive: true });
  for (const f of files) writeFileSync(join(out, f.name), f.body);
  console.log(`verification page → ${out}`);
  for (const l of sizeReport(files)) console.log(`  ${l}`);
}
