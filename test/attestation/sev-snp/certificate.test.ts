/** The AMD certificate parser: every fixture certificate, and the AMD extension encodings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../../src/attestation/bytes.ts';
import { parseSnpCertificate } from '../../../src/attestation/sev-snp/profile.ts';
import { decodeAmdExtension, type AmdExtensions } from '../../../src/attestation/sev-snp/amd-extensions.ts';
import { OID_AMD } from '../../../src/attestation/sev-snp/amd-extensions.ts';
import { parseSnpReport } from '../../../src/attestation/sev-snp/index.ts';
import { EncumberError } from '../../../src/errors.ts';
import { SNP_CASES, snpCerts, snpReport, snpRoot } from './helpers.ts';

const at = { index: 2, path: 'certs.vcek' };
const hex = (h: string) => Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16));

test('the AMD CA certificates of all three product lines: RSA-4096 CAs with the expected names', () => {
  for (const product of ['Milan', 'Genoa', 'Turin']) {
    for (const [which, cn] of [['ark', `ARK-${product}`], ['ask', `SEV-${product}`], ['asvk', `SEV-VLEK-${product}`]] as const) {
      const c = parseSnpCertificate(snpRoot(product, which), { index: 0, path: which });
      assert.equal(c.subjectCn, cn);
      assert.equal(c.issuerCn, `ARK-${product}`);
      assert.equal(c.key.type, 'rsa');
      assert.equal(c.ca, true);
      assert.equal(c.signature.length, 512);
      assert.deepEqual(c.unknownCritical, []);
      if (which !== 'ark') assert.equal(c.pathLen, 0);
    }
  }
});

test('every VCEK/VLEK: P-384 key, product name, TCB extensions equal to its report\'s reported_tcb, hwID (VCEK) or cspId (VLEK)', () => {
  for (const c of SNP_CASES.filter((x) => !x.name.startsWith('neg-'))) {
    const der = snpCerts(c.name)[c.keyType]!;
    const cert = parseSnpCertificate(der, at);
    const report = parseSnpReport(snpReport(c.name));
    assert.equal(cert.subjectCn, `SEV-${c.keyType.toUpperCase()}`, c.name);
    assert.equal(cert.key.type, 'p384', c.name);
    assert.equal(cert.amd.productName?.split('-')[0], c.product, c.name);
    assert.deepEqual(cert.amd.tcb, { bootloader: report.reportedTcb[0], tee: report.reportedTcb[1], snp: report.reportedTcb[6], microcode: report.reportedTcb[7] }, c.name);
    if (c.keyType === 'vcek') assert.equal(toHex(cert.amd.hwId!), toHex(report.chipId), c.name);
    else assert.equal(cert.amd.cspId, 'CN=cc-us-east-2.amazonaws.com', c.name);
  }
});

test('AMD extensions: SPL INTEGERs 0..255 in minimal DER; hwID raw or wrapped in an OCTET STRING; IA5 names', () => {
  const ext = (oid: string, value: string): AmdExtensions => {
    const into: AmdExtensions = { tcb: {} };
    decodeAmdExtension(oid, hex(value), into);
    return into;
  };
  assert.equal(ext(OID_AMD.ucodeSpl, '020173').tcb.microcode, 115);
  assert.equal(ext(OID_AMD.ucodeSpl, '020200d9').tcb.microcode, 217);
  assert.equal(ext(OID_AMD.fmcSpl, '020101').tcb.fmc, 1);
  for (const bad of ['020180', '02020001', '0203000100', '0400', '02017301', '']) {
    assert.throws(() => ext(OID_AMD.snpSpl, bad), Error, bad);
  }
  const id = 'ab'.repeat(64);
  assert.equal(toHex(ext(OID_AMD.hwId, id).hwId!), id);
  assert.equal(toHex(ext(OID_AMD.hwId, `0440${id}`).hwId!), id);
  assert.equal(toHex(ext(OID_AMD.hwId, '0408' + 'cd'.repeat(8)).hwId!), 'cd'.repeat(8));
  for (const bad of ['ab'.repeat(63), `0441${id}00`, `0540${id}`]) assert.throws(() => ext(OID_AMD.hwId, bad), Error, bad);
  assert.equal(ext(OID_AMD.productName, '16084d696c616e2d4230').productName, 'Milan-B0');
  assert.throws(() => ext(OID_AMD.productName, '0c054d696c616e')); // UTF8String, not IA5String
  assert.deepEqual(ext('1.3.6.1.4.1.3704.1.3.4', '020100'), { tcb: {} }, 'reserved SPLs are ignored');
});

test('malformed certificates are InvalidEvidence naming the slot and position', () => {
  const der = snpCerts('milan-v2-vcek-virtee').vcek!;
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['truncated', der.slice(0, der.length - 1)],
    ['trailing byte', Uint8Array.from([...der, 0])],
    ['not DER', new TextEncoder().encode('-----BEGIN CERTIFICATE-----')],
  ];
  for (const [label, bytes] of cases) {
    assert.throws(
      () => parseSnpCertificate(bytes, at),
      (e: unknown) => e instanceof EncumberError && e.code === 'InvalidEvidence' && e.index === 2 && e.path === 'certs.vcek',
      label,
    );
  }
});
