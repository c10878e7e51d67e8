/**
 * Review of the redesigned verifier library (src/verifier): every refusal is
 * a verdict with a typed code, never an exception (the old verifier turned
 * any throw into a failed verdict; the new one lets non-EncumberErrors
 * propagate), and what the verifier was asked to check is checked.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { verifyPublishedRecord, type Identity } from '../../src/verifier/record.ts';
import { verifySignedRecord } from '../../src/verifier/signed-record.ts';
import { cosignBy, createWorld, draftFor, withLogs, type World } from '../support/world.ts';

let w: World;
let identity: Identity;
let signed: Record<string, any>;
before(async () => {
  w = await createWorld();
  identity = w.service.identity() as unknown as Identity;
  const [alice, bob] = w.members as [any, any];
  signed = (await w.service.signRecord(withLogs(cosignBy(draftFor('redesign review'), alice, bob), w.members) as never)) as never;
});

function refused(record: unknown, code: string) {
  let v: ReturnType<typeof verifyPublishedRecord>;
  assert.doesNotThrow(() => {
    v = verifyPublishedRecord(identity, record);
  }, 'the verifier threw instead of returning a verdict');
  assert.equal(v!.ok, false, 'accepted');
  if (!v!.ok) assert.equal(v!.error.code, code, JSON.stringify(v!.checks.at(-1)));
}

test('redesign: the signed record as published verifies (baseline)', () => {
  assert.equal(verifyPublishedRecord(identity, signed.record).ok, true);
});

test('redesign: a null co-signer entry is a verdict (InvalidCosignature), not a TypeError', () => {
  const r = structuredClone(signed.record);
  r.signatures.splice(0, 0, null);
  refused(r, 'InvalidCosignature');
});

test('redesign: a null or non-object last entry is a verdict (MissingEnclaveSignature), not a TypeError', () => {
  for (const last of [null, 7, 'x']) {
    const r = structuredClone(signed.record);
    r.signatures.push(last);
    refused(r, 'MissingEnclaveSignature');
  }
});

test('redesign: a co-signer entry whose issuer is not a string is refused (String(["did:plc:…"]) is the DID)', () => {
  // Co-signer entries are covered by no enclave signature: anyone can rewrite them in the published record.
  const r = structuredClone(signed.record);
  r.signatures[0].issuer = [r.signatures[0].issuer];
  refused(r, 'InvalidCosignature');
});

test('redesign: a pin given with a trusted identity and no record is checked, never silently skipped', async () => {
  const report = await verifySignedRecord({ identity, trustIdentity: true, pin: { repository: 'did:plc:someoneelseentirelyxx' }, at: new Date() });
  assert.equal(report.valid, false, 'the pin was not checked');
  assert.equal(report.error?.code, 'PolicyPinMismatch');
});
