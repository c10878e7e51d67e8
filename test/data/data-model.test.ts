/** Upstream data-model fixtures: valid, invalid, and JSON ↔ DAG-CBOR ↔ CID vectors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cidForCborBytes,
  decodeCbor,
  encodeCbor,
  ipldToJson,
  jsonToIpld,
  parseRecordCbor,
  parseRecordJson,
} from '../../src/data/index.ts';
import { throwsCode } from './assert-code.ts';
import { readFixtureJson } from './fixtures.ts';

interface NoteCase {
  note: string;
  json: unknown;
}
interface VectorCase {
  json: unknown;
  cbor_base64: string;
  cid: string;
}

const valid = readFixtureJson<NoteCase[]>('data-model/data-model-valid.json');
const invalid = readFixtureJson<NoteCase[]>('data-model/data-model-invalid.json');
const vectors = readFixtureJson<VectorCase[]>('data-model/data-model-fixtures.json');

describe('data-model-valid.json', () => {
  it('has the 5 documented cases', () => assert.equal(valid.length, 5));
  for (const c of valid) {
    it(`accepts: ${c.note}`, () => {
      const value = parseRecordJson(c.json);
      // Valid data round-trips through DAG-CBOR back to the same JSON.
      assert.deepEqual(ipldToJson(parseRecordCbor(encodeCbor(value))), c.json);
    });
  }
});

describe('data-model-invalid.json', () => {
  it('has the 12 documented cases', () => assert.equal(invalid.length, 12));
  for (const c of invalid) {
    it(`rejects: ${c.note}`, () => {
      const e = throwsCode(() => parseRecordJson(c.json), 'InvalidDataModel', c.note);
      assert.ok(e.path?.startsWith('$'), 'error carries the path of the offending field');
    });
  }

  it('points at the offending field', () => {
    const paths = invalid.map((c) => {
      try {
        parseRecordJson(c.json);
      } catch (e) {
        return (e as { path?: string }).path;
      }
      return undefined;
    });
    assert.deepEqual(paths, [
      '$',
      '$.rcrd.a',
      '$.rcrd.$type',
      '$.rcrd.$type',
      '$.rcrd.$type',
      '$.blb.size',
      '$.blb.ref',
      '$.lnk.$bytes',
      '$.lnk.$bytes',
      '$.lnk.$link',
      '$.lnk.$link',
      '$.lnk.$link',
    ]);
  });
});

describe('data-model-fixtures.json', () => {
  it('has the 3 documented cases', () => assert.equal(vectors.length, 3));
  for (const [i, c] of vectors.entries()) {
    const expected = new Uint8Array(Buffer.from(c.cbor_base64, 'base64'));

    it(`#${i}: JSON → IPLD → DAG-CBOR gives the fixture bytes and CID`, () => {
      const bytes = encodeCbor(parseRecordJson(c.json));
      assert.deepEqual(bytes, expected);
      assert.equal(cidForCborBytes(bytes).toString(), c.cid);
    });

    it(`#${i}: DAG-CBOR → IPLD → JSON gives the fixture JSON`, () => {
      assert.deepEqual(ipldToJson(parseRecordCbor(expected)), c.json);
      assert.deepEqual(ipldToJson(decodeCbor(expected)), c.json);
    });

    it(`#${i}: jsonToIpld does not modify its input`, () => {
      const before = JSON.stringify(c.json);
      jsonToIpld(c.json);
      assert.equal(JSON.stringify(c.json), before);
    });
  }
});
