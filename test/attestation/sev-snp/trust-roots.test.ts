/** The ARK pins embedded in src agree with attestation/trust-roots.json and with the AMD roots in the shared fixtures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { REPO_ROOT } from '../../support/fixtures.ts';
import { SNP_ARK_SHA256, SNP_ROOT_PINS } from '../../../src/attestation/sev-snp/index.ts';
import { SNP_CASES, snpCerts, snpRoot } from './helpers.ts';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const json = JSON.parse(readFileSync(join(REPO_ROOT, 'attestation', 'trust-roots.json'), 'utf8'));

test('attestation/trust-roots.json "sev-snp" lists exactly the embedded ARK pins', () => {
  const entries = json['sev-snp'] as Array<{ product: string; sha256OfDer: string; validity: [string, string]; intermediatesNotPinned: { ask: string; asvk: string } }>;
  assert.deepEqual(entries.map((e) => e.sha256OfDer), [...SNP_ARK_SHA256]);
  for (const pin of SNP_ROOT_PINS) {
    const e = entries.find((x) => x.product === pin.product)!;
    assert.deepEqual(e.validity, [...pin.validity]);
    assert.deepEqual(e.intermediatesNotPinned, { ask: pin.askSha256, asvk: pin.asvkSha256 });
  }
  assert.deepEqual(json.dev, [], 'no dev root is trusted by default');
});

test('each pin is the SHA-256 of ../shared/fixtures/sev-snp/roots/<product>/ark.der (and ASK, ASVK), with the ARK validity', async () => {
  const { AsnConvert } = await import('@peculiar/asn1-schema');
  const { Certificate } = await import('@peculiar/asn1-x509');
  for (const pin of SNP_ROOT_PINS) {
    const ark = snpRoot(pin.product, 'ark');
    assert.equal(sha256(ark), pin.arkSha256, pin.product);
    assert.equal(sha256(snpRoot(pin.product, 'ask')), pin.askSha256, pin.product);
    assert.equal(sha256(snpRoot(pin.product, 'asvk')), pin.asvkSha256, pin.product);
    const v = AsnConvert.parse(ark, Certificate).tbsCertificate.validity;
    assert.deepEqual([v.notBefore.getTime().toISOString(), v.notAfter.getTime().toISOString()], pin.validity.map((t) => new Date(t).toISOString()));
  }
  assert.deepEqual(readdirSync(join(REPO_ROOT, '..', 'shared', 'fixtures', 'sev-snp', 'roots')).sort(), ['genoa', 'milan', 'turin']);
});

test('every case ships its product line\'s pinned ARK, byte for byte', () => {
  for (const c of SNP_CASES) {
    const certs = snpCerts(c.name);
    assert.deepEqual(certs.ark, snpRoot(c.product, 'ark'), c.name);
  }
});

test('src/attestation/sev-snp is browser-safe: no node: imports, no Buffer', () => {
  const dir = join(REPO_ROOT, 'src', 'attestation', 'sev-snp');
  for (const f of readdirSync(dir)) {
    const text = readFileSync(join(dir, f), 'utf8');
    assert.doesNotMatch(text, /from 'node:|require\(|\bBuffer\b/, f);
  }
});
