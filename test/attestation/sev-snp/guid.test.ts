/** GUIDs in EFI's mixed-endian byte order: text ↔ bytes through the one hex codec, inputs never changed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guidBytes, guidEqual, guidString } from '../../../src/attestation/sev-snp/guid.ts';

const GUID = 'dc886566-984a-4798-a75e-5585a7bf67cc';

test('the first three fields are little-endian, the rest in order; upper case reads the same', () => {
  const b = guidBytes(GUID);
  assert.equal(Buffer.from(b).toString('hex'), '666588dc4a989847a75e5585a7bf67cc');
  assert.deepEqual(guidBytes(GUID.toUpperCase()), b);
  assert.equal(guidString(b), GUID);
  assert.throws(() => guidBytes('dc886566-984a-4798-a75e-5585a7bf67c'));
});

test('guidString reads at an offset and leaves its input alone, a Buffer included (its slice shares memory)', () => {
  const buf = Buffer.alloc(20);
  buf.set(guidBytes(GUID), 4);
  const before = Buffer.from(buf);
  assert.equal(guidString(buf, 4), GUID);
  assert.deepEqual(buf, before);
  assert.ok(guidEqual(buf, 4, guidBytes(GUID)));
  assert.ok(!guidEqual(buf, 3, guidBytes(GUID)));
});
