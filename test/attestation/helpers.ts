/**
 * The Nitro fixtures as ../shared/fixtures/nitro/PROVENANCE.md describes them
 * (read in place), and assertion helpers that match on codes, never on text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixturePath, readFixtureBytes } from '../support/fixtures.ts';
import type { NitroVerdict } from '../../src/attestation/nitro/index.ts';
import { EncumberError } from '../../src/errors.ts';
import type { AttestationFailure } from '../../src/attestation/types.ts';

type Size = number | null;
export interface NitroFixture {
  file: string;
  moduleId: string;
  timestamp: string;
  debug: boolean;
  /** public_key / user_data / nonce sizes: null = CBOR null. */
  sizes: [Size, Size, Size];
  /** Leaf notBefore .. notAfter. */
  window: [string, string];
}

export const AWS_FIXTURES: NitroFixture[] = [
  { file: 'evervault-beta-debug-valid.cbor', moduleId: 'i-03ad7cdb817437eeb-enc0183cc7569b3f6e1', timestamp: '2022-10-12T13:50:06.081Z', debug: true, sizes: [19, 13, null], window: ['2022-10-12T13:49:51Z', '2022-10-12T16:49:54Z'] },
  { file: 'evervault-beta-nondebug-valid.cbor', moduleId: 'i-020b6af9246d90e92-enc0183d09086c24190', timestamp: '2022-10-13T08:58:02.136Z', debug: false, sizes: [null, null, 256], window: ['2022-10-13T08:57:59Z', '2022-10-13T11:58:02Z'] },
  { file: 'evervault-2023-debug-valid.cbor', moduleId: 'i-0918f6c55e3b61d89-enc018aa8b8e2285d13', timestamp: '2023-09-18T15:03:30.860Z', debug: true, sizes: [null, 91, 256], window: ['2023-09-18T14:37:09Z', '2023-09-18T17:37:12Z'] },
  { file: 'evervault-cagecert-debug-valid.cbor', moduleId: 'i-06e1ffc9a8410edb1-enc0185c56e099c2d54', timestamp: '2023-01-18T15:10:32.312Z', debug: true, sizes: [null, 120, 256], window: ['2023-01-18T15:10:27Z', '2023-01-18T18:10:30Z'] },
  { file: 'evervault-cagecert-nondebug-valid.cbor', moduleId: 'i-0ec0e572c8263d8ff-enc0185c4fd382eeb25', timestamp: '2023-01-18T13:07:19.280Z', debug: false, sizes: [null, 120, 256], window: ['2023-01-18T13:07:13Z', '2023-01-18T16:07:16Z'] },
  { file: 'cape-isomorphic-debug-valid.cbor', moduleId: 'i-029e0eacb65267caa-enc0181fe7484f74a24', timestamp: '2022-07-14T20:46:07.740Z', debug: true, sizes: [32, null, 6], window: ['2022-07-14T20:46:04Z', '2022-07-14T23:46:07Z'] },
  { file: 'cape-spec-attestationdocument-valid.cbor', moduleId: 'i-0697c9729fa547b20-enc0183422ede9a5dc8', timestamp: '2022-09-15T17:43:28.848Z', debug: false, sizes: [32, 250, 12], window: ['2022-09-15T17:43:24Z', '2022-09-15T20:43:27Z'] },
  { file: 'marlin-aws-valid.cbor', moduleId: 'i-0f1cd77d37fd8bcc9-enc018e7aa61e2040ff', timestamp: '2024-12-13T07:37:58.960Z', debug: false, sizes: [64, null, null], window: ['2024-12-13T05:57:42Z', '2024-12-13T08:57:45Z'] },
  { file: 'marlin-verifier-bin-valid.cbor', moduleId: 'i-084e1dd2f1b2c529b-enc0190fecc5b166251', timestamp: '2024-08-07T06:38:09.640Z', debug: false, sizes: [64, null, null], window: ['2024-08-07T06:38:06Z', '2024-08-07T09:38:09Z'] },
  { file: 'marlin-verifier-hex-valid.cbor', moduleId: 'i-084e1dd2f1b2c529b-enc0190fecc5b166251', timestamp: '2024-08-07T06:43:12.231Z', debug: false, sizes: [64, null, null], window: ['2024-08-07T06:38:06Z', '2024-08-07T09:38:09Z'] },
];

export const CUSTOM_NONAWS = {
  file: 'marlin-custom-nonaws.cbor',
  moduleId: 'i-0d69bec447a037a2a-enc01939aab191aadd2',
  timestamp: '2024-12-13T09:05:45.008Z',
  rootSha256: '024a7c97261ad34de885537fa08b8bd35121a28d9dc2017e688e4813fda28c96',
};

export const nitroBytes = (file: string): Uint8Array => readFixtureBytes('nitro', file);
export const AWS_ROOT_PEM = readFileSync(fixturePath('nitro', 'aws-nitro-root-g1.pem'), 'utf8');

export function assertOk(v: NitroVerdict, label = ''): asserts v is Extract<NitroVerdict, { ok: true }> {
  if (!v.ok) assert.fail(`${label}: expected a valid document, got ${v.error.code}: ${v.error.message}`);
}

/**
 * The verdict (of any attestation verifier) is a refusal with exactly this
 * code (and index/path when given); the last check row is the failed rule.
 */
export function assertRejected(
  v: { ok: true } | AttestationFailure,
  code: string,
  where: { index?: number; path?: string } = {},
  label = '',
  noun = 'document',
): EncumberError {
  if (v.ok) assert.fail(`${label}: expected ${code}, got a valid ${noun}`);
  assert.ok(v.error instanceof EncumberError, `${label}: untyped error`);
  assert.equal(v.error.code, code, `${label}: ${v.error.message}`);
  if (where.index !== undefined) assert.equal(v.error.index, where.index, `${label}: index (${v.error.message})`);
  if (where.path !== undefined) assert.equal(v.error.path, where.path, `${label}: path (${v.error.message})`);
  const last = v.checks[v.checks.length - 1];
  assert.ok(last && !last.ok, `${label}: the last check row must be the failed rule`);
  assert.equal(v.checks.filter((c) => !c.ok).length, 1, `${label}: exactly one failed row`);
  return v.error;
}
