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
import { cosignBy, createWorld, draftFor, withLogs, type World, signedWorld } from '../support/world.ts';

let w: World;
let identity: Identity;
let signed: Record<string, any>;
before(async () => {
  ({ w, identity, signed } = await signedWorld('redesign review'));
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

test('redesign: evidence checked "against" an identity without its binding document is not valid (the identity was never compared)', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { createAttestor } = await import('../../src/enclave/platforms.ts');
  const { decodeBase64 } = await import('../../src/crypto/encoding.ts');
  const dir = mkdtempSync(join(tmpdir(), 'encumber-review-'));
  try {
    const now = new Date();
    const { attestor } = createAttestor('dev', { dataDir: dir, now });
    const dw = await createWorld({ attestor, members: w.members, clock: () => new Date() });
    const { root } = (await import('../../src/enclave/platforms.ts')).loadOrCreateDevRoot(dir, now);
    const nonce = new Uint8Array(32).fill(7);
    const answer = (await dw.service.attestation(nonce)) as unknown as { evidence: { $bytes: string } };
    const evidence = { evidence: decodeBase64(answer.evidence.$bytes, 'optional') };
    const id = dw.service.identity() as unknown as Identity;
    const base = { evidence, roots: [root.certificate], measurements: 'any' as const, nonce, at: new Date() };
    // Baseline: with the whole identity the attestation is about its binding and passes.
    assert.equal((await verifySignedRecord({ ...base, identity: id })).valid, true);
    // Another enclave's key and binding CID, with the binding document left out: nothing ties the evidence to it.
    const forged = { ...id, key: identity.key, bindingCid: identity.bindingCid, binding: undefined };
    const report = await verifySignedRecord({ ...base, identity: forged as unknown as Identity });
    assert.equal(report.valid, false, `valid, with rows ${JSON.stringify(report.attestation.map((r) => [r.name, r.ok, r.skipped ?? false]))}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('redesign: a receipt (signed by the enclave key) whose heads are not a list of maps is ReceiptInvalid, not a TypeError', async () => {
  const { signK256 } = await import('../../src/crypto/k256-signer.ts');
  const { encodeCbor } = await import('../../src/data/cbor.ts');
  const { jsonToIpld, ipldToJson } = await import('../../src/data/json.ts');
  const secret = new Uint8Array(32).fill(0x42);
  const kw = await createWorld({ members: w.members, drawKey: () => secret.slice() });
  const kid = kw.service.identity() as unknown as Identity;
  const [alice, bob] = w.members as [any, any];
  const out = (await kw.service.signRecord(withLogs(cosignBy(draftFor('receipt heads'), alice, bob), w.members) as never)) as any;
  for (const heads of [undefined, 'x', [null], [7]]) {
    const r = structuredClone(out.record);
    const receipt = jsonToIpld(r.signatures.at(-1).receipt) as Record<string, unknown>;
    const { sig: _sig, ...unsigned } = receipt;
    if (heads === undefined) delete unsigned.heads;
    else unsigned.heads = heads;
    const resigned = { ...unsigned, sig: signK256(secret, encodeCbor(unsigned)) };
    r.signatures.at(-1).receipt = ipldToJson(resigned);
    let v: ReturnType<typeof verifyPublishedRecord>;
    assert.doesNotThrow(() => {
      v = verifyPublishedRecord(kid, r);
    }, `heads ${JSON.stringify(heads)}: the verifier threw`);
    assert.equal(v!.ok, false, `heads ${JSON.stringify(heads)} accepted`);
    if (!v!.ok) assert.equal(v!.error.code, 'ReceiptInvalid');
  }
});

test('a co-signer whose receipt head was nullified since (the DID recovered from it) is StalePlcLog for a verifier with the later log', async () => {
  // alice's DID: genesis with rotation keys [high, low]; the low key (stolen) rotates #atproto to the thief's key;
  // the enclave signs a record co-signed with that key; then alice recovers with the high key inside 72 h.
  const { rkey, signOp, plcOp, didOf, cidOf, entry } = await import('./plc-kit.ts');
  const { generateMemberKey } = await import('../../src/member/keys.ts');
  const { createMember, policyFor } = await import('../support/world.ts');
  const [high, low] = [rkey(7001), rkey(7002)];
  const [own, thief] = [generateMemberKey(), generateMemberKey()];
  const genesis = signOp(plcOp([high.did, low.did], null, own.did), high);
  const did = didOf(genesis);
  const stolen = signOp(plcOp([high.did, low.did], cidOf(genesis), thief.did), low);
  const recovery = signOp(plcOp([high.did, low.did], cidOf(genesis), own.did), high);
  const t0 = Date.parse('2025-12-30T00:00:00.000Z');
  const atSigning = [entry(did, genesis, t0), entry(did, stolen, t0 + 3_600_000)];
  const later = [entry(did, genesis, t0), entry(did, stolen, t0 + 3_600_000, true), entry(did, recovery, t0 + 7_200_000)];
  const alice = { did, rotationKey: own, signingKey: thief, log: atSigning, lastOp: stolen as never };
  const [bob, carol] = [await createMember('bob.test'), await createMember('carol.test')];
  const world = await createWorld({ members: [alice, bob, carol], policy: policyFor([alice, bob, carol]) });
  const out = (await world.service.signRecord(withLogs(cosignBy(draftFor('signed with a stolen key'), alice, bob), [alice, bob]) as never)) as { record: unknown };
  const id = world.service.identity() as unknown as Identity;
  // With the logs as they were at signing, the record verifies; with the later log, the head is nullified.
  assert.equal(verifyPublishedRecord(id, out.record, { plcLogs: { [did]: atSigning, [bob.did]: bob.log } }).ok, true);
  const v = verifyPublishedRecord(id, out.record, { plcLogs: { [did]: later, [bob.did]: bob.log } });
  assert.equal(v.ok, false, 'a key the DID recovered from was accepted');
  if (!v.ok) assert.equal(v.error.code, 'StalePlcLog', v.error.message);
});
