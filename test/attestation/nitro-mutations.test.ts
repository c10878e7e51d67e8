/**
 * Hand-made mutations of a real AWS document. Each one breaks one rule and
 * must give that rule's code (and field or certificate position), never an
 * untyped throw. Byte flips in signed content are found after structure
 * checks, by the signature that covers them: a certificate by its issuer's
 * signature (or the root pin), the payload by the COSE signature.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder, Tag } from 'cbor-x';
import { verifyNitroDocument, type NitroVerifyOptions } from '../../src/attestation/nitro/index.ts';
import { encodeCbor } from '../../src/attestation/nitro/cbor.ts';
import { children, readTlv } from '../../src/attestation/x509/der.ts';
import { AWS_FIXTURES, AWS_ROOT_PEM, assertOk, assertRejected, nitroBytes } from './helpers.ts';

const FX = AWS_FIXTURES.find((f) => f.file === 'cape-spec-attestationdocument-valid.cbor')!; // non-debug, every optional field present
const BYTES = nitroBytes(FX.file);
const OPTS: NitroVerifyOptions = { trustRoots: AWS_ROOT_PEM, at: new Date(FX.timestamp) };
const verify = (b: Uint8Array, o: Partial<NitroVerifyOptions> = {}) => verifyNitroDocument(b, { ...OPTS, ...o });

/** The document as cbor-x values: [protected, unprotected, payload Map]. */
function parts(bytes = BYTES): { cose: unknown[]; payload: Map<string, unknown> } {
  const dec = new Decoder({ mapsAsObjects: false, useRecords: false });
  const cose = dec.decode(bytes.slice()) as unknown[];
  return { cose, payload: dec.decode(cose[2] as Uint8Array) as Map<string, unknown> };
}

/** Rebuild with a changed payload (signature unchanged). */
function withPayload(edit: (p: Map<string, unknown>) => void): Uint8Array {
  const { cose, payload } = parts();
  edit(payload);
  return encodeCbor([cose[0], cose[1], encodeCbor(payload), cose[3]]);
}

