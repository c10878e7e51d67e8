/** Identifier syntax against the upstream fixtures, plus our canonical-time helpers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertCanonicalUtcMillis,
  assertCidString,
  assertDatetime,
  assertDid,
  assertDidPlc,
  assertHandle,
  assertNsid,
  assertRecordKey,
  assertTid,
  isCanonicalUtcMillis,
  isValidCidSyntax,
  isValidDatetime,
  isValidDatetimeSyntax,
  isValidDid,
  isValidDidPlc,
  isValidHandle,
  isValidNsid,
  isValidRecordKey,
  isValidTid,
  parseDatetime,
  parseLinkCid,
  toCanonicalUtcMillis,
} from '../../src/data/index.ts';
import { throwsCode } from './assert-code.ts';
import { readFixtureLines } from './fixtures.ts';

interface Kind {
  name: string;
  file: string;
  /** Documented case counts (PROVENANCE.md), so a parsing slip is noticed. */
  counts: [valid: number, invalid: number];
  is: (s: unknown) => boolean;
  assert: (s: unknown) => unknown;
}

const KINDS: Kind[] = [
  { name: 'DID', file: 'did', counts: [24, 18], is: isValidDid, assert: assertDid },
  { name: 'NSID', file: 'nsid', counts: [25, 27], is: isValidNsid, assert: assertNsid },
  { name: 'CID', file: 'cid', counts: [8, 10], is: isValidCidSyntax, assert: (s) => assertCidSyntaxOnly(s) },
  { name: 'datetime', file: 'datetime', counts: [35, 45], is: isValidDatetime, assert: assertDatetime },
  { name: 'handle', file: 'handle', counts: [71, 48], is: isValidHandle, assert: assertHandle },
  { name: 'TID', file: 'tid', counts: [4, 9], is: isValidTid, assert: assertTid },
  { name: 'record key', file: 'recordkey', counts: [16, 11], is: isValidRecordKey, assert: assertRecordKey },
];

/** The CID fixtures test string syntax only; some valid ones use exotic multibases. */
function assertCidSyntaxOnly(s: unknown): void {
  if (!isValidCidSyntax(s)) assertCidString(s);
}

for (const kind of KINDS) {
  describe(`${kind.name} syntax fixtures`, () => {
    const valid = readFixtureLines(`syntax/${kind.file}_syntax_valid.txt`);
    const invalid = readFixtureLines(`syntax/${kind.file}_syntax_invalid.txt`);

    it('reads the documented number of cases', () => {
      assert.deepEqual([valid.length, invalid.length], kind.counts);
    });
    it(`accepts all ${valid.length} valid cases`, () => {
      for (const s of valid) {
        assert.equal(kind.is(s), true, JSON.stringify(s));
        assert.doesNotThrow(() => kind.assert(s), JSON.stringify(s));
      }
    });
    it(`rejects all ${invalid.length} invalid cases with InvalidSyntax`, () => {
      for (const s of invalid) {
        assert.equal(kind.is(s), false, JSON.stringify(s));
        throwsCode(() => kind.assert(s), 'InvalidSyntax', JSON.stringify(s));
      }
    });
    it('rejects non-strings', () => {
      for (const v of [undefined, null, 1, {}, ['a']]) {
        assert.equal(kind.is(v), false);
        throwsCode(() => kind.assert(v), 'InvalidSyntax');
      }
    });
  });
}

describe('datetime_parse_invalid.txt', () => {
  const cases = readFixtureLines('syntax/datetime_parse_invalid.txt');
  it('has the 7 documented cases', () => assert.equal(cases.length, 7));
  it('passes the syntax layer but is rejected as a datetime', () => {
    for (const s of cases) {
      assert.equal(isValidDatetimeSyntax(s), true, s);
      assert.equal(isValidDatetime(s), false, s);
      throwsCode(() => parseDatetime(s), 'InvalidSyntax', s);
    }
  });
});

describe('datetime semantics', () => {
  it('parses to epoch milliseconds, applying the offset and truncating extra digits', () => {
    assert.equal(parseDatetime('1985-04-12T23:20:50.123Z'), Date.UTC(1985, 3, 12, 23, 20, 50, 123));
    assert.equal(parseDatetime('1985-04-12T23:20:50.1239999Z'), Date.UTC(1985, 3, 12, 23, 20, 50, 123));
    assert.equal(parseDatetime('1985-04-12T23:20:50Z'), Date.UTC(1985, 3, 12, 23, 20, 50));
    assert.equal(parseDatetime('1985-04-12T23:20:50.5+01:45'), Date.UTC(1985, 3, 12, 21, 35, 50, 500));
    assert.equal(parseDatetime('1985-04-12T23:20:50.5-07:00'), Date.UTC(1985, 3, 13, 6, 20, 50, 500));
    assert.equal(parseDatetime('0000-01-01T00:00:00.000Z'), Date.parse('0000-01-01T00:00:00Z'));
  });

  it('knows month lengths and leap years (Date.parse would roll over)', () => {
    assert.equal(isValidDatetime('2024-02-29T00:00:00Z'), true);
    assert.equal(isValidDatetime('2000-02-29T00:00:00Z'), true);
    assert.equal(isValidDatetime('2023-02-29T00:00:00Z'), false);
    assert.equal(isValidDatetime('1900-02-29T00:00:00Z'), false);
    assert.equal(isValidDatetime('2023-04-31T00:00:00Z'), false);
    assert.equal(isValidDatetime('2023-02-30T00:00:00Z'), false);
  });

  it('refuses leap seconds, 24:00 and out-of-range offsets', () => {
    for (const s of [
      '2016-12-31T23:59:60Z',
      '2016-12-31T24:00:00Z',
      '2016-12-31T23:00:00+24:00',
      '2016-12-31T23:00:00+01:60',
    ]) {
      assert.equal(isValidDatetimeSyntax(s), true, s);
      assert.equal(isValidDatetime(s), false, s);
    }
  });

  it('refuses overlong strings', () => {
    const s = `1985-04-12T23:20:50.${'1'.repeat(45)}Z`;
    assert.equal(s.length, 66);
    assert.equal(isValidDatetimeSyntax(s), false);
  });
});

