/**
 * attestation/measurements.json is what the build produces: the published
 * PCRs must be the ones a rebuild gives. Uses build/out when present (CI
 * builds before the tests), otherwise builds into a temp directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../support/fixtures.ts';
import { measurementsFromManifest } from '../../enclave/image/measurements.ts';
import { parseMeasurements } from '../../src/verifier/measurements.ts';
import { buildPrerequisiteMissing, runImageBuild, skipUnlessCi } from './build-runner.ts';

test('attestation/measurements.json equals the measurements of a fresh build', { skip: skipUnlessCi(buildPrerequisiteMissing()) }, async () => {
  const published = JSON.parse(readFileSync(join(REPO_ROOT, 'attestation', 'measurements.json'), 'utf8'));
  parseMeasurements(published); // the verifier accepts its format
  // Under CI, .ci/run has just built build/out from this checkout; elsewhere build afresh (build/out may be stale).
  let outDir = join(REPO_ROOT, 'build', 'out');
  if (!process.env.CI || !existsSync(join(outDir, 'manifest.json'))) {
    outDir = tempDir('encumber-measure-');
    const run = await runImageBuild(REPO_ROOT, ['--out', outDir]);
    assert.equal(run.code, 0, run.stderr);
  }
  const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
  assert.deepEqual(
    published,
    JSON.parse(JSON.stringify(measurementsFromManifest(manifest))),
    'attestation/measurements.json is stale: run `npm run measurements` and commit it',
  );
});
