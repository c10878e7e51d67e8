/**
 * Each chain rule broken on its own, with correctly signed certificates built
 * for the purpose (real AWS chains cannot be re-signed): CA flags, key usage,
 * path length, unknown critical extensions, names, signatures, key types.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyUsageFlags, Extension } from '@peculiar/asn1-x509';
import { OctetString } from '@peculiar/asn1-schema';
import { p256 } from '@noble/curves/nist.js';
import { verifyNitroDocument } from '../../src/attestation/nitro/index.ts';
import { T0, assemble, cert, newKey, simpleChain } from './dev-chain.ts';
import { assertOk, assertRejected } from './helpers.ts';

const verify = (bytes: Uint8Array, root: Uint8Array, at = T0) => verifyNitroDocument(bytes, { trustRoots: [root], at });

test('baseline: root → leaf and root → intermediate (pathLen 0) → leaf verify', () => {
  const { root, leaf, leafKey } = simpleChain();
  assertOk(verify(assemble({ cabundle: [root], leaf, signer: leafKey }), root));
  const rootKey = newKey();
  const midKey = newKey();
  const leafKey2 = newKey();
  const r = cert({ name: 'r', key: rootKey, ca: { pathLen: 1 } });
  const m = cert({ name: 'm', issuerName: 'r', key: midKey, issuerKey: rootKey, ca: { pathLen: 0 } });
  const l = cert({ name: 'l', issuerName: 'm', key: leafKey2, issuerKey: midKey, ca: false });
  const v = verify(assemble({ cabundle: [r, m], leaf: l, signer: leafKey2 }), r);
  assertOk(v);
  assert.equal(v.leaf.subject, 'CN=l, O=encumber dev');
});

test('a CA certificate that is not a CA, or may not sign certificates → CertificateChainInvalid at its index', () => {
  let c = simpleChain({ root: { ca: false, keyUsage: KeyUsageFlags.keyCertSign } });
  assertRejected(verify(assemble({ cabundle: [c.root], leaf: c.leaf, signer: c.leafKey }), c.root), 'CertificateChainInvalid', { index: 0, path: 'cabundle[0]' });
  c = simpleChain({ root: { keyUsage: KeyUsageFlags.digitalSignature } });
  assertRejected(verify(assemble({ cabundle: [c.root], leaf: c.leaf, signer: c.leafKey }), c.root), 'CertificateChainInvalid', { index: 0 });
});

test('a leaf that is a CA, or may not sign → CertificateChainInvalid at the leaf', () => {
  let c = simpleChain({ leaf: { ca: {}, keyUsage: KeyUsageFlags.digitalSignature } });
  assertRejected(verify(assemble({ cabundle: [c.root], leaf: c.leaf, signer: c.leafKey }), c.root), 'CertificateChainInvalid', { index: 1, path: 'certificate' });
  c = simpleChain({ leaf: { keyUsage: KeyUsageFlags.keyAgreement } });
  assertRejected(verify(assemble({ cabundle: [c.root], leaf: c.leaf, signer: c.leafKey }), c.root), 'CertificateChainInvalid', { index: 1 });
});

test('pathLenConstraint 0 followed by another CA → CertificateChainInvalid at the constrained certificate', () => {
  const rootKey = newKey();
  const aKey = newKey();
  const bKey = newKey();
  const leafKey = newKey();
  const r = cert({ name: 'r', key: rootKey, ca: {} });
  const a = cert({ name: 'a', issuerName: 'r', key: aKey, issuerKey: rootKey, ca: { pathLen: 0 } });
  const b = cert({ name: 'b', issuerName: 'a', key: bKey, issuerKey: aKey, ca: {} });
  const l = cert({ name: 'l', issuerName: 'b', key: leafKey, issuerKey: bKey, ca: false });
  const e = assertRejected(verify(assemble({ cabundle: [r, a, b], leaf: l, signer: leafKey }), r), 'CertificateChainInvalid', { index: 1, path: 'cabundle[1]' });
  assert.deepEqual([e.expected, e.actual], [0, 1]);
});

test('an unknown critical extension → CertificateChainInvalid; an unknown non-critical one is fine', () => {
  const ext = (critical: boolean) => new Extension({ extnID: '1.3.6.1.4.1.99999.1', critical, extnValue: new OctetString(new Uint8Array([5, 0]).buffer) });
  let c = simpleChain({ leaf: { extra: [ext(true)] } });
  assertRejected(verify(assemble({ cabundle: [c.root], leaf: c.leaf, signer: c.leafKey }), c.root), 'CertificateChainInvalid', { index: 1 });
  c = simpleChain({ leaf: { extra: [ext(false)] } });
  assertOk(verify(assemble({ cabundle: [c.root], leaf: c.leaf, signer: c.leafKey }), c.root));
});

test('issuer name or issuer key wrong → CertificateChainInvalid; COSE signed by another key → EvidenceSignatureInvalid', () => {
  let c = simpleChain({ leaf: { issuerName: 'someone else' } });
  assertRejected(verify(assemble({ cabundle: [c.root], leaf: c.leaf, signer: c.leafKey }), c.root), 'CertificateChainInvalid', { index: 1 });
  c = simpleChain({ leaf: { issuerKey: newKey() } });
  assertRejected(verify(assemble({ cabundle: [c.root], leaf: c.leaf, signer: c.leafKey }), c.root), 'CertificateChainInvalid', { index: 1 });
  c = simpleChain();
  assertRejected(verify(assemble({ cabundle: [c.root], leaf: c.leaf, signer: newKey() }), c.root), 'EvidenceSignatureInvalid', { path: 'signature' });
  // signed by the root's key instead of the leaf's
  assertRejected(verify(assemble({ cabundle: [c.root], leaf: c.leaf, signer: c.rootKey }), c.root), 'EvidenceSignatureInvalid');
});

test('a key that is not P-384 → InvalidEvidence at that certificate', () => {
  const rootKey = newKey();
  const secret = p256.utils.randomSecretKey();
  const p256Key = { secret, point: p256.getPublicKey(secret, false) };
  const root = cert({ name: 'r', key: rootKey, ca: {} });
  const leaf = cert({ name: 'l', issuerName: 'r', key: p256Key, issuerKey: rootKey, ca: false });
  assertRejected(verify(assemble({ cabundle: [root], leaf, signer: rootKey }), root), 'InvalidEvidence', { index: 1, path: 'certificate' });
});

test('a document timestamp outside its chain window → InvalidEvidence (timestamp), even when `at` is inside', () => {
  const c = simpleChain({ leaf: { notBefore: new Date(T0.getTime() + 1000) } });
  const bytes = assemble({ cabundle: [c.root], leaf: c.leaf, signer: c.leafKey, timestamp: T0 });
  assertRejected(verify(bytes, c.root, new Date(T0.getTime() + 5000)), 'InvalidEvidence', { path: 'timestamp' });
});

test('an intermediate not yet valid at `at` → CertificateExpired at its index, with its window', () => {
  const rootKey = newKey();
  const midKey = newKey();
  const leafKey = newKey();
  const r = cert({ name: 'r', key: rootKey, ca: {} });
  const m = cert({ name: 'm', issuerName: 'r', key: midKey, issuerKey: rootKey, ca: {}, notBefore: new Date(T0.getTime() + 1000) });
  const l = cert({ name: 'l', issuerName: 'm', key: leafKey, issuerKey: midKey, ca: false });
  const e = assertRejected(verify(assemble({ cabundle: [r, m], leaf: l, signer: leafKey }), r), 'CertificateExpired', { index: 1, path: 'cabundle[1]' });
  assert.equal(e.actual, T0.toISOString());
});
