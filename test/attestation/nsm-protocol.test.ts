/**
 * The NSM protocol (src/attestation/nitro/nsm): the exact serde CBOR of every
 * request and response of aws-nitro-enclaves-nsm-api, written out byte by byte
 * here (independent of the cbor-x encoder under test), both directions, the
 * size limits, and the typed errors. Tests assert `reason`/`code`, never text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeNsmRequest,
  decodeNsmResponse,
  encodeNsmRequest,
  encodeNsmResponse,
  expectNsmResponse,
  NSM_ERROR_CODES,
  NSM_LIMITS,
  NsmError,
  type NsmFailure,
  type NsmRequest,
  type NsmResponse,
} from '../../src/attestation/nitro/nsm/index.ts';
import { nitroBytes } from './helpers.ts';

// --- CBOR written by hand (RFC 8949), so the vectors do not come from the encoder under test.
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
/** A header: major type + argument, shortest form. */
function head(major: number, n: number): string {
  const m = major << 5;
  if (n < 24) return (m | n).toString(16).padStart(2, '0');
  if (n < 0x100) return (m | 24).toString(16) + n.toString(16).padStart(2, '0');
  if (n < 0x10000) return (m | 25).toString(16) + n.toString(16).padStart(4, '0');
  return (m | 26).toString(16) + n.toString(16).padStart(8, '0');
}
const text = (s: string) => head(3, Buffer.byteLength(s)) + Buffer.from(s).toString('hex');
const bytes = (b: Uint8Array) => head(2, b.length) + hex(b);
const uint = (n: number) => head(0, n);
const map = (...entries: [string, string][]) => head(5, entries.length) + entries.map(([k, v]) => text(k) + v).join('');
const array = (...items: string[]) => head(4, items.length) + items.join('');
const NULL = 'f6';
const TRUE = 'f5';
const FALSE = 'f4';
/** serde's externally tagged struct variant. */
const variant = (name: string, ...fields: [string, string][]) => map([name, map(...fields)]);

function rejects(f: () => unknown, reason: NsmFailure, check: (e: NsmError) => void = () => {}) {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof NsmError, `expected NsmError, got ${e}`);
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.code, reason === 'InvalidRequest' ? 'UsageError' : 'InternalError');
    check(e);
    return true;
  });
}

const PK = new Uint8Array(33).fill(2);
const CID = new Uint8Array(36).fill(1);
const NONCE = new Uint8Array(32).fill(9);
const PCR = new Uint8Array(48).map((_, i) => i);

test('hand-written vectors agree with the kernel driver: GetRandom request and response prefix', () => {
  // drivers/misc/nsm.c, fill_req_get_random: 69 "GetRandom"; parse_resp_get_random: A1 69 "GetRandom" A1 66 "random" <bstr>.
  assert.equal(text('GetRandom'), '6947657452616e646f6d');
  assert.equal(hex(encodeNsmRequest({ type: 'GetRandom' })), '6947657452616e646f6d');
  const response = encodeNsmResponse({ type: 'GetRandom', random: new Uint8Array(4).fill(0xaa) });
  assert.equal(hex(response), 'a1' + '6947657452616e646f6d' + 'a1' + '6672616e646f6d' + '44aaaaaaaa');
});

const REQUEST_VECTORS: { name: string; request: NsmRequest; cbor: string }[] = [
  { name: 'DescribeNSM (unit variant: a text string)', request: { type: 'DescribeNSM' }, cbor: text('DescribeNSM') },
  { name: 'GetRandom', request: { type: 'GetRandom' }, cbor: text('GetRandom') },
  { name: 'DescribePCR index 0', request: { type: 'DescribePCR', index: 0 }, cbor: variant('DescribePCR', ['index', uint(0)]) },
  { name: 'DescribePCR index 300 (u16, two bytes)', request: { type: 'DescribePCR', index: 300 }, cbor: variant('DescribePCR', ['index', '19012c']) },
  { name: 'DescribePCR index 65535', request: { type: 'DescribePCR', index: 65535 }, cbor: variant('DescribePCR', ['index', '19ffff']) },
  {
    name: 'ExtendPCR: index then data (byte string)',
    request: { type: 'ExtendPCR', index: 16, data: new Uint8Array([1, 2, 3]) },
    cbor: variant('ExtendPCR', ['index', uint(16)], ['data', '43010203']),
  },
  { name: 'LockPCR', request: { type: 'LockPCR', index: 16 }, cbor: variant('LockPCR', ['index', uint(16)]) },
  { name: 'LockPCRs', request: { type: 'LockPCRs', range: 32 }, cbor: variant('LockPCRs', ['range', '1820']) },
  {
    name: 'Attestation, all None: every field present as null, in declaration order user_data, nonce, public_key',
    request: { type: 'Attestation', userData: null, nonce: null, publicKey: null },
    cbor: variant('Attestation', ['user_data', NULL], ['nonce', NULL], ['public_key', NULL]),
  },
  {
    name: 'Attestation as encumber sends it: user_data = binding CID, nonce, public_key = compressed key',
    request: { type: 'Attestation', userData: CID, nonce: NONCE, publicKey: PK },
    cbor: variant('Attestation', ['user_data', bytes(CID)], ['nonce', bytes(NONCE)], ['public_key', bytes(PK)]),
  },
  {
    name: 'Attestation with 1024-byte fields (the limit; two-byte lengths)',
    request: { type: 'Attestation', userData: new Uint8Array(1024), nonce: new Uint8Array(1024), publicKey: new Uint8Array(1024) },
    cbor: variant('Attestation', ['user_data', bytes(new Uint8Array(1024))], ['nonce', bytes(new Uint8Array(1024))], ['public_key', bytes(new Uint8Array(1024))]),
  },
];

