/**
 * The page's files for the server: `encumber serve` and the enclave image hand
 * `loadWebAssets` to src/server/app.ts, which serves them at `/` (the server
 * does not import the page's code: it sits above the server).
 *
 * From source (run through tsx): built in memory by the same build as
 * `npm run build:web`, once, on the first request, so the page served is
 * always the one in this checkout (and src/web is part of the dev program
 * digest). From the enclave bundle or the built CLI: dist/web/ when it was
 * built, else a short page saying how to get it. esbuild is reached by a dynamic
 * import the bundler does not follow, so the bundle never includes it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../enclave/program-digest.ts';
import type { WebAsset, WebAssets } from '../server/app.ts';

export type { WebAsset, WebAssets };

export const WEB_FILES = ['index.html', 'app.js', 'app.css', 'measurements.json'] as const;

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'measurements.json': 'application/json',
};

function toAssets(files: { name: string; type: string; body: Uint8Array }[]): WebAssets {
  const m = new Map<string, WebAsset>();
  for (const f of files) m.set(`/${f.name}`, { type: f.type, body: f.body });
  const index = m.get('/index.html');
  if (index) m.set('/', index);
  return m;
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>encumber</title>
<h1>encumber</h1><p>The verification page is not part of this build. Build it with <code>npm run build:web</code>
(dist/web/) and open it, or use <code>encumber record verify</code>. The API is under <code>/xrpc/</code>.</p></html>\n`;

function fromDist(dir: string): WebAssets {
  if (!existsSync(join(dir, 'index.html'))) {
    return toAssets([{ name: 'index.html', type: TYPES['index.html']!, body: new TextEncoder().encode(NOT_BUILT) }]);
  }
  return toAssets(
    WEB_FILES.filter((n) => existsSync(join(dir, n))).map((n) => ({ name: n, type: TYPES[n]!, body: new Uint8Array(readFileSync(join(dir, n))) })),
  );
}

async function fromSource(): Promise<WebAssets> {
  const builder = './build.ts';
  const { buildWeb } = (await import(builder)) as typeof import('./build.ts');
  return toAssets(await buildWeb());
}

/**
 * This module is running as TypeScript from src/ (tsx), not from a bundle: the
 * enclave bundle and the built CLI (dist/) serve dist/web, which `npm run build`
 * writes, because they cannot load the page's build script.
 */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

let memo: Promise<WebAssets> | undefined;

/** The page's files, loaded once (a failed build is retried on the next request). */
export function loadWebAssets(): Promise<WebAssets> {
  memo ??= (RUNNING_FROM_SOURCE ? fromSource() : Promise.resolve(fromDist(join(REPO_ROOT, 'dist', 'web')))).catch((e: unknown) => {
    memo = undefined;
    throw e;
  });
  return memo;
}
