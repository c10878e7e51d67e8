/** Data-model validation of IPLD values, and its limits. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CID } from 'multiformats/cid';
import {
  DEFAULT_DATA_LIMITS,
  encodeCbor,
  encodeRecord,
  parseRecordJson,
  resolveLimits,
  validateRecord,
  validateValue,
} from '../../src/data/index.ts';
import { throwsCode } from './assert-code.ts';

const DAG_CBOR_LINK = CID.parse('bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a');
const RAW_LINK = CID.parse('bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity');

function blob(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { $type: 'blob', ref: RAW_LINK, mimeType: 'image/png', size: 1, ...overrides };
}

describe('validateValue: kinds', () => {
  it('accepts every data-model kind', () => {
    validateValue({
      n: null,
      t: true,
      i: -(2 ** 53 - 1),
      j: 2 ** 53 - 1,
      z: -0,
      s: 'a~öñ©⽘☎𓋓😀',
      b: new Uint8Array([1, 2]),
      buf: Buffer.from([1]),
      l: DAG_CBOR_LINK,
      list: [[], {}],
      nullProto: Object.assign(Object.create(null) as object, { a: 1 }),
    });
  });

  const bad: Record<string, unknown> = {
    float: 1.5,
    tiny: Number.MIN_VALUE,
    NaN: NaN,
    Infinity: Infinity,
    negInfinity: -Infinity,
    unsafeInt: 2 ** 53,
    unsafeNegInt: -(2 ** 53),
    bigint: 5n,
    undefined: undefined,
    function: () => 1,
    symbol: Symbol('s'),
    date: new Date(0),
    map: new Map([['a', 1]]),
    set: new Set([1]),
    classInstance: new (class Point {
      x = 1;
    })(),
    uint16: new Uint16Array(2),
    arrayBuffer: new ArrayBuffer(2),
    loneSurrogate: 'a\ud800b',
    loneLowSurrogate: '\udc00',
    // biome-ignore lint/suspicious/noSparseArray: a hole is the input under test
    sparseArray: [1, , 3],
  };
  for (const [label, v] of Object.entries(bad)) {
    it(`rejects ${label}`, () => {
      const e = throwsCode(() => validateValue({ x: [v] }), 'InvalidDataModel', label);
      assert.ok(e.path?.startsWith('$.x['), e.path);
    });
  }

  it('rejects a key with a lone surrogate', () => {
    throwsCode(() => validateValue({ '\ud83d': 1 }), 'InvalidDataModel');
  });

  it('rejects maps keyed "$bytes" or "$link"', () => {
    throwsCode(() => validateValue({ a: { $bytes: new Uint8Array(1) } }), 'InvalidDataModel');
    throwsCode(() => validateValue({ $link: 'bafy' }), 'InvalidDataModel');
  });

  it('rejects CIDv0 and unblessed codecs in links', () => {
    const v0 = CID.parse('QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR');
    throwsCode(() => validateValue({ l: v0 }), 'InvalidDataModel');
    throwsCode(() => validateValue({ l: CID.createV1(0x70, DAG_CBOR_LINK.multihash) }), 'InvalidDataModel');
  });

  it('rejects a cycle (as too deep)', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    throwsCode(() => validateValue(a), 'TooLarge');
  });
});

describe('validateValue: $type', () => {
  it('requires a non-empty string wherever it appears', () => {
    validateValue({ $type: 'com.example.x', a: { $type: 'x' } });
    for (const t of [null, 1, '', true, [], {}, new Uint8Array(1)]) {
      const e = throwsCode(() => validateValue({ a: [{ $type: t }] }), 'InvalidDataModel', String(t));
      assert.equal(e.path, '$.a[0].$type');
    }
  });

  it('accepts a well-formed blob, also with extra fields', () => {
    validateValue({ img: blob() });
    validateValue({ img: blob({ extra: 'x' }) });
  });

  const badBlobs: Record<string, [Record<string, unknown>, string]> = {
    'missing ref': [blob({ ref: undefined }), 'ref'],
    'ref as string': [blob({ ref: RAW_LINK.toString() }), 'ref'],
    'ref with dag-cbor codec': [blob({ ref: DAG_CBOR_LINK }), 'ref'],
    'missing mimeType': [blob({ mimeType: undefined }), 'mimeType'],
    'empty mimeType': [blob({ mimeType: '' }), 'mimeType'],
    'string size': [blob({ size: '1' }), 'size'],
    'zero size': [blob({ size: 0 }), 'size'],
    'negative size': [blob({ size: -1 }), 'size'],
    'float size': [blob({ size: 1.5 }), 'size'],
  };
  for (const [label, [b, field]] of Object.entries(badBlobs)) {
    it(`rejects a blob with ${label}`, () => {
      if (b[field] === undefined) delete b[field];
      const e = throwsCode(() => validateValue({ img: b }), 'InvalidDataModel', label);
      assert.equal(e.path, `$.img.${field}`);
    });
  }
});

describe('validateRecord', () => {
  it('requires a map at the top level', () => {
    for (const v of [null, 'blah', 1, [], [{}], new Uint8Array(1), DAG_CBOR_LINK, new Date(0)]) {
      const e = throwsCode(() => validateRecord(v), 'InvalidDataModel');
      assert.equal(e.path, '$');
    }
    validateRecord({});
  });

  it('encodeRecord returns the DAG-CBOR bytes', () => {
    const v = { $type: 'com.example.x', b: new Uint8Array([1]) };
    assert.deepEqual(encodeRecord(v), encodeCbor(v));
  });
});

describe('limits', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(DEFAULT_DATA_LIMITS, {
      maxDepth: 32,
      maxStringBytes: 1024 * 1024,
      maxBytesLength: 1024 * 1024,
      maxContainerLength: 128 * 1024,
      maxEncodedBytes: 1024 * 1024,
    });
  });

  it('rejects nonsense limits with UsageError', () => {
    for (const v of [-1, 1.5, NaN, Infinity]) throwsCode(() => resolveLimits({ maxDepth: v }), 'UsageError');
  });

  it('maxDepth counts containers; the top-level map is depth 1', () => {
    validateRecord({ a: { b: [] } }, { maxDepth: 3 });
    throwsCode(() => validateRecord({ a: { b: [] } }, { maxDepth: 2 }), 'TooLarge');
    let deep: unknown = {};
    for (let i = 0; i < 32; i++) deep = { a: deep };
    throwsCode(() => validateRecord(deep), 'TooLarge');
  });

  it('maxStringBytes counts UTF-8 bytes, in values and keys', () => {
    validateRecord({ s: 'éé' }, { maxStringBytes: 4 });
    throwsCode(() => validateRecord({ s: 'ééé' }, { maxStringBytes: 4 }), 'TooLarge');
    throwsCode(() => validateRecord({ s: '😀😀' }, { maxStringBytes: 7 }), 'TooLarge');
    throwsCode(() => validateRecord({ ééé: 1 }, { maxStringBytes: 4 }), 'TooLarge');
  });

  it('maxBytesLength', () => {
    validateRecord({ b: new Uint8Array(8) }, { maxBytesLength: 8 });
    throwsCode(() => validateRecord({ b: new Uint8Array(9) }, { maxBytesLength: 8 }), 'TooLarge');
  });

  it('maxContainerLength, for lists and maps', () => {
    validateRecord({ l: [1, 2] }, { maxContainerLength: 2 });
    throwsCode(() => validateRecord({ l: [1, 2, 3] }, { maxContainerLength: 2 }), 'TooLarge');
    throwsCode(() => validateRecord({ a: 1, b: 2, c: 3 }, { maxContainerLength: 2 }), 'TooLarge');
  });

  it('maxEncodedBytes is the exact DAG-CBOR size', () => {
    const v = { text: 'x'.repeat(100), list: [1, 2, 3] };
    const size = encodeCbor(v).length;
    validateRecord(v, { maxEncodedBytes: size });
    throwsCode(() => validateRecord(v, { maxEncodedBytes: size - 1 }), 'TooLarge');
  });

  it('a record over the default 1 MiB is TooLarge, from JSON too', () => {
    const big = { parts: Array.from({ length: 5 }, () => 'x'.repeat(300_000)) };
    throwsCode(() => validateRecord(big), 'TooLarge');
    throwsCode(() => parseRecordJson(big), 'TooLarge');
    throwsCode(() => parseRecordJson({ b: { $bytes: 'A'.repeat(2_000_000) } }), 'TooLarge');
  });
});