for (const v of REQUEST_VECTORS) {
  test(`request vector: ${v.name}`, () => {
    assert.equal(hex(encodeNsmRequest(v.request)), v.cbor);
    assert.deepEqual(decodeNsmRequest(fromHex(v.cbor)), v.request);
  });
}

const DOC = nitroBytes('marlin-aws-valid.cbor');
const RESPONSE_VECTORS: { name: string; response: NsmResponse; cbor: string }[] = [
  {
    name: 'Attestation { document } with a real AWS document',
    response: { type: 'Attestation', document: DOC },
    cbor: variant('Attestation', ['document', bytes(DOC)]),
  },
  {
    name: 'DescribePCR { lock, data }',
    response: { type: 'DescribePCR', lock: true, data: PCR },
    cbor: variant('DescribePCR', ['lock', TRUE], ['data', bytes(PCR)]),
  },
  {
    name: 'DescribePCR unlocked',
    response: { type: 'DescribePCR', lock: false, data: PCR },
    cbor: variant('DescribePCR', ['lock', FALSE], ['data', bytes(PCR)]),
  },
  { name: 'ExtendPCR { data }', response: { type: 'ExtendPCR', data: PCR }, cbor: variant('ExtendPCR', ['data', bytes(PCR)]) },
  { name: 'LockPCR (unit)', response: { type: 'LockPCR' }, cbor: text('LockPCR') },
  { name: 'LockPCRs (unit)', response: { type: 'LockPCRs' }, cbor: text('LockPCRs') },
  {
    name: 'DescribeNSM: versions, module_id, max_pcrs, locked_pcrs (BTreeSet → sorted array), digest (enum → text)',
    response: {
      type: 'DescribeNSM',
      versionMajor: 1,
      versionMinor: 0,
      versionPatch: 0,
      moduleId: 'i-0f1cd77d37fd8bcc9-enc018e7aa61e2040ff',
      maxPcrs: 32,
      lockedPcrs: [0, 1, 2, 3, 4, 8],
      digest: 'SHA384',
    },
    cbor: variant(
      'DescribeNSM',
      ['version_major', uint(1)],
      ['version_minor', uint(0)],
      ['version_patch', uint(0)],
      ['module_id', text('i-0f1cd77d37fd8bcc9-enc018e7aa61e2040ff')],
      ['max_pcrs', '1820'],
      ['locked_pcrs', array(uint(0), uint(1), uint(2), uint(3), uint(4), uint(8))],
      ['digest', text('SHA384')],
    ),
  },
  { name: 'GetRandom { random }', response: { type: 'GetRandom', random: new Uint8Array(256).fill(7) }, cbor: variant('GetRandom', ['random', bytes(new Uint8Array(256).fill(7))]) },
  ...NSM_ERROR_CODES.map((code) => ({
    name: `Error(${code}) (newtype variant around a unit enum)`,
    response: { type: 'Error' as const, code },
    cbor: map(['Error', text(code)]),
  })),
];

for (const v of RESPONSE_VECTORS) {
  test(`response vector: ${v.name}`, () => {
    assert.deepEqual(decodeNsmResponse(fromHex(v.cbor)), v.response);
    assert.equal(hex(encodeNsmResponse(v.response)), v.cbor);
  });
}

