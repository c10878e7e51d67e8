/** Untrusted DAG-CBOR records: parseRecordCbor refuses anything non-canonical. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCbor, encodeCbor, parseRecordCbor } from '../../src/data/index.ts';
import { throwsCode } from './assert-code.ts';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('parseRecordCbor', () => {
  it('accepts canonical DAG-CBOR and returns the map', () => {
    // {"a": 1, "bb": h'01'}
    assert.deepEqual(parseRecordCbor(hex('a2 6161 01 626262 4101')), { a: 1, bb: new Uint8Array([1]) });
  });

  // Each of these is refused by the decoder itself.
  const garbage: Record<string, string> = {
    empty: '',
    'reserved byte': 'ff',
    truncated: 'a2 6161 01 6262',
    'trailing bytes': 'a0 00',
    'indefinite-length map': 'bf 6161 01 ff',
    'duplicate keys': 'a2 6161 01 6161 02',
    'non-minimal integer': 'a1 6161 1801',
    'tag other than 42': 'a1 6161 c1 1a514b67b0',
    'map with an integer key': 'a1 01 01',
    'CID tag on a non-bytes value': 'a1 6161 d82a 6161',
    'CID without the 0x00 prefix': 'a1 6161 d82a 58 24 01711220' + '00'.repeat(32),
  };
  for (const [label, h] of Object.entries(garbage)) {
    it(`InvalidCbor: ${label}`, () => {
      throwsCode(() => parseRecordCbor(hex(h)), 'InvalidCbor', label);
    });
  }

  // These decode, but do not re-encode to the same bytes: the bytes would not
  // match the CID a signer computes from the value.
  const nonCanonical: Record<string, string> = {
    'keys not in length-first order': 'a2 626161 01 6162 02',
    'keys not in bytewise order': 'a2 6162 01 6161 02',
    'integer 1 written as float64 1.0': 'a1 6161 fb3ff0000000000000',
    'integer 1 written as float16': 'a1 6161 f93c00',
    'invalid UTF-8 in a string': 'a1 6161 62 c328',
    'invalid UTF-8 in a key': 'a1 62 c328 01',
    'a CBOR undefined': 'a1 6161 f7',
  };
  for (const [label, h] of Object.entries(nonCanonical)) {
    it(`rejects: ${label}`, () => {
      throwsCode(() => parseRecordCbor(hex(h)), 'InvalidCbor', label);
    });
  }

  it('InvalidDataModel: a real float, a 64-bit integer, a non-map top level', () => {
    throwsCode(() => parseRecordCbor(hex('a1 6161 fb3ff8000000000000')), 'InvalidDataModel'); // 1.5
    throwsCode(() => parseRecordCbor(hex('a1 6161 1b0020000000000000')), 'InvalidDataModel'); // 2^53
    throwsCode(() => parseRecordCbor(hex('a1 6161 3b0020000000000000')), 'InvalidDataModel'); // -2^53-1
    throwsCode(() => parseRecordCbor(hex('83 01 02 03')), 'InvalidDataModel');
    throwsCode(() => parseRecordCbor(hex('6161')), 'InvalidDataModel');
  });

  it('InvalidDataModel: a CIDv1 link with an unblessed codec', () => {
    // dag-pb (0x70) sha2-256 link
    throwsCode(() => parseRecordCbor(hex('a1 6161 d82a 5825 0001701220' + '11'.repeat(32))), 'InvalidDataModel');
  });

  it('TooLarge: input over maxEncodedBytes is refused before decoding', () => {
    const bytes = encodeCbor({ s: 'x'.repeat(100) });
    throwsCode(() => parseRecordCbor(bytes, { maxEncodedBytes: bytes.length - 1 }), 'TooLarge');
    assert.doesNotThrow(() => parseRecordCbor(bytes, { maxEncodedBytes: bytes.length }));
  });

  it('TooLarge: nesting over maxDepth', () => {
    const bytes = hex('a1 6161 ' + '81'.repeat(40) + '01');
    throwsCode(() => parseRecordCbor(bytes), 'TooLarge');
  });

  it('very deep nesting fails with a typed error, never a crash', () => {
    const bytes = hex('a1 6161 ' + '81'.repeat(200_000) + '01');
    throwsCode(() => parseRecordCbor(bytes), 'InvalidCbor');
  });
});

describe('decodeCbor', () => {
  it('rejects non-bytes input', () => {
    throwsCode(() => decodeCbor('a0' as unknown as Uint8Array), 'InvalidCbor');
  });
});
