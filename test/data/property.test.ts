/**
 * Property tests: random atproto JSON round-trips JSON → IPLD → DAG-CBOR →
 * IPLD → JSON unchanged, and the parsers never fail with anything but an
 * EncumberError on arbitrary input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeBase64 } from '../../src/crypto/encoding.ts';
import { EncumberError } from '../../src/errors.ts';
import {
  cidForCborBytes,
  cidForValue,
  encodeCbor,
  ipldToJson,
  parseRecordCbor,
  parseRecordJson,
  type JsonMap,
  type JsonValue,
} from '../../src/data/index.ts';

const link = fc
  .tuple(fc.constantFrom(0x71, 0x55), fc.uint8Array({ maxLength: 32 }))
  .map(([codec, data]) => ({ $link: CID.createV1(codec, Digest.create(0x12, sha256(data))).toString() }));
const bytes = fc.uint8Array({ maxLength: 40 }).map((b) => ({ $bytes: encodeBase64(b) }));
// $bytes/$link keys are refused and $type has rules of its own: tested elsewhere.
const key = fc.string({ unit: 'binary', maxLength: 10 }).filter((k) => !['$bytes', '$link', '$type'].includes(k));

const { value } = fc.letrec<{ value: JsonValue; list: JsonValue[]; map: JsonMap }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 6, depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.string({ unit: 'binary', maxLength: 30 }),
    bytes,
    link,
    tie('list'),
    tie('map'),
  ),
  list: fc.array(tie('value'), { maxLength: 5 }),
  map: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
}));
const record = fc.dictionary(key, value, { maxKeys: 8, noNullPrototype: true });

const everything = {
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withNullPrototype: true,
  withSparseArray: true,
  withBoxedValues: true,
} as const;

function onlyTypedErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof EncumberError)) throw e;
  }
}

describe('property: atproto JSON round-trip', () => {
  it('JSON → IPLD → DAG-CBOR → IPLD → JSON is the identity', () => {
    fc.assert(
      fc.property(record, (json) => {
        const cbor = encodeCbor(parseRecordJson(json));
        const back = ipldToJson(parseRecordCbor(cbor));
        assert.deepEqual(back, json);
        // ...and through JSON text, as it travels over HTTP.
        assert.deepEqual(encodeCbor(parseRecordJson(JSON.parse(JSON.stringify(back)))), cbor);
      }),
      { numRuns: 500 },
    );
  });

  it('the CID does not depend on key order', () => {
    fc.assert(
      fc.property(record, (json) => {
        const reversed = Object.fromEntries(Object.entries(json).reverse());
        const a = cidForValue(parseRecordJson(json));
        const b = cidForValue(parseRecordJson(reversed));
        assert.equal(a.toString(), b.toString());
        assert.equal(a.toString(), cidForCborBytes(encodeCbor(parseRecordJson(json))).toString());
      }),
      { numRuns: 200 },
    );
  });
});

describe('property: parsers fail only with typed errors', () => {
  it('parseRecordJson on arbitrary JS values', () => {
    fc.assert(
      fc.property(fc.anything(everything), (v) => {
        onlyTypedErrors(() => parseRecordJson(v));
      }),
      { numRuns: 500 },
    );
  });

  it('parseRecordJson on arbitrary JSON (floats, -0, huge numbers, $-keys)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        onlyTypedErrors(() => parseRecordJson(v));
        onlyTypedErrors(() => parseRecordJson({ a: v, b: { $link: v }, c: { $bytes: v }, d: { $type: v } }));
      }),
      { numRuns: 500 },
    );
  });

  it('parseRecordCbor on random and mutated bytes; what it accepts is canonical', () => {
    const mutated = fc
      .tuple(record, fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([json, at, byte]) => {
        const b = encodeCbor(parseRecordJson(json)).slice();
        b[at % b.length] = byte;
        return b;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (input) => {
        try {
          const value = parseRecordCbor(input);
          assert.deepEqual(encodeCbor(value), input);
        } catch (e) {
          if (!(e instanceof EncumberError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});