test('decoding reads like serde: any field order, unknown fields ignored, absent Option = None', () => {
  const reordered = variant('DescribePCR', ['data', bytes(PCR)], ['lock', TRUE]);
  assert.deepEqual(decodeNsmResponse(fromHex(reordered)), { type: 'DescribePCR', lock: true, data: PCR });
  const extra = variant('Attestation', ['document', bytes(DOC)], ['future_field', uint(1)]);
  assert.deepEqual(decodeNsmResponse(fromHex(extra)), { type: 'Attestation', document: DOC });
  const unsorted = variant('DescribeNSM', ['version_major', uint(1)], ['version_minor', uint(0)], ['version_patch', uint(0)], ['module_id', text('m')], ['max_pcrs', uint(32)], ['locked_pcrs', array(uint(8), uint(0), uint(8))], ['digest', text('SHA512')]);
  assert.deepEqual((decodeNsmResponse(fromHex(unsorted)) as { lockedPcrs: number[] }).lockedPcrs, [0, 8]);
  // The device side: an Attestation request with fields left out reads them as None.
  assert.deepEqual(decodeNsmRequest(fromHex(variant('Attestation', ['nonce', bytes(NONCE)]))), {
    type: 'Attestation',
    userData: null,
    nonce: NONCE,
    publicKey: null,
  });
});

const MALFORMED: [string, string][] = [
  ['empty', ''],
  ['not CBOR (a reserved byte)', 'ff'],
  ['truncated map', 'a1'],
  ['trailing byte after a valid response', text('LockPCR') + '00'],
  ['an integer', uint(7)],
  ['a map with two variants', map(['LockPCR', NULL], ['LockPCRs', NULL])],
  ['an empty map', 'a0'],
  ['an array', array(text('LockPCR'))],
  ['an unknown unit variant', text('Reboot')],
  ['an unknown struct variant', variant('Reboot', ['now', TRUE])],
  ['a struct variant as a bare string', text('Attestation')],
  ['a unit variant as a map', map(['LockPCR', 'a0'])],
  ['the variant name not a string', 'a1' + uint(1) + 'a0'],
  ['fields not a map', map(['Attestation', array()])],
  ['a missing field', variant('DescribePCR', ['lock', TRUE])],
  ['document as text', variant('Attestation', ['document', text('doc')])],
  ['document null', variant('Attestation', ['document', NULL])],
  ['an empty document', variant('Attestation', ['document', '40'])],
  ['lock as an integer', variant('DescribePCR', ['lock', uint(1)], ['data', bytes(PCR)])],
  ['u16 out of range', variant('DescribeNSM', ['version_major', '1a00010000'], ['version_minor', uint(0)], ['version_patch', uint(0)], ['module_id', text('m')], ['max_pcrs', uint(32)], ['locked_pcrs', array()], ['digest', text('SHA384')])],
  ['a negative integer', variant('DescribeNSM', ['version_major', '20'], ['version_minor', uint(0)], ['version_patch', uint(0)], ['module_id', text('m')], ['max_pcrs', uint(32)], ['locked_pcrs', array()], ['digest', text('SHA384')])],
  ['an unknown digest', variant('DescribeNSM', ['version_major', uint(1)], ['version_minor', uint(0)], ['version_patch', uint(0)], ['module_id', text('m')], ['max_pcrs', uint(32)], ['locked_pcrs', array()], ['digest', text('MD5')])],
  ['locked_pcrs not integers', variant('DescribeNSM', ['version_major', uint(1)], ['version_minor', uint(0)], ['version_patch', uint(0)], ['module_id', text('m')], ['max_pcrs', uint(32)], ['locked_pcrs', array(text('0'))], ['digest', text('SHA384')])],
  ['an unknown error code', map(['Error', text('Exploded')])],
  ['an error code as an integer (serde writes names)', map(['Error', uint(1)])],
  ['Error as a bare string', text('Error')],
];

for (const [name, cbor] of MALFORMED) {
  test(`malformed response: ${name} → MalformedResponse`, () => {
    rejects(() => decodeNsmResponse(fromHex(cbor)), 'MalformedResponse');
  });
}

test('response size: more than the 16 KiB buffer is refused before decoding', () => {
  rejects(() => decodeNsmResponse(new Uint8Array(NSM_LIMITS.responseBufferBytes + 1)), 'MalformedResponse', (e) => {
    assert.equal(e.actual, NSM_LIMITS.responseBufferBytes + 1);
  });
  assert.equal(NSM_LIMITS.responseBufferBytes, 16 * 1024);
  assert.ok(NSM_LIMITS.responseBufferBytes > NSM_LIMITS.maxDeviceResponseBytes, 'the buffer exceeds what the driver can write, so nothing is truncated');
});

