/**
 * Single-bit mutations of a real report and of each of its certificates.
 * Each must be refused with its rule's precise code, never an untyped throw:
 * signed report fields by the report signature, reserved bytes and the
 * signature's zero bytes by the structure rule, the ARK by the pin, the ASK
 * and VCEK by their issuer's signature (or by the parser when the DER breaks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifySnpReport, type SnpCertificates, type SnpVerifyOptions } from '../../../src/attestation/sev-snp/index.ts';
import { F, reservedRanges, rangePath } from '../../../src/attestation/sev-snp/layout.ts';
import { isAttestationError } from '../../../src/attestation/checks.ts';
import { children, readTlv } from '../../../src/attestation/x509/der.ts';
import { assertOk, assertRejected, flip, SNP_AT, snpCerts, snpReport } from './helpers.ts';

const NAME = 'milan-v3-vcek-azure'; // v3: CPUID set, ID block, non-zero host fields
const REPORT = snpReport(NAME);
const CERTS = snpCerts(NAME);
// Judged without a TCB floor and at any VMPL (tcb-floor.test.ts covers both).
const verify = (report = REPORT, certs: SnpCertificates = CERTS, o: Partial<SnpVerifyOptions> = {}) =>
  verifySnpReport(report, { certs, at: SNP_AT, minTcb: 'none', expectedVmpl: 'any', ...o });

/** The last byte of a certificate's tbsCertificate (inside its last extension: signed, free of structure). */
function lastTbsByte(der: Uint8Array): number {
  const [tbs] = children(der, readTlv(der, 0));
  return tbs!.end - 1;
}

test('baseline: the report verifies untouched', async () => {
  assertOk(await verify());
});

/** Where a flip lands in a v3 report, what must come back. */
function expectedFor(at: number, bit: number): { code: string; path: string } {
  // Version 3 → 2 is a known version, whose layout has no CPUID: bytes 0x188.. must then be zero.
  if (at === 0 && bit === 0x01) return { code: 'InvalidEvidence', path: 'reserved[0x188..0x1a0)' };
  for (const range of reservedRanges(3)) if (at >= range[0] && at < range[1]) return { code: 'InvalidEvidence', path: rangePath(range) };
  if (at >= F.signatureR[0] + 48 && at < F.signatureR[1]) return { code: 'InvalidEvidence', path: 'signature.r' };
  if (at >= F.signatureS[0] + 48 && at < F.signatureS[1]) return { code: 'InvalidEvidence', path: 'signature.s' };
  if (at < 4) return { code: 'InvalidEvidence', path: 'version' };
  if (at >= 0x0c && at < 0x10) return { code: 'InvalidEvidence', path: 'policy' }; // policy bits 32..63: reserved
  if (at > 0x48 && at < 0x4c) return { code: 'InvalidEvidence', path: 'signer_info' }; // signer info bits 8..31: reserved
  if (at >= F.signatureAlgo[0] && at < F.signatureAlgo[1]) return { code: 'InvalidEvidence', path: 'signature_algo' };
  return { code: 'EvidenceSignatureInvalid', path: 'signature' };
}

test('each named field: a bit flipped in its first and last byte gives the precise code', async () => {
  for (const [name, [a, b]] of Object.entries(F)) {
    for (const [at, bit] of [[a, 0x01], [b - 1, 0x80]] as const) {
      const want = expectedFor(at, bit);
      assertRejected(await verify(flip(REPORT, at, bit)), want.code, { path: want.path }, `${name} byte 0x${at.toString(16)}`);
    }
  }
});

test('signing_key flipped from VCEK to VLEK: the report now needs an ASVK (CertificateChainInvalid at the ASK)', async () => {
  assertRejected(await verify(flip(REPORT, 0x48, 0x04)), 'CertificateChainInvalid', { index: 1, path: 'certs.ask' });
});

test('every bit 0 of every report byte is refused, with the code its region calls for', async () => {
  const verdicts = await Promise.all(Array.from(REPORT, (_, at) => verify(flip(REPORT, at, 0x01)).then((v) => [at, v] as const)));
  for (const [at, v] of verdicts) {
    assert.ok(!v.ok, `byte 0x${at.toString(16)} accepted`);
    assert.ok(isAttestationError(v.error), `byte 0x${at.toString(16)}: untyped`);
    const want = expectedFor(at, 0x01);
    assert.equal(v.error.code, want.code, `byte 0x${at.toString(16)}: ${v.error.message}`);
    assert.equal(v.error.path, want.path, `byte 0x${at.toString(16)}`);
  }
});

test('the ARK: any bit flipped → UntrustedRoot (index 0)', async () => {
  const ark = CERTS.ark!;
  for (let at = 0; at < ark.length; at += 97) {
    assertRejected(await verify(REPORT, { ...CERTS, ark: flip(ark, at) }), 'UntrustedRoot', { index: 0, path: 'certs.ark' }, `ark byte ${at}`);
  }
  assertRejected(await verify(REPORT, { ...CERTS, ark: flip(ark, ark.length - 1, 0x80) }), 'UntrustedRoot', { index: 0 });
});

