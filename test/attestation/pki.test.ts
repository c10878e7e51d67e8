/**
 * The one PKI module read from a profile: the verified-chain memo (what a hit
 * needs, what it skips, its bound) and the profile switches the platform tests
 * cannot reach with real certificates (a self-signed root, per-role key types,
 * CNs, signature length).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { p384 } from '@noble/curves/nist.js';
import { AttributeTypeAndValue, AttributeValue, KeyUsageFlags, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { fingerprint } from '../../src/attestation/bytes.ts';
import { buildCertificate } from '../../src/attestation/dev/x509-build.ts';
import { NITRO_PROFILE } from '../../src/attestation/nitro/profile.ts';
import { SNP_PROFILE } from '../../src/attestation/sev-snp/profile.ts';
import { parseCertificate, type ParsedCertificate } from '../../src/attestation/x509/certificate.ts';
import { validateChain } from '../../src/attestation/x509/chain.ts';
import { ChainMemo, clearChainMemo } from '../../src/attestation/x509/memo.ts';
import { RSA_PSS_SHA384, type ChainProfile } from '../../src/attestation/x509/profile.ts';
import { EncumberError } from '../../src/errors.ts';
import { T0, cert, newKey, simpleChain } from './dev-chain.ts';
import { SNP_AT, snpCerts } from './sev-snp/helpers.ts';

const certs = snpCerts('milan-v2-vcek-virtee');
const CHAIN = [certs.ark!, certs.ask!, certs.vcek!];
const pins = [fingerprint(CHAIN[0]!)];

async function rejects(p: Promise<unknown>, code: string, index?: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof EncumberError, String(e));
    assert.equal(e.code, code, e.message);
    if (index !== undefined) assert.equal(e.index, index, e.message);
    return true;
  });
}

/** SNP_PROFILE under another name, counting its signature checks. */
function counting(name: string): { profile: ChainProfile; count: () => number } {
  let n = 0;
  const alg = { ...RSA_PSS_SHA384, verify: (...a: Parameters<typeof RSA_PSS_SHA384.verify>) => (n++, RSA_PSS_SHA384.verify(...a)) };
  return { profile: { ...SNP_PROFILE, name, signatureAlgorithms: [alg] }, count: () => n };
}

test('memo: the same chain under the same profile, at a time inside its window, skips parsing and signatures', async () => {
  clearChainMemo();
  const { profile, count } = counting('counting-a');
  const first = await validateChain(CHAIN, profile, { at: SNP_AT, pins });
  assert.equal(count(), 3);
  const again = await validateChain(CHAIN, profile, { at: SNP_AT.getTime() + 1000, pins });
  assert.equal(count(), 3, 'a hit verifies nothing again');
  assert.ok(again.chain.every((c, i) => c === first.chain[i]), 'the parsed certificates come from the memo');
  // Another profile name: its own entry.
  const other = counting('counting-b');
  await validateChain(CHAIN, other.profile, { at: SNP_AT, pins });
  assert.equal(other.count(), 3);
  // A time outside the window is not a hit: the validity rule refuses it.
  await rejects(validateChain(CHAIN, profile, { at: first.validity.notAfter + 1000, pins }), 'CertificateExpired', 2);
  // Different bytes are not a hit: a flipped signature is found.
  const flipped = CHAIN.map((d, i) => (i === 2 ? Uint8Array.from(d, (b, j) => (j === d.length - 1 ? b ^ 1 : b)) : d));
  await rejects(validateChain(flipped, profile, { at: SNP_AT, pins }), 'CertificateChainInvalid', 2);
  assert.equal(count(), 9, 'the expired and the flipped chain were both checked in full');
  // The pins are checked on a hit too.
  await rejects(validateChain(CHAIN, profile, { at: SNP_AT, pins: ['00'.repeat(32)] }), 'UntrustedRoot', 0);
});

test('memo: bounded, the oldest entry out first; a miss for a chain it forgot', () => {
  const memo = new ChainMemo(2);
  const fake = (n: number) => [{ notBefore: 0, notAfter: 10 + n }] as unknown as ParsedCertificate[];
  const ders = (n: number) => [new Uint8Array([n])];
  for (const n of [1, 2, 3]) memo.set(ders(n), NITRO_PROFILE, fake(n));
  assert.equal(memo.size, 2);
  assert.equal(memo.get(ders(1), NITRO_PROFILE, 5), undefined);
  assert.ok(memo.get(ders(3), NITRO_PROFILE, 5));
  assert.equal(memo.get(ders(3), NITRO_PROFILE, 14), undefined, 'outside the window');
  assert.equal(memo.get(ders(3), SNP_PROFILE, 5), undefined, 'another profile');
  // Chains [a, b] and [ab] differ: each DER is length-prefixed in the key.
  memo.set([new Uint8Array([1]), new Uint8Array([2])], NITRO_PROFILE, fake(0));
  assert.equal(memo.get([new Uint8Array([1, 2])], NITRO_PROFILE, 5), undefined);
});

