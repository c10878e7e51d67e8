/**
 * Property: random mutations of a real report or of one of its certificates
 * never make the verifier reject (throw), always give a typed attestation
 * refusal whose last check row failed, and are never accepted.
 *
 * Why "never accepted" holds: every byte of the report is either signed
 * (0x000..0x29F), part of r and s, or required to be zero (the upper bytes of
 * r and s, 0x330..0x49F); the ARK is pinned by hash; the ASK and VCEK are
 * signed by their issuers, their outer signatureAlgorithm must equal the
 * signed inner one, and the DER framing must be minimal. The one theoretical
 * escape is ECDSA malleability ((r, n−s) verifies too), which a random edit
 * cannot produce. A mutation that changes nothing must still verify.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { verifySnpReport, type SnpCertificates } from '../../../src/attestation/sev-snp/index.ts';
import { isAttestationError } from '../../../src/attestation/checks.ts';
import { bytesEqual } from '../../../src/attestation/bytes.ts';
import { SNP_AT, snpCerts, snpReport, VLEK_AT } from './helpers.ts';
import { applyMutation, mutationArb } from '../../support/byte-mutations.ts';

const apply = applyMutation;

const cases = [
  { name: 'milan-v3-vcek-azure', at: SNP_AT, leaf: 'vcek', inter: 'ask' },
  { name: 'genoa-v3-vcek-azure', at: SNP_AT, leaf: 'vcek', inter: 'ask' },
  { name: 'milan-v3-vlek-aws-coco', at: VLEK_AT, leaf: 'vlek', inter: 'asvk' },
] as const;

for (const c of cases) {
  test(`${c.name}: random mutations of the report or a certificate give a typed refusal, never a throw, never an acceptance`, async () => {
    const report = snpReport(c.name);
    const certs = snpCerts(c.name);
    const opts = { at: c.at, allowDebug: true, minTcb: 'none', expectedVmpl: 'any' } as const;
    assert.ok((await verifySnpReport(report, { certs, ...opts })).ok);
    const targetArb = fc.constantFrom('report', 'report', 'report', c.leaf, c.inter, 'ark');
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(targetArb, fc.array(mutationArb, { minLength: 1, maxLength: 2 }), async (target, mutations) => {
        const original = target === 'report' ? report : certs[target as keyof SnpCertificates]!;
        const mutated = mutations.reduce(apply, original);
        const v = await verifySnpReport(target === 'report' ? mutated : report, { certs: target === 'report' ? certs : { ...certs, [target]: mutated }, ...opts });
        if (v.ok) {
          assert.ok(bytesEqual(mutated, original), `accepted a changed ${target}: ${JSON.stringify(mutations)}`);
          return;
        }
        assert.ok(isAttestationError(v.error), `untyped error: ${String(v.error)}`);
        assert.equal(v.checks.at(-1)?.ok, false);
        seen.set(v.error.code, (seen.get(v.error.code) ?? 0) + 1);
      }),
      { numRuns: 300 },
    );
    if (process.env.SHOW_CODES) console.log(c.name, [...seen]);
    // The mutations reach past the structure rules: the pin, the chain and the report signature all refuse some.
    for (const code of ['InvalidEvidence', 'UntrustedRoot', 'CertificateChainInvalid', 'EvidenceSignatureInvalid']) {
      assert.ok((seen.get(code) ?? 0) > 0, `${code} never seen: ${JSON.stringify([...seen])}`);
    }
  });
}

test('random bytes of any size are refused as InvalidEvidence', async () => {
  const certs = snpCerts('milan-v2-vcek-virtee');
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ minLength: 1184, maxLength: 1184 }), fc.uint8Array({ maxLength: 2048 })), async (bytes) => {
      const v = await verifySnpReport(bytes, { certs, at: SNP_AT });
      assert.ok(!v.ok && v.error.code === 'InvalidEvidence', v.ok ? 'accepted' : v.error.message);
    }),
    { numRuns: 200 },
  );
});
