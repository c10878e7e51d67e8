/** GUIDs in EFI's mixed-endian order: round trip, and reading one never changes the caller's bytes (a Node Buffer's slice is a view). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guidBytes, guidString } from '../../../src/attestation/sev-snp/guid.ts';

const GUID = '96b582de-1fb2-45f7-baea-a366c55a082d';

test('guidBytes stores the first three fields little-endian; guidString reads them back', () => {
  assert.equal(Buffer.from(guidBytes(GUID)).toString('hex'), 'de82b596b21ff745baeaa366c55a082d');
  assert.equal(guidString(guidBytes(GUID)), GUID);
});

test('guidString leaves its input unchanged, also when the input is a Node Buffer', () => {
  const firmware = Buffer.concat([Buffer.alloc(5, 0xaa), Buffer.from(guidBytes(GUID)), Buffer.alloc(3, 0xbb)]);
  const before = Buffer.from(firmware);
  assert.equal(guidString(firmware, 5), GUID);
  assert.deepEqual(firmware, before);
  assert.equal(guidString(firmware, 5), GUID, 'a second read gives the same answer');
});
