/**
 * Property: random byte-level mutations of a real AWS document never make the
 * verifier throw, always give a typed attestation EncumberError with a failed
 * last check row — and are never accepted.
 *
 * Why "never accepted" holds (and is asserted, not just "typed error or ok"):
 * a Nitro COSE_Sign1 has no unsigned part that could absorb a change. The
 * unprotected header must be an empty map, and decodeStrict requires the
 * canonical CBOR encoding, so the envelope's framing bytes have exactly one
 * accepted form; everything else is covered by a signature (payload → COSE
 * signature, certificates → their issuer's signature, the root → the pin).
 * The one theoretical escape is ECDSA malleability ((r, n−s) verifies too),
 * which a random byte edit cannot produce. A mutation that changes nothing
 * (same byte written back, empty insertion) must of course still verify.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { verifyNitroDocument } from '../../src/attestation/nitro/index.ts';
import { isAttestationError } from '../../src/attestation/checks.ts';
import { bytesEqual } from '../../src/attestation/bytes.ts';
import { createDevRoot, devPcrsFromDigests, issueDevDocument } from '../../src/attestation/dev/index.ts';
import { AWS_FIXTURES, AWS_ROOT_PEM, nitroBytes } from './helpers.ts';
import { applyMutation, mutationArb } from '../support/byte-mutations.ts';

const apply = applyMutation;

interface Case {
  name: string;
  bytes: Uint8Array;
  opts: Parameters<typeof verifyNitroDocument>[1];
}
const cases: Case[] = ['cape-spec', 'evervault-2023'].map((prefix) => {
  const fx = AWS_FIXTURES.find((f) => f.file.startsWith(prefix))!;
  return { name: fx.file, bytes: nitroBytes(fx.file), opts: { trustRoots: AWS_ROOT_PEM, at: new Date(fx.timestamp), allowDebug: true } };
});
{
  const now = new Date('2025-06-01T12:00:00Z');
  const root = createDevRoot({ now, validityDays: 1 });
  const bytes = issueDevDocument(root, {
    pcrs: devPcrsFromDigests({ bundleSha384: new Uint8Array(48).fill(9) }),
    publicKey: new Uint8Array(33).fill(2),
    userData: new Uint8Array(36).fill(3),
    nonce: new Uint8Array(16).fill(4),
    now,
  });
  cases.push({ name: 'a dev document', bytes, opts: { trustRoots: [root.certificate], at: now } });
}

for (const c of cases) {
  test(`${c.name}: random mutations give a typed refusal, never a throw, never an acceptance`, () => {
    const original = c.bytes;
    const opts = c.opts;
    assert.ok(verifyNitroDocument(original, opts).ok);
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 2 }), (mutations) => {
        const mutated = mutations.reduce(apply, original);
        const v = verifyNitroDocument(mutated, opts);
        if (v.ok) {
          assert.ok(bytesEqual(mutated, original), `accepted a changed document: ${JSON.stringify(mutations)}`);
          return;
        }
        assert.ok(isAttestationError(v.error), `untyped error: ${String(v.error)}`);
        assert.equal(v.checks.at(-1)?.ok, false);
        seen.set(v.error.code, (seen.get(v.error.code) ?? 0) + 1);
      }),
      { numRuns: 250 },
    );
    if (process.env.SHOW_CODES) console.log(c.name, [...seen]);
    // Not the trivial "everything fails at the first rule": the mutations reach the signature rules.
    assert.ok((seen.get('InvalidEvidence') ?? 0) > 0);
    assert.ok((seen.get('EvidenceSignatureInvalid') ?? 0) + (seen.get('CertificateChainInvalid') ?? 0) > 0, JSON.stringify([...seen]));
  });
}