test('request limits: Attestation fields ≤ 1024 bytes, u16 indices, ≤ 4 KiB encoded; refused as UsageError', () => {
  const big = new Uint8Array(1025);
  for (const field of ['userData', 'nonce', 'publicKey'] as const) {
    const request = { type: 'Attestation', userData: null, nonce: null, publicKey: null, [field]: big } as NsmRequest;
    rejects(() => encodeNsmRequest(request), 'InvalidRequest', (e) => {
      assert.equal(e.actual, 1025);
      assert.equal(e.expected, 1024);
      assert.match(e.path ?? '', /^Attestation\./);
    });
  }
  for (const index of [-1, 65536, 1.5, Number.NaN]) {
    rejects(() => encodeNsmRequest({ type: 'DescribePCR', index }), 'InvalidRequest');
  }
  rejects(() => encodeNsmRequest({ type: 'Attestation', userData: 'text' as unknown as Uint8Array, nonce: null, publicKey: null }), 'InvalidRequest');
  rejects(() => encodeNsmRequest({ type: 'Reboot' } as unknown as NsmRequest), 'InvalidRequest');
  rejects(() => encodeNsmRequest(null as unknown as NsmRequest), 'InvalidRequest');
  // ExtendPCR has no per-field limit, but the driver takes at most 4 KiB.
  assert.ok(encodeNsmRequest({ type: 'ExtendPCR', index: 16, data: new Uint8Array(4000) }).length <= NSM_LIMITS.maxRequestBytes);
  rejects(() => encodeNsmRequest({ type: 'ExtendPCR', index: 16, data: new Uint8Array(4096) }), 'InvalidRequest', (e) => {
    assert.equal(e.expected, NSM_LIMITS.maxRequestBytes);
  });
  // Undefined optional fields are None.
  assert.equal(
    hex(encodeNsmRequest({ type: 'Attestation' } as NsmRequest)),
    variant('Attestation', ['user_data', NULL], ['nonce', NULL], ['public_key', NULL]),
  );
  // The device side refuses the same.
  rejects(() => decodeNsmRequest(fromHex(variant('Attestation', ['nonce', bytes(big)]))), 'InvalidRequest');
  rejects(() => decodeNsmRequest(new Uint8Array(0)), 'InvalidRequest');
});

test('expectNsmResponse: Error(code) → NsmError with nsmCode; another kind → UnexpectedResponse', () => {
  for (const code of NSM_ERROR_CODES) {
    rejects(() => expectNsmResponse({ type: 'Error', code }, 'Attestation'), 'NsmError', (e) => {
      assert.equal(e.nsmCode, code);
      assert.equal(e.expected, 'Attestation');
    });
  }
  rejects(() => expectNsmResponse({ type: 'GetRandom', random: new Uint8Array(1) }, 'Attestation'), 'UnexpectedResponse', (e) => {
    assert.equal(e.expected, 'Attestation');
    assert.equal(e.actual, 'GetRandom');
  });
  const ok = expectNsmResponse({ type: 'Attestation', document: DOC }, 'Attestation');
  assert.equal(ok.document, DOC);
});

test('property: requests round-trip through both sides; the encoding never exceeds the driver limit', () => {
  const field = fc.option(fc.uint8Array({ maxLength: 1024 }), { nil: null });
  fc.assert(
    fc.property(field, field, field, (userData, nonce, publicKey) => {
      const request: NsmRequest = { type: 'Attestation', userData, nonce, publicKey };
      const cbor = encodeNsmRequest(request);
      assert.ok(cbor.length <= NSM_LIMITS.maxRequestBytes);
      assert.deepEqual(decodeNsmRequest(cbor), request);
    }),
    { numRuns: 200 },
  );
});

test('property: any bytes, and any mutation of a valid response, decode or fail as MalformedResponse — nothing else', () => {
  const valid = RESPONSE_VECTORS.map((v) => fromHex(v.cbor)).filter((b) => b.length < 2000);
  const decodesOrMalformed = (input: Uint8Array) => {
    try {
      decodeNsmResponse(input);
    } catch (e) {
      assert.ok(e instanceof NsmError && e.reason === 'MalformedResponse', `unexpected ${e}`);
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), decodesOrMalformed), { numRuns: 500 });
  fc.assert(
    fc.property(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 }), (base, at, byte) => {
      const mutated = base.slice();
      mutated[at % mutated.length] = byte;
      decodesOrMalformed(mutated);
      decodesOrMalformed(mutated.subarray(0, at % mutated.length));
    }),
    { numRuns: 1000 },
  );
});