/** Rebuild with a changed envelope. */
function withCose(edit: (c: unknown[]) => unknown): Uint8Array {
  const { cose } = parts();
  return encodeCbor(edit(cose));
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function flip(bytes: Uint8Array, at: number, bit = 1): Uint8Array {
  const out = new Uint8Array(bytes);
  out[at]! ^= bit;
  return out;
}

test('baseline: the mutated document verifies untouched, and re-encoding it changes nothing', () => {
  assertOk(verify(BYTES));
  assert.deepEqual(withPayload(() => {}), BYTES);
});

test('COSE signature: any bit flipped → EvidenceSignatureInvalid', () => {
  for (const back of [1, 20, 48, 49, 96]) {
    for (const bit of [0x01, 0x80]) assertRejected(verify(flip(BYTES, BYTES.length - back, bit)), 'EvidenceSignatureInvalid', { path: 'signature' }, `byte -${back}`);
  }
});

test('payload fields: a bit flipped in each signed value → EvidenceSignatureInvalid (structure still valid)', () => {
  const { payload } = parts();
  const values: Array<[string, Uint8Array]> = [
    ['module_id', new TextEncoder().encode(payload.get('module_id') as string)],
    ['public_key', payload.get('public_key') as Uint8Array],
    ['user_data', payload.get('user_data') as Uint8Array],
    ['nonce', payload.get('nonce') as Uint8Array],
  ];
  for (const [i, v] of payload.get('pcrs') as Map<number, Uint8Array>) values.push([`pcrs[${i}]`, v]);
  for (const [name, value] of values) {
    const at = indexOf(BYTES, value);
    assert.ok(at > 0, name);
    for (const offset of [0, value.length - 1]) {
      assertRejected(verify(flip(BYTES, at + offset)), 'EvidenceSignatureInvalid', { path: 'signature' }, `${name}+${offset}`);
    }
  }
  // timestamp: the 8-byte uint64 after its key
  const ts = indexOf(BYTES, new TextEncoder().encode('timestamp')) + 'timestamp'.length + 1;
  for (const offset of [3, 7]) assertRejected(verify(flip(BYTES, ts + offset)), 'EvidenceSignatureInvalid', {}, `timestamp+${offset}`);
  // digest text: still a string, no longer SHA384 → structure
  const dg = indexOf(BYTES, new TextEncoder().encode('SHA384'));
  assertRejected(verify(flip(BYTES, dg + 5)), 'InvalidEvidence', { path: 'digest' });
  // a key name: unknown field
  const key = indexOf(BYTES, new TextEncoder().encode('user_data'));
  assertRejected(verify(flip(BYTES, key)), 'InvalidEvidence', { path: 'tser_data' });
});

test('payload fields: re-encoded with other values of the right shape → EvidenceSignatureInvalid', () => {
  const edits: Array<[string, (p: Map<string, unknown>) => void]> = [
    ['module_id', (p) => p.set('module_id', 'i-00000000000000000-enc0000000000000000')],
    ['timestamp', (p) => p.set('timestamp', (p.get('timestamp') as bigint) + 1n)],
    ['pcrs[15] dropped', (p) => (p.get('pcrs') as Map<number, unknown>).delete(15)],
    ['public_key null', (p) => p.set('public_key', null)],
    ['public_key absent', (p) => p.delete('public_key')],
    ['user_data empty', (p) => p.set('user_data', new Uint8Array(0))],
    ['nonce replaced', (p) => p.set('nonce', new Uint8Array(12))],
    ['field order', (p) => { const n = p.get('nonce'); p.delete('nonce'); p.set('nonce', n); p.delete('module_id'); p.set('module_id', 'x'); }],
  ];
  for (const [name, edit] of edits) assertRejected(verify(withPayload(edit)), 'EvidenceSignatureInvalid', {}, name);
});

test('payload structure: each field mistyped, missing or out of bounds → InvalidEvidence naming it', () => {
  const cases: Array<[string, (p: Map<string, unknown>) => void]> = [
    ['module_id', (p) => p.delete('module_id')],
    ['module_id', (p) => p.set('module_id', '')],
    ['module_id', (p) => p.set('module_id', 7)],
    ['digest', (p) => p.set('digest', 'SHA256')],
    ['digest', (p) => p.delete('digest')],
    ['timestamp', (p) => p.delete('timestamp')],
    ['timestamp', (p) => p.set('timestamp', 0)],
    ['timestamp', (p) => p.set('timestamp', -5)],
    ['timestamp', (p) => p.set('timestamp', 1.5)],
    ['timestamp', (p) => p.set('timestamp', Number(p.get('timestamp')))], // a float64 standing in for the uint64
    ['timestamp', (p) => p.set('timestamp', '2022-09-15T17:43:28.848Z')],
    ['pcrs', (p) => p.delete('pcrs')],
    ['pcrs', (p) => p.set('pcrs', new Map())],
    ['pcrs', (p) => p.set('pcrs', [new Uint8Array(48)])],
    ['pcrs', (p) => (p.get('pcrs') as Map<number, unknown>).set(32, new Uint8Array(48))],
    ['pcrs', (p) => (p.get('pcrs') as Map<unknown, unknown>).set('16', new Uint8Array(48))],
    ['pcrs[3]', (p) => (p.get('pcrs') as Map<number, unknown>).set(3, new Uint8Array(47))],
    ['pcrs[3]', (p) => (p.get('pcrs') as Map<number, unknown>).set(3, new Uint8Array(64))],
    ['pcrs[3]', (p) => (p.get('pcrs') as Map<number, unknown>).set(3, 'ab'.repeat(48))],
    ['pcrs[0]', (p) => (p.get('pcrs') as Map<number, unknown>).delete(0)],
    ['certificate', (p) => p.delete('certificate')],
    ['certificate', (p) => p.set('certificate', new Uint8Array(0))],
    ['certificate', (p) => p.set('certificate', new Uint8Array(1025))],
    ['certificate', (p) => p.set('certificate', 'MIIC...')],
    ['cabundle', (p) => p.delete('cabundle')],
    ['cabundle', (p) => p.set('cabundle', [])],
    ['cabundle', (p) => p.set('cabundle', new Uint8Array(10))],
    ['cabundle', (p) => p.set('cabundle', Array(9).fill(new Uint8Array(10)))],
    ['cabundle[2]', (p) => (p.get('cabundle') as unknown[])[2] = null],
    ['public_key', (p) => p.set('public_key', 'key')],
    ['public_key', (p) => p.set('public_key', undefined)],
    ['user_data', (p) => p.set('user_data', new Uint8Array(1025))],
    ['nonce', (p) => p.set('nonce', [1, 2])],
    ['extra', (p) => p.set('extra', null)],
  ];
  for (const [path, edit] of cases) assertRejected(verify(withPayload(edit)), 'InvalidEvidence', { path }, `${path}: ${edit}`);
  // 1024 bytes of user_data is still within bounds (structure passes, the signature does not)
  assertRejected(verify(withPayload((p) => p.set('user_data', new Uint8Array(1024)))), 'EvidenceSignatureInvalid');
});

test('payload CBOR: not a map, duplicate keys, non-shortest encodings → InvalidEvidence', () => {
  const { cose } = parts();
  const payload = cose[2] as Uint8Array;
  const rebuild = (p: Uint8Array) => encodeCbor([cose[0], cose[1], p, cose[3]]);
  assertRejected(verify(rebuild(encodeCbor(['module_id']))), 'InvalidEvidence', { path: 'payload' });
  assertRejected(verify(rebuild(new Uint8Array([...payload, 0x00]))), 'InvalidEvidence', { path: 'payload' });
  // duplicate key: a9 (9 entries) → aa (10) with "digest": "SHA384" appended again
  const dup = new Uint8Array([0xaa, ...payload.subarray(1), 0x66, ...new TextEncoder().encode('digest'), 0x66, ...new TextEncoder().encode('SHA384')]);
  assert.equal(payload[0], 0xa9);
  assertRejected(verify(rebuild(dup)), 'InvalidEvidence', { path: 'payload' });
  // the map header as a one-byte-length form (b8 09) instead of a9
  assertRejected(verify(rebuild(new Uint8Array([0xb8, 0x09, ...payload.subarray(1)]))), 'InvalidEvidence', { path: 'payload' });
});

/** Offsets inside each certificate: [path, chain index, offset of the DER in BYTES, DER]. */
function certificates(): Array<[string, number, number, Uint8Array]> {
  const { payload } = parts();
  const ders = [...(payload.get('cabundle') as Uint8Array[]), payload.get('certificate') as Uint8Array];
  return ders.map((der, i) => [i === ders.length - 1 ? 'certificate' : `cabundle[${i}]`, i, indexOf(BYTES, der), new Uint8Array(der)]);
}

test('certificates: a bit flipped in the signature, serial or subject → UntrustedRoot (root) or CertificateChainInvalid at that index', () => {
  for (const [path, index, at, der] of certificates()) {
    const cert = readTlv(der, 0);
    const [tbs] = children(der, cert);
    const fields = children(der, tbs!);
    const serialLast = fields[1]!.end - 1;
    const subjectLast = fields[5]!.end - 1;
    for (const [what, offset] of [['signature', der.length - 1], ['serial', serialLast], ['subject', subjectLast]] as const) {
      const v = verify(flip(BYTES, at + offset));
      if (index === 0) assertRejected(v, 'UntrustedRoot', { index: 0, path }, `${path} ${what}`);
      else assertRejected(v, 'CertificateChainInvalid', { index, path }, `${path} ${what}`);
    }
  }
});

test('certificates: a bit flipped in a public key → UntrustedRoot (root) or InvalidEvidence at that index (not a P-384 point)', () => {
  for (const [path, index, at, der] of certificates()) {
    const keyAt = indexOf(der, new Uint8Array([0x03, 0x62, 0x00, 0x04])) + 4; // BIT STRING(98) { 0 unused, 04 x y }
    const v = verify(flip(BYTES, at + keyAt + 95));
    if (index === 0) assertRejected(v, 'UntrustedRoot', { index: 0 }, path);
    else assertRejected(v, 'InvalidEvidence', { index, path }, path);
  }
});

test('certificates: unparseable DER, or a certificate moved to another position → typed errors at that index', () => {
  assertRejected(verify(withPayload((p) => (p.get('cabundle') as Uint8Array[])[2] = new Uint8Array([0x30, 0x00]))), 'InvalidEvidence', { index: 2, path: 'cabundle[2]' });
  assertRejected(verify(withPayload((p) => p.set('certificate', new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])))), 'InvalidEvidence', { index: 4, path: 'certificate' });
  const trailing = (c: Uint8Array) => new Uint8Array([...c, 0x00]);
  assertRejected(verify(withPayload((p) => { const b = p.get('cabundle') as Uint8Array[]; b[1] = trailing(b[1]!); })), 'InvalidEvidence', { index: 1 });
  // swap two intermediates: the zonal cert is not issued by the root
  assertRejected(verify(withPayload((p) => { const b = p.get('cabundle') as Uint8Array[]; [b[1], b[2]] = [b[2]!, b[1]!]; })), 'CertificateChainInvalid', { index: 1 });
  // drop the instance CA: the leaf's issuer is missing
  assertRejected(verify(withPayload((p) => (p.get('cabundle') as Uint8Array[]).pop())), 'CertificateChainInvalid', { index: 3, path: 'certificate' });
  // the root alone, leaf unchanged
  assertRejected(verify(withPayload((p) => p.set('cabundle', (p.get('cabundle') as Uint8Array[]).slice(0, 1)))), 'CertificateChainInvalid', { index: 1 });
  // the root is not first
  assertRejected(verify(withPayload((p) => (p.get('cabundle') as Uint8Array[]).reverse())), 'UntrustedRoot');
});

