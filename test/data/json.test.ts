/** atproto JSON ↔ IPLD: our own cases beyond the upstream fixtures. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CID } from 'multiformats/cid';
import { base58btc } from 'multiformats/bases/base58';
import { cidForValue, encodeCbor, ipldToJson, jsonToIpld, parseRecordJson } from '../../src/data/index.ts';
import { throwsCode } from './assert-code.ts';

const LINK = 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a';
const RAW_LINK = 'bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity';

describe('jsonToIpld: $bytes', () => {
  it('decodes unpadded standard base64', () => {
    assert.deepEqual(jsonToIpld({ $bytes: 'AQID' }), new Uint8Array([1, 2, 3]));
    assert.deepEqual(jsonToIpld({ $bytes: 'AQ' }), new Uint8Array([1]));
    assert.deepEqual(jsonToIpld({ $bytes: '' }), new Uint8Array([]));
  });

  it('accepts exact padding (the spec makes it optional) and writes none', () => {
    assert.deepEqual(jsonToIpld({ $bytes: 'AQ==' }), new Uint8Array([1]));
    assert.deepEqual(jsonToIpld({ $bytes: 'AQI=' }), new Uint8Array([1, 2]));
    assert.deepEqual(ipldToJson(new Uint8Array([1])), { $bytes: 'AQ' });
    // Padded and unpadded spellings give the same DAG-CBOR, hence the same CID.
    const padded = cidForValue(jsonToIpld({ $bytes: 'AQ==' }));
    assert.equal(padded.toString(), cidForValue(jsonToIpld({ $bytes: 'AQ' })).toString());
  });

  for (const bad of ['AQ=', 'AQ===', 'AQI==', 'A===', '=', 'AQ=A', 'AQID=']) {
    it(`rejects wrong padding ${JSON.stringify(bad)}`, () => {
      throwsCode(() => jsonToIpld({ $bytes: bad }), 'InvalidDataModel');
    });
  }

  for (const bad of ['AR', 'AQJ', '-_8', 'AQ ID', 'A', '!!!!', 'AQID\n']) {
    it(`rejects non-canonical or non-base64 ${JSON.stringify(bad)}`, () => {
      throwsCode(() => jsonToIpld({ $bytes: bad }), 'InvalidDataModel');
    });
  }

  it('rejects a $bytes object with extra fields, and $bytes next to $link', () => {
    throwsCode(() => jsonToIpld({ $bytes: 'AQ', x: 1 }), 'InvalidDataModel');
    throwsCode(() => jsonToIpld({ $bytes: 'AQ', $link: LINK }), 'InvalidDataModel');
    throwsCode(() => jsonToIpld({ $bytes: 'AQ', $type: 'bytes' }), 'InvalidDataModel');
  });

  it('rejects non-string $bytes values', () => {
    for (const v of [null, 1, true, {}, ['AQ']]) throwsCode(() => jsonToIpld({ $bytes: v }), 'InvalidDataModel');
  });
});

describe('jsonToIpld: $link', () => {
  it('decodes a dag-cbor and a raw CIDv1', () => {
    const a = jsonToIpld({ $link: LINK });
    const b = jsonToIpld({ $link: RAW_LINK });
    assert.equal(CID.asCID(a)?.toString(), LINK);
    assert.equal(CID.asCID(b)?.toString(), RAW_LINK);
  });

  it('rejects extra fields', () => {
    throwsCode(() => jsonToIpld({ $link: LINK, other: 'blah' }), 'InvalidDataModel');
    throwsCode(() => jsonToIpld({ $link: LINK, $type: 'link' }), 'InvalidDataModel');
  });

  it('rejects non-string values', () => {
    for (const v of [null, 1234, {}, [LINK], { $link: LINK }]) {
      throwsCode(() => jsonToIpld({ $link: v }), 'InvalidDataModel');
    }
  });

  it('rejects CIDv0, non-canonical spellings and unblessed codecs', () => {
    const cid = CID.parse(LINK);
    const cases = {
      v0: 'QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR',
      base58btc: cid.toString(base58btc),
      uppercase: LINK.toUpperCase(),
      whitespace: ` ${LINK}`,
      dagPb: CID.createV1(0x70, cid.multihash).toString(),
      dagJson: CID.createV1(0x0129, cid.multihash).toString(),
      bogus: '.',
      empty: '',
    };
    for (const [label, s] of Object.entries(cases)) {
      throwsCode(() => jsonToIpld({ $link: s }), 'InvalidDataModel', label);
    }
  });

  it('keeps the path of a nested bad link', () => {
    const e = throwsCode(() => jsonToIpld({ a: [{ b: { $link: 'nope' } }] }), 'InvalidDataModel');
    assert.equal(e.path, '$.a[0].b.$link');
  });
});

describe('jsonToIpld: structure', () => {
  it('leaves other $-prefixed keys alone (the spec says ignore unknown $ fields)', () => {
    assert.deepEqual(parseRecordJson({ $unknown: 1, $type: 'com.example.x' }), { $unknown: 1, $type: 'com.example.x' });
  });

  it('keeps "__proto__" as an ordinary field', () => {
    const json = JSON.parse('{"__proto__": {"$bytes": "AQ"}, "a": 1}') as unknown;
    const value = jsonToIpld(json) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ['__proto__', 'a']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, new Uint8Array([1]));
    assert.deepEqual(ipldToJson(value), json);
  });

  it('quotes odd keys in paths', () => {
    const e = throwsCode(() => jsonToIpld({ 'a.b': { $link: 1 } }), 'InvalidDataModel');
    assert.equal(e.path, '$["a.b"].$link');
  });

  it('rejects values that JSON.parse never produces', () => {
    const cases: Record<string, unknown> = {
      undefined: { a: undefined },
      function: { a: () => 1 },
      symbol: { a: Symbol('x') },
      bigint: { a: 1n },
      date: { a: new Date(0) },
      map: { a: new Map() },
      bytes: { a: new Uint8Array(1) },
      class: { a: new (class Foo {})() },
    };
    for (const [label, v] of Object.entries(cases)) throwsCode(() => jsonToIpld(v), 'InvalidDataModel', label);
  });

  it('stops at maxDepth with TooLarge, even for very deep input (no stack overflow)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    throwsCode(() => jsonToIpld(deep), 'TooLarge');
    let ok: unknown = 1;
    for (let i = 0; i < 5; i++) ok = { a: ok };
    throwsCode(() => jsonToIpld(ok, { maxDepth: 4 }), 'TooLarge');
    assert.doesNotThrow(() => jsonToIpld(ok, { maxDepth: 5 }));
  });

  it('does not count $bytes and $link objects as nesting', () => {
    const json = { a: { b: [{ $bytes: 'AQ' }, { $link: LINK }] } };
    assert.doesNotThrow(() => parseRecordJson(json, { maxDepth: 3 }));
    throwsCode(() => parseRecordJson(json, { maxDepth: 2 }), 'TooLarge');
  });
});

describe('ipldToJson', () => {
  it('writes bytes as unpadded base64 and links as base32 strings', () => {
    const cid = CID.parse(LINK);
    assert.deepEqual(ipldToJson({ b: new Uint8Array([0xfb, 0xff]), l: cid, n: [null, true, -5, 'x'] }), {
      b: { $bytes: '+/8' },
      l: { $link: LINK },
      n: [null, true, -5, 'x'],
    });
  });

  it('refuses maps keyed "$bytes" or "$link" (they would read back as bytes or a link)', () => {
    throwsCode(() => ipldToJson({ a: { $link: LINK } }), 'InvalidDataModel');
    throwsCode(() => ipldToJson({ $bytes: 'AQ' }), 'InvalidDataModel');
  });

  it('refuses values outside the data model', () => {
    for (const v of [1.5, NaN, Infinity, 2 ** 53, undefined, new Date(0), new Uint16Array(1), 1n]) {
      throwsCode(() => ipldToJson({ v }), 'InvalidDataModel', String(v));
    }
  });

  it('round-trips through DAG-CBOR', () => {
    const json = { $type: 'com.example.x', b: { $bytes: 'AQID' }, l: { $link: LINK }, list: [[], {}, ''] };
    assert.deepEqual(ipldToJson(jsonToIpld(json)), json);
    assert.ok(encodeCbor(jsonToIpld(json)).length > 0);
  });
});
