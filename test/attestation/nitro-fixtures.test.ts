/**
 * Every real AWS document in ../shared/fixtures/nitro verifies against the
 * pinned AWS root at its own timestamp, and is refused where PROVENANCE.md
 * says it must be: debug mode, after its leaf certificate expired, another root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  AWS_NITRO_ROOT_G1_DER,
  AWS_NITRO_ROOT_G1_PEM,
  AWS_NITRO_ROOT_G1_SHA256,
  parseAttestationDocument,
  parseCoseSign1,
  sigStructure,
  verifyNitroDocument,
} from '../../src/attestation/nitro/index.ts';
import { pemCertificates } from '../../src/attestation/bytes.ts';
import { EncumberError } from '../../src/errors.ts';
import { AWS_FIXTURES, AWS_ROOT_PEM, CUSTOM_NONAWS, assertOk, assertRejected, nitroBytes } from './helpers.ts';

const at = (iso: string, deltaMs = 0) => new Date(new Date(iso).getTime() + deltaMs);
const hex = (b: Uint8Array | null) => (b === null ? null : bytesToHex(b));
const RULES = [
  'size', 'cose-structure', 'document-structure', 'trusted-root', 'certificates', 'chain-signatures', 'chain-constraints',
  'cose-signature', 'validity', 'debug-mode', 'pcrs', 'nonce', 'public-key', 'user-data', 'freshness',
];

test('the embedded AWS root is the fixture root and matches the published pin', () => {
  const [fromFixture] = pemCertificates(AWS_ROOT_PEM);
  assert.deepEqual(AWS_NITRO_ROOT_G1_DER, fromFixture);
  assert.equal(bytesToHex(sha256(AWS_NITRO_ROOT_G1_DER)), AWS_NITRO_ROOT_G1_SHA256);
  assert.equal(AWS_NITRO_ROOT_G1_SHA256, '641A0321A3E244EFE456463195D606317ED7CDCC3C1756E09893F3C68F79BB5B'.toLowerCase());
  assert.deepEqual(pemCertificates(AWS_NITRO_ROOT_G1_PEM), [fromFixture]);
});

for (const fx of AWS_FIXTURES) {
  test(`${fx.file}: valid at its own timestamp, fields as PROVENANCE.md lists`, () => {
    const v = verifyNitroDocument(nitroBytes(fx.file), { trustRoots: AWS_ROOT_PEM, at: at(fx.timestamp), allowDebug: fx.debug });
    assertOk(v, fx.file);
    assert.equal(v.platform, 'nitro');
    assert.equal(v.moduleId, fx.moduleId);
    assert.equal(new Date(v.timestamp).toISOString(), fx.timestamp);
    assert.equal(v.digest, 'SHA384');
    assert.deepEqual(Object.keys(v.pcrs).map(Number), [...Array(16).keys()]);
    for (const value of Object.values(v.pcrs)) assert.equal(value.length, 48);
    assert.equal(v.debug, fx.debug);
    assert.deepEqual([v.publicKey, v.userData, v.nonce].map((b) => (b === null ? null : b.length)), fx.sizes);
    assert.deepEqual(v.root, { index: 0, sha256: AWS_NITRO_ROOT_G1_SHA256 });
    assert.deepEqual([new Date(v.leaf.notBefore), new Date(v.leaf.notAfter)], fx.window.map((s) => new Date(s)));
    // PROVENANCE.md: in every AWS document the chain's common window is exactly the leaf's.
    assert.deepEqual(v.validity, { notBefore: v.leaf.notBefore, notAfter: v.leaf.notAfter });
    assert.deepEqual(v.checks.map((c) => c.name), RULES);
    assert.ok(v.checks.every((c) => c.ok));
  });

  test(`${fx.file}: ${fx.debug ? 'refused as DebugEnclave by default' : 'accepted without allowDebug'}`, () => {
    const v = verifyNitroDocument(nitroBytes(fx.file), { trustRoots: AWS_ROOT_PEM, at: at(fx.timestamp) });
    if (fx.debug) assertRejected(v, 'DebugEnclave', { path: 'pcrs[0]' }, fx.file);
    else assertOk(v, fx.file);
  });

  test(`${fx.file}: valid through the leaf's notAfter, CertificateExpired 1 s later and 1 s before notBefore`, () => {
    const opts = { trustRoots: AWS_ROOT_PEM, allowDebug: true };
    const bytes = nitroBytes(fx.file);
    assertOk(verifyNitroDocument(bytes, { ...opts, at: at(fx.window[1]) }), fx.file);
    assertOk(verifyNitroDocument(bytes, { ...opts, at: at(fx.window[0]) }), fx.file);
    const late = assertRejected(verifyNitroDocument(bytes, { ...opts, at: at(fx.window[1], 1000) }), 'CertificateExpired', { index: 4, path: 'certificate' }, fx.file);
    assert.deepEqual(late.expected, { notBefore: new Date(fx.window[0]).toISOString(), notAfter: new Date(fx.window[1]).toISOString() });
    assert.equal(late.actual, at(fx.window[1], 1000).toISOString());
    assertRejected(verifyNitroDocument(bytes, { ...opts, at: at(fx.window[0], -1000) }), 'CertificateExpired', { index: 4 }, fx.file);
    // and "now" (years later) is refused the same way: these documents are only verifiable inside their window
    assertRejected(verifyNitroDocument(bytes, { ...opts, at: new Date('2030-01-01T00:00:00Z') }), 'CertificateExpired', {}, fx.file);
  });

  test(`${fx.file}: an independent check (node:crypto / OpenSSL) agrees on the chain and the COSE signature`, () => {
    const cose = parseCoseSign1(nitroBytes(fx.file));
    const doc = parseAttestationDocument(cose.payload);
    const certs = [...doc.cabundle, doc.certificate].map((d) => new X509Certificate(d));
    for (let i = 1; i < certs.length; i++) {
      assert.ok(certs[i]!.checkIssued(certs[i - 1]!), `cert ${i} issued by ${i - 1}`);
      assert.ok(certs[i]!.verify(certs[i - 1]!.publicKey), `cert ${i} signed by ${i - 1}`);
    }
    const ok = nodeVerify('sha384', sigStructure(cose.protectedBytes, cose.payload), { key: createPublicKey(certs[4]!.publicKey.export({ format: 'pem', type: 'spki' })), dsaEncoding: 'ieee-p1363' }, cose.signature);
    assert.ok(ok);
  });
}

test('optional fields carry what PROVENANCE.md says (public_key is not always a DER key)', () => {
  const fx = AWS_FIXTURES[0]!;
  const v = verifyNitroDocument(nitroBytes(fx.file), { trustRoots: AWS_ROOT_PEM, at: at(fx.timestamp), allowDebug: true });
  assertOk(v);
  assert.equal(new TextDecoder().decode(v.publicKey!), 'my super secret key');
  assert.equal(new TextDecoder().decode(v.userData!), 'hello, world!');
  const cape = AWS_FIXTURES.find((f) => f.file.startsWith('cape-spec'))!;
  const c = verifyNitroDocument(nitroBytes(cape.file), { trustRoots: AWS_ROOT_PEM, at: at(cape.timestamp) });
  assertOk(c);
  assert.ok(JSON.parse(new TextDecoder().decode(c.userData!)).func_checksum !== undefined);
});

test('marlin-custom-nonaws: UntrustedRoot with the AWS root; verifies only when its own root is pinned explicitly', () => {
  const bytes = nitroBytes(CUSTOM_NONAWS.file);
  const when = at(CUSTOM_NONAWS.timestamp);
  const e = assertRejected(verifyNitroDocument(bytes, { trustRoots: AWS_ROOT_PEM, at: when, allowDebug: true }), 'UntrustedRoot', { index: 0, path: 'cabundle[0]' });
  assert.equal(e.actual, CUSTOM_NONAWS.rootSha256);
  assert.deepEqual(e.expected, [AWS_NITRO_ROOT_G1_SHA256]);
  // Everything else checks out (PROVENANCE.md): pin its root and it verifies (PCR0 is zero, so allowDebug).
  const doc = parseAttestationDocument(parseCoseSign1(bytes).payload);
  const own = doc.cabundle[0]!;
  const v = verifyNitroDocument(bytes, { trustRoots: [AWS_NITRO_ROOT_G1_DER, own], at: when, allowDebug: true });
  assertOk(v);
  assert.equal(v.root.index, 1);
  assert.equal(v.root.sha256, CUSTOM_NONAWS.rootSha256);
  assert.equal(v.moduleId, CUSTOM_NONAWS.moduleId);
  assert.equal(hex(v.publicKey), '12345678');
  assert.equal(hex(v.userData), 'abcdef');
  assert.equal(v.nonce, null);
  assertRejected(verifyNitroDocument(bytes, { trustRoots: [own], at: when }), 'DebugEnclave');
});

test('trust roots as DER, as PEM text, as PEM with several certificates', () => {
  const fx = AWS_FIXTURES[1]!;
  const bytes = nitroBytes(fx.file);
  assertOk(verifyNitroDocument(bytes, { trustRoots: [AWS_NITRO_ROOT_G1_DER], at: at(fx.timestamp) }));
  const customRoot = parseAttestationDocument(parseCoseSign1(nitroBytes(CUSTOM_NONAWS.file)).payload).cabundle[0]!;
  const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(customRoot).toString('base64')}\n-----END CERTIFICATE-----\n${AWS_ROOT_PEM}`;
  const v = verifyNitroDocument(bytes, { trustRoots: pem, at: at(fx.timestamp) });
  assertOk(v);
  assert.equal(v.root.index, 1);
});

test('a tag-18 COSE_Sign1 verifies like the untagged one', () => {
  const fx = AWS_FIXTURES[7]!;
  const raw = nitroBytes(fx.file);
  const tagged = new Uint8Array([0xd2, ...raw]);
  const v = verifyNitroDocument(tagged, { trustRoots: AWS_ROOT_PEM, at: at(fx.timestamp) });
  assertOk(v);
  assert.match(v.checks[1]!.detail, /tag 18/);
  assertRejected(verifyNitroDocument(new Uint8Array([0xd3, ...raw]), { trustRoots: AWS_ROOT_PEM, at: at(fx.timestamp) }), 'InvalidEvidence', { path: 'tag' });
});

test('policy: expected PCRs, nonce, public_key, user_data', () => {
  const fx = AWS_FIXTURES[1]!; // evervault-beta-nondebug: nonce 256 bytes, no public_key / user_data
  const bytes = nitroBytes(fx.file);
  const base = { trustRoots: AWS_ROOT_PEM, at: at(fx.timestamp) };
  const v = verifyNitroDocument(bytes, base);
  assertOk(v);
  const pcr0 = hex(v.pcrs[0]!)!;
  const ok = verifyNitroDocument(bytes, { ...base, expectedPcrs: { 0: pcr0, 1: v.pcrs[1]!, 2: v.pcrs[2]! }, expectedNonce: v.nonce! });
  assertOk(ok);
  assert.deepEqual(ok.checks.filter((c) => c.skipped).map((c) => c.name), ['public-key', 'user-data', 'freshness']);

  const wrong = new Uint8Array(v.pcrs[2]!);
  wrong[47]! ^= 1;
  const e = assertRejected(verifyNitroDocument(bytes, { ...base, expectedPcrs: { 0: pcr0, 2: wrong } }), 'PcrMismatch', { index: 2, path: 'pcrs[2]' });
  assert.equal(e.expected, hex(wrong));
  assert.equal(e.actual, hex(v.pcrs[2]!));
  const missing = assertRejected(verifyNitroDocument(bytes, { ...base, expectedPcrs: { 20: new Uint8Array(48) } }), 'PcrMismatch', { index: 20 });
  assert.equal(missing.actual, null);

  const nonce = new Uint8Array(v.nonce!);
  nonce[0]! ^= 0x80;
  assertRejected(verifyNitroDocument(bytes, { ...base, expectedNonce: nonce }), 'NonceMismatch', { path: 'nonce' });
  assertRejected(verifyNitroDocument(bytes, { ...base, expectedNonce: v.nonce!.subarray(1) }), 'NonceMismatch');
  const absent = assertRejected(verifyNitroDocument(bytes, { ...base, expectedPublicKey: new Uint8Array(33) }), 'PublicKeyMismatch', { path: 'public_key' });
  assert.equal(absent.actual, null);
  assertRejected(verifyNitroDocument(bytes, { ...base, expectedUserData: new Uint8Array(36) }), 'BindingMismatch', { path: 'user_data' });

  const marlin = AWS_FIXTURES[7]!; // public_key 64 bytes, nonce null
  const mb = nitroBytes(marlin.file);
  const mv = verifyNitroDocument(mb, { trustRoots: AWS_ROOT_PEM, at: at(marlin.timestamp) });
  assertOk(mv);
  assertOk(verifyNitroDocument(mb, { trustRoots: AWS_ROOT_PEM, at: at(marlin.timestamp), expectedPublicKey: mv.publicKey! }));
  assert.equal(assertRejected(verifyNitroDocument(mb, { trustRoots: AWS_ROOT_PEM, at: at(marlin.timestamp), expectedNonce: new Uint8Array(8) }), 'NonceMismatch').actual, null);
});

test('freshness: maxAgeMs relative to `at`; a document from the future is refused only when freshness is asked', () => {
  const fx = AWS_FIXTURES[7]!; // marlin-aws: timestamp 07:37:58.960, leaf from 05:57:42
  const bytes = nitroBytes(fx.file);
  const base = { trustRoots: AWS_ROOT_PEM };
  assertOk(verifyNitroDocument(bytes, { ...base, at: at(fx.timestamp, 60_000), maxAgeMs: 60_000 }));
  const old = assertRejected(verifyNitroDocument(bytes, { ...base, at: at(fx.timestamp, 60_001), maxAgeMs: 60_000 }), 'EvidenceTooOld', { path: 'timestamp' });
  assert.equal(old.actual, 60_001);
  // at = leaf notBefore, 1 h 40 min before the document: inside the window, so valid without freshness ...
  assertOk(verifyNitroDocument(bytes, { ...base, at: at(fx.window[0]) }));
  // ... but a freshness check refuses a timestamp more than a minute after `at`.
  assertOk(verifyNitroDocument(bytes, { ...base, at: at(fx.timestamp, -60_000), maxAgeMs: 0 }));
  assertRejected(verifyNitroDocument(bytes, { ...base, at: at(fx.timestamp, -60_001), maxAgeMs: 0 }), 'InvalidEvidence', { path: 'timestamp' });
});

test('bad options are a UsageError thrown at once (a caller bug, not a verdict)', () => {
  const bytes = nitroBytes(AWS_FIXTURES[1]!.file);
  const when = at(AWS_FIXTURES[1]!.timestamp);
  const usage = (f: () => unknown) => assert.throws(f, (e: unknown) => e instanceof EncumberError && e.code === 'UsageError');
  usage(() => verifyNitroDocument(bytes, { trustRoots: [], at: when }));
  usage(() => verifyNitroDocument(bytes, { trustRoots: 'not a pem', at: when }));
  usage(() => verifyNitroDocument(bytes, { trustRoots: AWS_ROOT_PEM, at: new Date('nope') }));
  usage(() => verifyNitroDocument(bytes, { trustRoots: AWS_ROOT_PEM, at: when, expectedPcrs: { 0: 'zz' } }));
  usage(() => verifyNitroDocument(bytes, { trustRoots: AWS_ROOT_PEM, at: when, expectedPcrs: { 0: new Uint8Array(32) } }));
  usage(() => verifyNitroDocument(bytes, { trustRoots: AWS_ROOT_PEM, at: when, expectedPcrs: { 40: new Uint8Array(48) } }));
  usage(() => verifyNitroDocument(bytes, { trustRoots: AWS_ROOT_PEM, at: when, maxAgeMs: -1 }));
  usage(() => verifyNitroDocument(bytes, undefined as never));
});