test('COSE envelope shapes → InvalidEvidence naming the part', () => {
  const shapes: Array<[string, (c: unknown[]) => unknown]> = [
    ['structure', (c) => c.slice(0, 3)],
    ['structure', (c) => [...c, null]],
    ['structure', (c) => new Map(c.map((v, i) => [i, v]))],
    ['structure', () => 'COSE'],
    ['protected', (c) => [new Map([[1, -35]]), c[1], c[2], c[3]]],
    ['protected', (c) => [encodeCbor(new Map([[1, -7]])), c[1], c[2], c[3]]],
    ['protected', (c) => [encodeCbor(new Map<number, unknown>([[1, -35], [4, new Uint8Array(4)]])), c[1], c[2], c[3]]],
    ['protected', (c) => [new Uint8Array(0), c[1], c[2], c[3]]],
    ['unprotected', (c) => [c[0], new Map([[4, new Uint8Array(4)]]), c[2], c[3]]],
    ['unprotected', (c) => [c[0], null, c[2], c[3]]],
    ['payload', (c) => [c[0], c[1], null, c[3]]],
    ['payload', (c) => [c[0], c[1], new Uint8Array(0), c[3]]],
    ['payload', (c) => [c[0], c[1], 'payload', c[3]]],
    ['signature', (c) => [c[0], c[1], c[2], (c[3] as Uint8Array).subarray(0, 95)]],
    ['signature', (c) => [c[0], c[1], c[2], new Uint8Array([...(c[3] as Uint8Array), 0])]],
    ['signature', (c) => [c[0], c[1], c[2], null]],
    ['tag', (c) => new Tag(c, 98)],
  ];
  for (const [path, edit] of shapes) assertRejected(verify(withCose(edit)), 'InvalidEvidence', { path }, `${path}: ${edit}`);
  // the alg label flipped in place: { 1: -36 }
  assert.deepEqual([...BYTES.subarray(0, 6)], [0x84, 0x44, 0xa1, 0x01, 0x38, 0x22]);
  assertRejected(verify(flip(BYTES, 5)), 'InvalidEvidence', { path: 'protected' });
});

