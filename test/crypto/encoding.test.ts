/**
 * Strict base64 / base64url / hex: one byte string, one text form.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '@noble/hashes/utils.js';
import {
  bytesEqual,
  decodeBase64,
  decodeBase64Url,
  decodePem,
  encodeBase64,
  encodeBase64Url,
  encodePem,
  fromHex,
  toHex,
} from '../../src/crypto/encoding.ts';
import { throwsCode } from './helpers.ts';

describe('base64url (strict)', () => {
  it('round-trips every length 0..70 without padding', () => {
    for (let len = 0; len <= 70; len++) {
      const bytes = randomBytes(len);
      const text = encodeBase64Url(bytes);
      assert.doesNotMatch(text, /[=+/]/);
      assert.equal(text, Buffer.from(bytes).toString('base64url'));
      assert.deepEqual(decodeBase64Url(text), bytes);
    }
  });

  it('decodes a known vector', () => {
    assert.deepEqual(decodeBase64Url('-_8'), new Uint8Array([0xfb, 0xff]));
    assert.deepEqual(decodeBase64Url(''), new Uint8Array(0));
  });

  it("padding → 'MalformedBase64'", () => {
    for (const s of ['AA==', 'AAA=', 'AAAA====', 'AA=', '=', 'AA=A']) throwsCode(() => decodeBase64Url(s), 'MalformedBase64', s);
  });

  it("whitespace (newline, CR, space, tab) anywhere → 'MalformedBase64'", () => {
    for (const s of ['AAAA\n', '\nAAAA', 'AA\nAA', 'AAAA\r\n', ' AAAA', 'AAAA ', 'AA AA', 'AA\tAA']) {
      throwsCode(() => decodeBase64Url(s), 'MalformedBase64', JSON.stringify(s));
    }
  });

  it("standard-alphabet or foreign characters → 'MalformedBase64'", () => {
    for (const s of ['+/8', 'ab+c', 'ab/c', 'ab.c', 'abé', 'ab\u0000c', 'abc%']) {
      throwsCode(() => decodeBase64Url(s), 'MalformedBase64', JSON.stringify(s));
    }
  });

  it("non-zero trailing bits → 'MalformedBase64' (only the canonical spelling decodes)", () => {
    // 'AA' is 0x00; 'AB'..'AP' carry the same byte with non-zero leftover bits.
    assert.deepEqual(decodeBase64Url('AA'), new Uint8Array([0]));
    for (const s of ['AB', 'AC', 'AP', 'AAB', 'AAD', '_-9', '__9']) throwsCode(() => decodeBase64Url(s), 'MalformedBase64', s);
    assert.deepEqual(decodeBase64Url('AAE'), new Uint8Array([0, 1]));
    // Every non-canonical twin of an encoding's last character is refused: with k
    // leftover bits, exactly 2^(6−k) of the 64 characters decode.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const [len, leftover] of [
      [64, 4], // a signature: 86 chars
      [65, 2],
      [33, 0],
    ] as const) {
      const text = encodeBase64Url(randomBytes(len));
      let accepted = 0;
      for (const ch of alphabet) {
        try {
          decodeBase64Url(text.slice(0, -1) + ch);
          accepted++;
        } catch (e) {
          assert.equal((e as { code?: string }).code, 'MalformedBase64');
        }
      }
      assert.equal(accepted, 2 ** (6 - leftover), `${len} bytes`);
    }
  });

  it("length % 4 == 1 → 'MalformedBase64'", () => {
    for (const s of ['A', 'AAAAA', 'AAAAAAAAA', encodeBase64Url(randomBytes(63)) + 'A']) {
      assert.equal(s.length % 4, 1);
      throwsCode(() => decodeBase64Url(s), 'MalformedBase64', s);
    }
  });

  it("non-strings → 'MalformedBase64'", () => {
    for (const v of [undefined, null, 12, new Uint8Array(3), ['AAAA']]) {
      throwsCode(() => decodeBase64Url(v as unknown as string), 'MalformedBase64', String(v));
    }
  });
});

describe('base64 (standard alphabet, unpadded, strict)', () => {
  it('round-trips every length 0..70 without padding', () => {
    for (let len = 0; len <= 70; len++) {
      const bytes = randomBytes(len);
      const text = encodeBase64(bytes);
      assert.doesNotMatch(text, /[=\-_]/);
      assert.deepEqual(decodeBase64(text), bytes);
    }
    assert.deepEqual(decodeBase64('+/8'), new Uint8Array([0xfb, 0xff]));
  });

  it("rejects base64url characters, padding, whitespace, trailing bits and length % 4 == 1 with 'MalformedBase64'", () => {
    for (const s of ['-_8', 'ab-c', 'ab_c', 'AA==', 'AAA=', 'AAAA\n', ' AAAA', 'AB', 'AAB', 'A', 'AAAAA']) {
      throwsCode(() => decodeBase64(s), 'MalformedBase64', JSON.stringify(s));
    }
  });

  it('encodes subarrays by their own bytes, not the whole buffer', () => {
    const buf = new Uint8Array([1, 2, 3, 4, 5, 6]);
    assert.equal(encodeBase64(buf.subarray(2, 5)), encodeBase64(new Uint8Array([3, 4, 5])));
    assert.equal(encodeBase64Url(buf.subarray(1, 2)), 'Ag');
    assert.equal(toHex(buf.subarray(4)), '0506');
  });
});

describe('hex and bytesEqual', () => {
  it('fromHex accepts even-length hex of either case and refuses the rest', () => {
    assert.deepEqual(fromHex('00ffAb'), new Uint8Array([0, 0xff, 0xab]));
    assert.deepEqual(fromHex(''), new Uint8Array(0));
    for (const s of ['0', 'abc', 'zz', '0x00', '00 ', ' 00', '0g']) throwsCode(() => fromHex(s), 'UsageError', s);
    throwsCode(() => fromHex(undefined as unknown as string), 'UsageError');
  });

  it('bytesEqual compares length and content', () => {
    assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
    assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
    assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])), false);
    assert.equal(bytesEqual(new Uint8Array(0), new Uint8Array(0)), true);
  });
});

describe('base64 padding modes', () => {
  it("'required' takes only exact padding; 'optional' takes exact padding or none", () => {
    assert.deepEqual(decodeBase64('AQ==', 'required'), new Uint8Array([1]));
    assert.deepEqual(decodeBase64('AQI=', 'required'), new Uint8Array([1, 2]));
    assert.deepEqual(decodeBase64('AQID', 'required'), new Uint8Array([1, 2, 3]));
    assert.deepEqual(decodeBase64('AQ', 'optional'), new Uint8Array([1]));
    assert.deepEqual(decodeBase64('AQ==', 'optional'), new Uint8Array([1]));
    assert.deepEqual(decodeBase64Url('-w==', 'optional'), new Uint8Array([0xfb]));
    for (const s of ['AQ', 'AQ=', 'AQ===', 'AQI==', 'A===', '=', '====']) throwsCode(() => decodeBase64(s, 'required'), 'MalformedBase64', s);
    for (const s of ['AQ=', 'AQ===', 'AQI==', 'A===', '=', 'AQ=A', 'AQID=', 'AR==']) throwsCode(() => decodeBase64(s, 'optional'), 'MalformedBase64', s);
  });

  it('encodes padded on request, matching RFC 4648 §4', () => {
    for (let len = 0; len <= 10; len++) {
      const bytes = randomBytes(len);
      assert.equal(encodeBase64(bytes, { padded: true }), Buffer.from(bytes).toString('base64'));
    }
  });
});

describe('PEM', () => {
  const der = Uint8Array.from({ length: 100 }, (_, i) => i);

  it('encodes 64-column padded base64 between BEGIN/END lines, and decodes it back', () => {
    const pem = encodePem(der);
    const lines = pem.trimEnd().split('\n');
    assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
    assert.equal(lines.at(-1), '-----END CERTIFICATE-----');
    assert.equal(lines[1]!.length, 64);
    assert.equal(lines.slice(1, -1).join(''), Buffer.from(der).toString('base64'));
    assert.deepEqual(decodePem(pem), [der]);
  });

  it('decodes every block of the label in order, skipping text and other labels; CRLF and indentation are fine', () => {
    const other = new Uint8Array([9, 9, 9]);
    const text = `comment\r\n${encodePem(der).replace(/\n/g, '\r\n')}${encodePem(other, 'PUBLIC KEY')}  ${encodePem(other).replace(/\n/g, '\n  ')}`;
    assert.deepEqual(decodePem(text), [der, other]);
    assert.deepEqual(decodePem(text, 'PUBLIC KEY'), [other]);
  });

  it("refuses bad base64 inside a block, mismatched END labels and text without a block (UsageError by default)", () => {
    const good = encodePem(new Uint8Array([1]));
    assert.match(good, /AQ==/);
    for (const bad of [
      good.replace('AQ==', 'AQ'), // padding is required inside PEM
      good.replace('AQ==', 'AR=='), // non-zero trailing bits
      good.replace('AQ==', 'A-Q='), // not the standard alphabet
      good.replace('END CERTIFICATE', 'END PUBLIC KEY'),
      'no block here',
      '-----BEGIN CERTIFICATE-----\nAQ==\n',
    ]) {
      throwsCode(() => decodePem(bad), 'UsageError', JSON.stringify(bad));
    }
    throwsCode(() => decodePem('x', 'CERTIFICATE', 'InvalidEvidence'), 'InvalidEvidence');
  });
});