describe('canonical UTC milliseconds (our own documents)', () => {
  it('accepts exactly YYYY-MM-DDThh:mm:ss.mmmZ', () => {
    for (const s of ['1985-04-12T23:20:50.123Z', '2000-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z']) {
      assert.equal(isCanonicalUtcMillis(s), true, s);
      assertCanonicalUtcMillis(s);
    }
  });

  it('refuses other valid datetimes and invalid ones', () => {
    for (const s of [
      '1985-04-12T23:20:50Z',
      '1985-04-12T23:20:50.12Z',
      '1985-04-12T23:20:50.1234Z',
      '1985-04-12T23:20:50.123+00:00',
      '1985-13-12T23:20:50.123Z',
      '1985-04-12T23:20:50.123z',
      ' 1985-04-12T23:20:50.123Z',
    ]) {
      assert.equal(isCanonicalUtcMillis(s), false, s);
      throwsCode(() => assertCanonicalUtcMillis(s), 'InvalidSyntax', s);
    }
  });

  it('every canonical datetime fixture case round-trips through toCanonicalUtcMillis', () => {
    const canon = readFixtureLines('syntax/datetime_syntax_valid.txt').filter((s) => isCanonicalUtcMillis(s));
    assert.ok(canon.length >= 5);
    for (const s of canon) assert.equal(toCanonicalUtcMillis(parseDatetime(s)), s);
  });

  it('writes from a Date or epoch ms, and refuses what it cannot write', () => {
    assert.equal(toCanonicalUtcMillis(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6))), '2026-01-02T03:04:05.006Z');
    assert.equal(toCanonicalUtcMillis(0), '1970-01-01T00:00:00.000Z');
    const unwritable = [new Date(NaN), NaN, 1.5, Date.parse('+010000-01-01T00:00:00Z'), Date.parse('-000001-12-31T00:00:00Z')];
    for (const t of unwritable) {
      throwsCode(() => toCanonicalUtcMillis(t), 'InvalidSyntax', String(t));
    }
  });
});

describe('did:plc', () => {
  it('is "did:plc:" and 24 lowercase base32 characters', () => {
    assert.equal(isValidDidPlc('did:plc:7iza6de2dwap2sbkpav7c6c6'), true);
    assertDidPlc('did:plc:ewvi7nxzyoun6zhxrhs64oiz');
    for (const s of [
      'did:plc:7iza6de2dwap2sbkpav7c6c',
      'did:plc:7iza6de2dwap2sbkpav7c6c6a',
      'did:plc:7IZA6DE2DWAP2SBKPAV7C6C6',
      'did:plc:7iza6de2dwap2sbkpav7c6c1',
      'did:web:example.com',
    ]) {
      assert.equal(isValidDidPlc(s), false, s);
      throwsCode(() => assertDidPlc(s), 'InvalidSyntax', s);
    }
  });
});

describe('CID strings', () => {
  const valid = readFixtureLines('syntax/cid_syntax_valid.txt');
  const invalid = readFixtureLines('syntax/cid_syntax_invalid.txt');

  it('assertCidString decodes the base32 / base58btc fixture CIDs', () => {
    // The short 'z...' case and the base64/base10/base16 ones are multibase
    // strings that only pass the syntax check; CID.parse reads base32/58btc/36.
    const decodable = valid.filter((s) => /^[bz]/.test(s) && s.length > 40);
    assert.equal(decodable.length, 4);
    for (const s of decodable) assert.equal(assertCidString(s).version, 1, s);
  });

  it('assertCidString rejects every invalid fixture', () => {
    for (const s of invalid) throwsCode(() => assertCidString(s), 'InvalidSyntax', s);
  });

  it('assertCidString rejects syntactically fine strings that are not CIDs', () => {
    for (const s of ['bafyreinotacid', 'zzzzzzzzzzzz', 'abcdefgh']) {
      throwsCode(() => assertCidString(s), 'InvalidSyntax', s);
    }
  });

  it('parseLinkCid wants a blessed CID in canonical base32', () => {
    const link = 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a';
    assert.equal(parseLinkCid(link).toString(), link);
    assert.equal(parseLinkCid('bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity').code, 0x55);
    // dag-pb codec, from the IPFS docs
    throwsCode(() => parseLinkCid('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'), 'InvalidSyntax');
    // same CID, base58btc spelling
    throwsCode(() => parseLinkCid('zdpuAyvkgEDQm9TenwGkd5eNaosSxjgEYd8QatfPetgB1CdEZ'), 'InvalidSyntax');
  });
});

describe('NSID details', () => {
  it('keeps case and allows digits in the name after the first letter', () => {
    assert.equal(isValidNsid('com.example.fooBarV2'), true);
    assert.equal(isValidNsid('dev.encumber.payload'), true);
    assert.equal(isValidNsid('com.example.2foo'), false);
    assert.equal(isValidNsid('com.example.foo-bar'), false);
    assert.equal(isValidNsid('com.example.foo.*'), false);
    assert.equal(isValidNsid('com.example.foo#main'), false);
  });
});

describe('record keys and comment-like lines', () => {
  it('"#extra" is an invalid record key (the fixture reader skips it as a comment)', () => {
    assert.equal(isValidRecordKey('#extra'), false);
  });
});