for (const [slot, index] of [['ask', 1], ['vcek', 2]] as const) {
  test(`the ${slot.toUpperCase()}: a flip in its signed body or its signature → CertificateChainInvalid (index ${index})`, async () => {
    const der = CERTS[slot]!;
    assertRejected(await verify(REPORT, { ...CERTS, [slot]: flip(der, lastTbsByte(der)) }), 'CertificateChainInvalid', { index, path: `certs.${slot}` }, 'tbs');
    for (const back of [1, 100, 511]) {
      assertRejected(await verify(REPORT, { ...CERTS, [slot]: flip(der, der.length - back) }), 'CertificateChainInvalid', { index, path: `certs.${slot}` }, `signature -${back}`);
    }
  });

  test(`the ${slot.toUpperCase()}: every fifth byte flipped is refused at that certificate (InvalidEvidence or CertificateChainInvalid)`, async () => {
    const der = CERTS[slot]!;
    const seen = new Map<string, number>();
    for (let at = 0; at < der.length; at += 5) {
      const v = await verify(REPORT, { ...CERTS, [slot]: flip(der, at, 1 << at % 8) });
      assert.ok(!v.ok, `${slot} byte ${at} accepted`);
      assert.ok(['InvalidEvidence', 'CertificateChainInvalid'].includes(v.error.code), `${slot} byte ${at}: ${v.error.code} ${v.error.message}`);
      assert.equal(v.error.index, index, `${slot} byte ${at}: ${v.error.message}`);
      seen.set(v.error.code, (seen.get(v.error.code) ?? 0) + 1);
    }
    assert.ok(seen.get('InvalidEvidence')! > 0 && seen.get('CertificateChainInvalid')! > 0, JSON.stringify([...seen]));
  });
}

test('certificates from the wrong place in the chain', async () => {
  const milan = CERTS;
  const genoa = snpCerts('genoa-v3-vcek-azure');
  const vlek = snpCerts('milan-v3-vlek-aws-coco');
  const cases: Array<[string, SnpCertificates, string, number, string]> = [
    ['the ASVK where the ASK belongs', { ark: milan.ark, asvk: vlek.asvk, vcek: milan.vcek }, 'CertificateChainInvalid', 1, 'certs.asvk'],
    ['a VLEK where the VCEK belongs', { ark: milan.ark, ask: milan.ask, vlek: vlek.vlek }, 'CertificateChainInvalid', 2, 'certs.vlek'],
    ['the ARK as ASK', { ark: milan.ark, ask: milan.ark, vcek: milan.vcek }, 'CertificateChainInvalid', 1, 'certs.ask'],
    ['the ASK as ARK', { ark: milan.ask, ask: milan.ask, vcek: milan.vcek }, 'UntrustedRoot', 0, 'certs.ark'],
    ['the VCEK as ASK', { ark: milan.ark, ask: milan.vcek, vcek: milan.vcek }, 'CertificateChainInvalid', 1, 'certs.ask'],
    ['the Genoa ARK above the Milan ASK', { ark: genoa.ark, ask: milan.ask, vcek: milan.vcek }, 'CertificateChainInvalid', 1, 'certs.ask'],
    ['the Genoa ARK and ASK above the Milan VCEK', { ark: genoa.ark, ask: genoa.ask, vcek: milan.vcek }, 'CertificateChainInvalid', 2, 'certs.vcek'],
    ['a Genoa VCEK under the Milan ASK', { ark: milan.ark, ask: milan.ask, vcek: genoa.vcek }, 'CertificateChainInvalid', 2, 'certs.vcek'],
    ['no ARK', { ask: milan.ask, vcek: milan.vcek }, 'InvalidEvidence', -1, 'certs.ark'],
    ['no ASK', { ark: milan.ark, vcek: milan.vcek }, 'InvalidEvidence', -1, 'certs.ask'],
    ['no VCEK', { ark: milan.ark, ask: milan.ask }, 'InvalidEvidence', -1, 'certs.vcek'],
    ['an empty VCEK', { ark: milan.ark, ask: milan.ask, vcek: new Uint8Array(0) }, 'InvalidEvidence', 2, 'certs.vcek'],
  ];
  for (const [label, certs, code, index, path] of cases) {
    assertRejected(await verify(REPORT, certs), code, index < 0 ? { path } : { index, path }, label);
  }
  // A VLEK report finds the ASK where it looks for the ASVK.
  const vlekReport = snpReport('milan-v3-vlek-aws-coco');
  const at = new Date('2025-03-01T00:00:00Z');
  assertRejected(await verify(vlekReport, { ark: vlek.ark, ask: milan.ask, vlek: vlek.vlek }, { at }), 'CertificateChainInvalid', { index: 1, path: 'certs.ask' });
  // Given everything, the report's signing_key picks the ASVK and the VLEK; the cert table's convention (ASVK under "ask") works too.
  assertOk(await verify(vlekReport, { ...milan, asvk: vlek.asvk, vlek: vlek.vlek }, { at }));
  assertOk(await verify(vlekReport, { ark: vlek.ark, ask: vlek.asvk, vlek: vlek.vlek }, { at }));
});

test('trustedArks: a caller pin list without the Milan ARK → UntrustedRoot; upper-case hex pins work', async () => {
  const genoaPin = '4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1';
  const e = assertRejected(await verify(REPORT, CERTS, { trustedArks: [genoaPin] }), 'UntrustedRoot', { index: 0 });
  assert.deepEqual(e.expected, [genoaPin]);
  assertOk(await verify(REPORT, CERTS, { trustedArks: ['69D063B45344D26A2E94E1F4210DE49EF555308287D4C174445C95639A540BCD'] }));
});
