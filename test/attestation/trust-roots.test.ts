/** attestation/trust-roots.json and the embedded root agree; no dev root is trusted by default. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { REPO_ROOT } from '../support/fixtures.ts';
import { AWS_NITRO_ROOT_G1_DER, AWS_NITRO_ROOT_G1_SHA256 } from '../../src/attestation/nitro/index.ts';

test('the pinned AWS root fingerprint is the embedded certificate and the one in attestation/', () => {
  const roots = JSON.parse(readFileSync(join(REPO_ROOT, 'attestation', 'trust-roots.json'), 'utf8'));
  assert.equal(roots.nitro[0].sha256OfDer, AWS_NITRO_ROOT_G1_SHA256);
  assert.equal(createHash('sha256').update(AWS_NITRO_ROOT_G1_DER).digest('hex'), AWS_NITRO_ROOT_G1_SHA256);
  assert.deepEqual(roots.dev, []);
});
