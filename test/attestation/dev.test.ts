/**
 * The dev platform: a local root issues Nitro-shaped documents that verify
 * with the Nitro rules only when that root is pinned explicitly; PCRs come
 * from build digests; the root's key does not leak by accident.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { X509Certificate, createHash, createPrivateKey, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  AWS_NITRO_ROOT_G1_DER,
  DEV_ROOT_COMMON_NAME,
  DevRoot,
  createDevRoot,
  devPcrsFromDigests,
  extendPcr,
  issueDevDocument,
  parseAttestationDocument,
  parseCoseSign1,
  sigStructure,
  verifyDevDocument,
  verifyNitroDocument,
} from '../../src/attestation/index.ts';
import { EncumberError } from '../../src/errors.ts';
import { AWS_FIXTURES, AWS_ROOT_PEM, assertOk, assertRejected, nitroBytes } from './helpers.ts';

const NOW = new Date('2025-06-01T12:00:00.123Z');
const ROOT = createDevRoot({ now: new Date('2025-05-01T00:00:00Z'), validityDays: 365 });
const sha384 = (...parts: Uint8Array[]) => new Uint8Array(createHash('sha384').update(Buffer.concat(parts)).digest());
const BUNDLE = sha384(new TextEncoder().encode('bundle bytes'));
const RUNTIME = sha384(new TextEncoder().encode('node binary'));
const usage = (f: () => unknown) => assert.throws(f, (e: unknown) => e instanceof EncumberError && e.code === 'UsageError');

function issue(over: Partial<Parameters<typeof issueDevDocument>[1]> = {}, root = ROOT) {
  return issueDevDocument(root, {
    pcrs: devPcrsFromDigests({ bundleSha384: BUNDLE, runtimeSha384: RUNTIME }),
    publicKey: new Uint8Array(33).fill(2),
    userData: new Uint8Array(36).fill(3),
    nonce: new Uint8Array(16).fill(4),
    now: NOW,
    moduleId: 'encumber-dev-test',
    ...over,
  });
}

test('devPcrsFromDigests: the documented extend chain, checked with node:crypto', () => {
  const zero = new Uint8Array(48);
  const pcrs = devPcrsFromDigests({ bundleSha384: BUNDLE, runtimeSha384: RUNTIME });
  assert.deepEqual(pcrs[1], sha384(zero, RUNTIME));
  assert.deepEqual(pcrs[2], sha384(zero, BUNDLE));
  assert.deepEqual(pcrs[0], sha384(sha384(zero, RUNTIME), BUNDLE));
  assert.deepEqual(extendPcr(zero, BUNDLE), pcrs[2]);
  const bundleOnly = devPcrsFromDigests({ bundleSha384: BUNDLE });
  assert.deepEqual(bundleOnly[0], sha384(zero, BUNDLE));
  assert.deepEqual(bundleOnly[1], zero);
  assert.deepEqual(bundleOnly[2], pcrs[2]);
  // a rebuild with the same digests gives the same PCRs; one changed byte changes PCR0 and PCR2
  assert.deepEqual(devPcrsFromDigests({ bundleSha384: new Uint8Array(BUNDLE), runtimeSha384: RUNTIME }), pcrs);
  const other = new Uint8Array(BUNDLE);
  other[0]! ^= 1;
  const changed = devPcrsFromDigests({ bundleSha384: other, runtimeSha384: RUNTIME });
  assert.notDeepEqual(changed[0], pcrs[0]);
  assert.deepEqual(changed[1], pcrs[1]);
  usage(() => devPcrsFromDigests({ bundleSha384: new Uint8Array(32) }));
  usage(() => devPcrsFromDigests({ bundleSha384: BUNDLE, runtimeSha384: new Uint8Array(49) }));
});

test('createDevRoot: a self-signed P-384 CA valid from now for validityDays (node:crypto agrees)', () => {
  const root = createDevRoot({ now: NOW, validityDays: 30 });
  const x = new X509Certificate(root.certificate);
  assert.ok(x.ca);
  assert.ok(x.verify(x.publicKey), 'self-signature');
  assert.equal(x.checkIssued(x), true);
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
  assert.equal(root.notBefore, Date.parse('2025-06-01T12:00:00Z'));
  assert.equal(root.notAfter, Date.parse('2025-07-01T12:00:00Z'));
  assert.match(root.subject, new RegExp(`CN=${DEV_ROOT_COMMON_NAME.replace(/[()]/g, '\\$&')}`));
  assert.equal(root.sha256, bytesToHex(createHash('sha256').update(root.certificate).digest()));
  usage(() => createDevRoot({ now: new Date('x'), validityDays: 1 }));
  usage(() => createDevRoot({ now: NOW, validityDays: 0 }));
});

test('DevRoot: the private key does not leak through JSON, inspect or spreading; export/import round-trips', () => {
  const persisted = ROOT.exportWithPrivateKey();
  const keyBody = persisted.privateKey.split('\n').slice(1, -2).join('');
  const secretHex = bytesToHex(new Uint8Array(Buffer.from(keyBody, 'base64')).slice(-48));
  for (const shown of [JSON.stringify(ROOT), inspect(ROOT, { depth: 5, showHidden: true }), JSON.stringify({ ...ROOT }), String(ROOT)]) {
    assert.ok(!shown.includes(secretHex) && !shown.includes(keyBody.slice(40, 80)), 'secret visible');
  }
  assert.deepEqual(Object.keys(ROOT), ['certificate']);
  // OpenSSL reads the PKCS#8 key, and it is the root's key
  const priv = createPrivateKey(persisted.privateKey);
  assert.equal(createPublicKey(priv).export({ format: 'der', type: 'spki' }).toString('hex'), new X509Certificate(ROOT.certificate).publicKey.export({ format: 'der', type: 'spki' }).toString('hex'));
  const again = DevRoot.import(persisted);
  assert.deepEqual(again.certificate, ROOT.certificate);
  assertOk(verifyDevDocument(issue({}, again), { devRoot: ROOT.pem, at: NOW }));
  // a key that is not the certificate's, or garbage, is a UsageError
  const other = createDevRoot({ now: NOW, validityDays: 1 }).exportWithPrivateKey();
  usage(() => DevRoot.import({ certificate: persisted.certificate, privateKey: other.privateKey }));
  usage(() => DevRoot.import({ certificate: persisted.certificate, privateKey: 'nope' }));
  usage(() => DevRoot.import({ certificate: 'nope', privateKey: persisted.privateKey }));
});

test('a dev document verifies with its root pinned, with every field as issued', () => {
  const bytes = issue();
  const v = verifyDevDocument(bytes, {
    devRoot: ROOT.certificate,
    at: NOW,
    expectedPcrs: devPcrsFromDigests({ bundleSha384: BUNDLE, runtimeSha384: RUNTIME }),
    expectedNonce: new Uint8Array(16).fill(4),
    expectedPublicKey: new Uint8Array(33).fill(2),
    expectedUserData: new Uint8Array(36).fill(3),
    maxAgeMs: 0,
  });
  assertOk(v);
  assert.equal(v.platform, 'dev');
  assert.equal(v.moduleId, 'encumber-dev-test');
  assert.equal(v.timestamp, NOW.getTime());
  assert.equal(v.debug, false);
  assert.deepEqual(Object.keys(v.pcrs).map(Number), [...Array(16).keys()]);
  for (let i = 3; i < 16; i++) assert.deepEqual(v.pcrs[i], new Uint8Array(48));
  assert.equal(v.root.sha256, ROOT.sha256);
  assert.equal(v.leaf.notBefore, Date.parse('2025-06-01T12:00:00Z'));
  assert.equal(v.leaf.notAfter, Date.parse('2025-06-01T15:00:00Z'));
  assert.ok(v.checks.every((c) => c.ok && !c.skipped));
  // the same bytes shape as an NSM document: untagged COSE_Sign1, protected a1 01 38 22, empty unprotected
  assert.deepEqual([...bytes.subarray(0, 7)], [0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0]);
  // and absent optional fields are CBOR null, as the NSM writes them
  const bare = verifyDevDocument(issue({ publicKey: null, userData: undefined, nonce: null }), { devRoot: ROOT.pem, at: NOW });
  assertOk(bare);
  assert.deepEqual([bare.publicKey, bare.userData, bare.nonce], [null, null, null]);
});

test('an independent check (node:crypto) accepts the dev chain and COSE signature', () => {
  const cose = parseCoseSign1(issue());
  const doc = parseAttestationDocument(cose.payload);
  const root = new X509Certificate(doc.cabundle[0]!);
  const leaf = new X509Certificate(doc.certificate);
  assert.ok(leaf.checkIssued(root));
  assert.ok(leaf.verify(root.publicKey));
  assert.equal(leaf.ca, false);
  assert.ok(nodeVerify('sha384', sigStructure(cose.protectedBytes, cose.payload), { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, cose.signature));
});

test('trust is explicit: a dev document never verifies with the AWS root, nor with another dev root', () => {
  const bytes = issue();
  assertRejected(verifyNitroDocument(bytes, { trustRoots: AWS_ROOT_PEM, at: NOW }), 'UntrustedRoot', { index: 0 });
  assertRejected(verifyDevDocument(bytes, { devRoot: AWS_NITRO_ROOT_G1_DER, at: NOW }), 'UntrustedRoot');
  assertRejected(verifyDevDocument(bytes, { devRoot: createDevRoot({ now: NOW, validityDays: 1 }).certificate, at: NOW }), 'UntrustedRoot');
  // pinned next to the AWS root, it verifies — labelled by the function that was asked
  const both = verifyNitroDocument(bytes, { trustRoots: [AWS_NITRO_ROOT_G1_DER, ROOT.certificate], at: NOW });
  assertOk(both);
  assert.equal(both.platform, 'nitro');
  assert.equal(both.root.index, 1);
  // and an AWS document is not a dev document
  const fx = AWS_FIXTURES[1]!;
  assertRejected(verifyDevDocument(nitroBytes(fx.file), { devRoot: ROOT.pem, at: new Date(fx.timestamp) }), 'UntrustedRoot');
});

test('validity: the leaf lives 3 hours (never past the root); outside it CertificateExpired', () => {
  const bytes = issue();
  assertOk(verifyDevDocument(bytes, { devRoot: ROOT.pem, at: new Date('2025-06-01T15:00:00Z') }));
  assertRejected(verifyDevDocument(bytes, { devRoot: ROOT.pem, at: new Date('2025-06-01T15:00:01Z') }), 'CertificateExpired', { index: 1, path: 'certificate' });
  assertRejected(verifyDevDocument(bytes, { devRoot: ROOT.pem, at: new Date('2025-06-01T11:59:59Z') }), 'CertificateExpired', { index: 1 });
  // a root that ends in one hour caps the leaf
  const short = createDevRoot({ now: new Date('2025-06-01T11:00:00Z'), validityDays: 2 / 24 });
  const capped = verifyDevDocument(issue({}, short), { devRoot: short.certificate, at: NOW });
  assertOk(capped);
  assert.equal(capped.leaf.notAfter, short.notAfter);
  assertRejected(verifyDevDocument(issue({}, short), { devRoot: short.certificate, at: new Date(short.notAfter + 1000) }), 'CertificateExpired', { index: 0, path: 'cabundle[0]' });
});

test('issueDevDocument: bad inputs are UsageErrors', () => {
  usage(() => issue({ now: new Date('2020-01-01T00:00:00Z') }));
  usage(() => issue({ now: new Date('x') }));
  usage(() => issue({ pcrs: { 0: new Uint8Array(47) } }));
  usage(() => issue({ pcrs: { 32: new Uint8Array(48) } }));
  usage(() => issue({ userData: new Uint8Array(1025) }));
  usage(() => issue({ moduleId: '' }));
});

test('policy on dev documents: a rebuild with another bundle is a PcrMismatch on PCR0', () => {
  const other = new Uint8Array(BUNDLE);
  other[47]! ^= 0x10;
  const e = assertRejected(
    verifyDevDocument(issue(), { devRoot: ROOT.pem, at: NOW, expectedPcrs: devPcrsFromDigests({ bundleSha384: other, runtimeSha384: RUNTIME }) }),
    'PcrMismatch',
    { index: 0 },
  );
  assert.equal(e.actual, bytesToHex(devPcrsFromDigests({ bundleSha384: BUNDLE, runtimeSha384: RUNTIME })[0]));
  assertRejected(verifyDevDocument(issue(), { devRoot: ROOT.pem, at: NOW, expectedNonce: new Uint8Array(16) }), 'NonceMismatch');
});
