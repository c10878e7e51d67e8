/**
 * `npm run build:lib`: the public library (package.json "exports") as
 * JavaScript in dist/lib — one ESM module per entry (encumber/verify, /plc,
 * /attestation, /data) with shared chunks, dependencies left as imports —
 * and its type declarations (tsc, tsconfig.lib.json). Platform-neutral: the
 * same files run in Node and in a browser bundler.
 */
import { rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import { REPO } from './import-graph.ts';

export const LIB_ENTRIES = {
  verify: 'src/verifier/index.ts',
  plc: 'src/plc/index.ts',
  attestation: 'src/attestation/index.ts',
  data: 'src/data/index.ts',
} as const;

export async function buildLib(outDir = join(REPO, 'dist', 'lib'), opts: { types?: boolean } = {}): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  const started = Date.now();
  await build({
    absWorkingDir: REPO,
    entryPoints: Object.fromEntries(Object.entries(LIB_ENTRIES).map(([name, src]) => [name, src])),
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    packages: 'external',
    chunkNames: 'chunks/[name]-[hash]',
    legalComments: 'none',
    logLevel: 'warning',
  });
  console.log(`build:lib: ${Object.keys(LIB_ENTRIES).length} entries → ${outDir} (${Date.now() - started} ms)`);
  if (opts.types === false) return;
  const t = Date.now();
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.lib.json'), '--outDir', join(outDir, 'types')], {
    stdio: 'inherit',
  });
  console.log(`build:lib: type declarations → ${join(outDir, 'types')} (${Date.now() - t} ms)`);
}

if (import.meta.url === `file://${process.argv[1]}`) await buildLib();
