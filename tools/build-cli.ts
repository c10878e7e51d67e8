/**
 * The `encumber` command line as built JavaScript (esbuild): one ESM bundle of
 * src/cli/main.ts split at every dynamic import, so each command loads only its
 * own chunk (dist/cli/main.js + dist/cli/chunk-*.js, all in one directory).
 * Deterministic like the enclave bundle: no timestamps, no absolute paths, no
 * source maps; chunk names are content hashes.
 *
 *   node --import tsx tools/build-cli.ts [--out dist/cli]
 *
 * Runtime paths stay those of the source tree: every chunk sits two levels
 * below the repository (dist/cli/), exactly as src/<folder>/<file>.ts does, so
 * REPO_ROOT (src/enclave/program-digest.ts) and every other
 * `new URL('../../', import.meta.url)` name the same checkout either way.
 *
 * dist/cli/inputs.json lists the repository files the build read (besides
 * src/, package-lock.json and node_modules); bin/encumber.js compares their
 * times with the build's to warn about a stale build.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zodEnglishOnly } from '../src/web/build.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const i = process.argv.indexOf('--out');
const outdir = resolve(root, i > 0 ? process.argv[i + 1]! : 'dist/cli');

/** Packages that must stay outside the bundle: native code loaded at run time. */
const EXTERNAL = ['koffi', 'cbor-extract', 'esbuild'];


const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  bundle: true,
  splitting: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outdir,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  external: EXTERNAL,
  plugins: [zodEnglishOnly],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  metafile: true,
  write: false,
  // CommonJS dependencies inside an ESM bundle need a require().
  banner: { js: "import { createRequire as __encumberRequire } from 'node:module'; const require = __encumberRequire(import.meta.url);" },
  logLevel: 'warning',
});

// Chunks are content-named: clear the old ones so none is left behind (a failed build above left them alone).
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
for (const f of result.outputFiles) writeFileSync(f.path, f.contents);

// Inputs outside the trees the staleness check already walks (src/) or stands for (package-lock.json: node_modules).
const inputs = Object.keys(result.metafile.inputs)
  .filter((p) => !p.startsWith('src/') && !p.includes('node_modules/') && !p.includes(':'))
  .sort();
writeFileSync(join(outdir, 'inputs.json'), `${JSON.stringify({ walk: ['src'], files: ['package-lock.json', ...inputs] }, null, 2)}\n`);
// The build time the check compares with: when this build finished, whatever esbuild did with unchanged files.
const now = new Date();
utimesSync(join(outdir, 'inputs.json'), now, now);

const files = readdirSync(outdir).sort();
const digest = createHash('sha384');
let bytes = 0;
for (const f of files) {
  const b = readFileSync(join(outdir, f));
  bytes += b.length;
  digest.update(`${f}\0${createHash('sha384').update(b).digest('hex')}\n`);
}
console.log(`${relative(root, outdir).split(sep).join('/')}/  ${files.length} files  ${bytes} bytes  sha384 ${digest.digest('hex')}`);
