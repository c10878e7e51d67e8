/**
 * Deterministic JavaScript bundle of the enclave program (esbuild): no
 * timestamps, no absolute paths, no source maps, sorted metafile. Same
 * inputs (lockfile + sources) → same bytes.
 *
 *   node --import tsx enclave/build-bundle.ts [--out dist/encumber-enclave.mjs]
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = resolve(root, process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1]! : 'dist/encumber-enclave.mjs');

await build({
  absWorkingDir: root,
  entryPoints: ['src/main/enclave.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile: out,
  minify: false,
  sourcemap: false,
  // Paths in the bundle's module comments stay as the checkout has them, even through a symlinked node_modules
  // (a worktree sharing one): the bytes do not depend on where the dependencies really live.
  preserveSymlinks: true,
  legalComments: 'none',
  charset: 'utf8',
  // CommonJS dependencies inside an ESM bundle need a require().
  banner: { js: "import { createRequire as __encumberRequire } from 'node:module'; const require = __encumberRequire(import.meta.url);" },
  define: { 'process.env.ENCUMBER_BUNDLE': '"1"' },
  logLevel: 'warning',
});
const bytes = readFileSync(out);
console.log(`${relative(root, out)}  ${bytes.length} bytes  sha384 ${createHash('sha384').update(bytes).digest('hex')}`);