test('profile: a self-signed root (rootSelfSigned) must be self-issued and carry a valid self-signature', async () => {
  const strict: ChainProfile = { ...NITRO_PROFILE, name: 'nitro-self-signed', rootSelfSigned: true };
  const ok = simpleChain();
  await validateChain([ok.root, ok.leaf], strict, { at: T0, pins: [fingerprint(ok.root)] });
  const rootKey = newKey();
  for (const root of [cert({ name: 'test root', key: rootKey, issuerKey: newKey(), ca: {} }), cert({ name: 'test root', issuerName: 'another', key: rootKey, ca: {} })]) {
    const leafKey = newKey();
    const leaf = cert({ name: 'test leaf', issuerName: 'test root', key: leafKey, issuerKey: rootKey, ca: false });
    await rejects(validateChain([root, leaf], strict, { at: T0, pins: [fingerprint(root)] }), 'CertificateChainInvalid', 0);
    // Nitro pins its root and does not ask for more.
    await validateChain([root, leaf], NITRO_PROFILE, { at: T0, pins: [fingerprint(root)] });
  }
});

test('profile: key types per role and per certificate', async () => {
  // The ASK as a leaf: an RSA key where SNP_PROFILE wants P-384 (and a CA where a signing key belongs).
  const twoLong: ChainProfile = { ...SNP_PROFILE, name: 'sev-snp-2', minLength: 2 };
  await rejects(validateChain(CHAIN.slice(0, 2), twoLong, { at: SNP_AT, pins }), 'CertificateChainInvalid', 1);
  // A chain length outside the profile's bounds.
  await rejects(validateChain(CHAIN.slice(0, 2), SNP_PROFILE, { at: SNP_AT, pins }), 'CertificateChainInvalid');
  // An RSA-PSS certificate under the Nitro profile: refused when parsed.
  assert.throws(() => parseCertificate(CHAIN[0]!, { index: 0, path: 'x' }, NITRO_PROFILE), (e: unknown) => e instanceof EncumberError && e.code === 'InvalidEvidence');
  const onlyRsa: ChainProfile = { ...SNP_PROFILE, name: 'rsa-only', keyTypes: ['rsa'] };
  assert.throws(() => parseCertificate(CHAIN[2]!, { index: 2, path: 'x' }, onlyRsa), (e: unknown) => e instanceof EncumberError && e.code === 'InvalidEvidence' && e.index === 2);
  const p = parseCertificate(CHAIN[2]!, { index: 2, path: 'x' }, SNP_PROFILE);
  assert.equal(p.key.type, 'p384');
  assert.equal(p.subjectCn, 'SEV-VCEK');
  assert.ok(p.extensions.size > 0, 'the AMD extensions are kept raw by OID');
});

test('profile: one CN per name where the profile needs it; a fixed signature length', () => {
  const key = newKey();
  const orgOnly = new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.10', value: new AttributeValue({ utf8String: 'no cn' }) })])]);
  const der = buildCertificate({
    subject: orgOnly,
    issuer: orgOnly,
    notBefore: T0,
    notAfter: new Date(T0.getTime() + 1000),
    publicKey: key.point,
    ca: {},
    keyUsage: KeyUsageFlags.keyCertSign,
    sign: (tbs) => p384.sign(tbs, key.secret, { prehash: true, format: 'der' }),
  });
  const where = { index: 0, path: 'x' };
  assert.equal(parseCertificate(der, where, NITRO_PROFILE).subjectCn, undefined);
  const needsCn: ChainProfile = { ...NITRO_PROFILE, name: 'needs-cn', requireCommonName: true };
  assert.throws(() => parseCertificate(der, where, needsCn), (e: unknown) => e instanceof EncumberError && e.code === 'InvalidEvidence');
  assert.equal(parseCertificate(simpleChain().root, where, needsCn).subjectCn, 'test root');
  const fixedLength: ChainProfile = { ...NITRO_PROFILE, name: 'rsa-length', signatureBytes: 512 };
  assert.throws(() => parseCertificate(der, where, fixedLength), (e: unknown) => e instanceof EncumberError && e.code === 'InvalidEvidence');
});
