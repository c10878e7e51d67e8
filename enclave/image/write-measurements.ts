/**
 * `npm run measurements`: write attestation/measurements.json from the build
 * output (run `npm run build:image` first; the npm script does both).
 *   node --import tsx enclave/image/write-measurements.ts [--out-dir build/out]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './inputs.ts';
import { measurementsFromManifest } from './measurements.ts';

const i = process.argv.indexOf('--out-dir');
const outDir = i > 0 ? process.argv[i + 1]! : join(REPO_ROOT, 'build', 'out');
const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
const file = join(REPO_ROOT, 'attestation', 'measurements.json');
writeFileSync(file, JSON.stringify(measurementsFromManifest(manifest), null, 2) + '\n');
console.log(`wrote ${file}`);