test('garbage, truncation, trailing bytes, non-canonical CBOR, size limit → InvalidEvidence', () => {
  assertRejected(verify(new Uint8Array(0)), 'InvalidEvidence');
  assertRejected(verify(new TextEncoder().encode('hello, attestation')), 'InvalidEvidence');
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let n = 0; n < 50; n++) assertRejected(verify(Uint8Array.from({ length: 1 + n * 97 }, rnd)), 'InvalidEvidence', {}, `garbage ${n}`);
  for (let len = 0; len < BYTES.length; len++) assertRejected(verify(BYTES.subarray(0, len)), 'InvalidEvidence', {}, `prefix ${len}`);
  assertRejected(verify(new Uint8Array([...BYTES, 0x00])), 'InvalidEvidence', { path: 'COSE_Sign1' });
  // indefinite-length outer array
  assertRejected(verify(new Uint8Array([0x9f, ...BYTES.subarray(1), 0xff])), 'InvalidEvidence', { path: 'COSE_Sign1' });
  // the payload length written in a longer form than needed (5a 00 00 xx xx instead of 59 xx xx)
  assert.equal(BYTES[6], 0xa0);
  assert.equal(BYTES[7], 0x59);
  assertRejected(verify(new Uint8Array([...BYTES.subarray(0, 7), 0x5a, 0x00, 0x00, ...BYTES.subarray(8)])), 'InvalidEvidence', { path: 'COSE_Sign1' });
  assertRejected(verify(BYTES, { maxBytes: BYTES.length - 1 }), 'InvalidEvidence');
  assertOk(verify(BYTES, { maxBytes: BYTES.length }));
  assertRejected(verify(new Uint8Array(16 * 1024 + 1)), 'InvalidEvidence');
  assertRejected(verify('not bytes' as unknown as Uint8Array), 'InvalidEvidence');
});

test('after many failures the decoder still verifies a good document (no state left behind)', () => {
  for (let i = 0; i < 20; i++) verify(BYTES.subarray(0, 100 + i));
  assertOk(verify(BYTES));
});
