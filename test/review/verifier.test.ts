/**
 * Verifier-side review: what `record verify` / `attest verify` call valid.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tempDir } from '../support/fixtures.ts';
import { join } from 'node:path';
import { encodeBase64 } from '../../src/crypto/encoding.ts';
import { generateMemberKey } from '../../src/member/keys.ts';
import { draftPayload } from '../../src/member/cosign.ts';
import { verifyPublishedRecord, type Identity } from '../../src/verifier/record.ts';
import { runCli } from '../support/cli.ts';
import { fixturePath } from '../support/fixtures.ts';
import { cosignBy, createMember, createWorld, draftFor, withLogs, type World, signedWorld } from '../support/world.ts';

let w: World;
let identity: Identity;
let signed: Record<string, any>;
let draft: ReturnType<typeof draftFor>;
before(async () => {
  ({ w, identity, draft, signed } = await signedWorld('review verify'));
});

test(
  'a co-signer entry whose key was swapped for a stranger’s key (re-signed payload) must not pass the M-of-N re-check',
  () => {
    const r = structuredClone(signed.record);
    const payload = draftPayload(draft as never);
    const mallory = generateMemberKey();
    // Keep issuer (a member DID the receipt names), swap key and sig.
    r.signatures[0].key = mallory.did;
    r.signatures[0].sig = { $bytes: encodeBase64(mallory.sign(payload.bytes)) };
    const logs = (draft as unknown as { plcLogs: Record<string, unknown> }).plcLogs;
    const v = verifyPublishedRecord(identity, r, { plcLogs: logs });
    assert.equal(v.ok, false, 'a co-signature by a key that is not the member’s was counted');
    // The receipt's head names the key the enclave verified alice with: the swapped entry fails there, before the
    // PLC re-check.
    assert.equal(v.checks.at(-1)!.name, 'cosignatures');
    // The genuine record passes the same re-check; without logs the row says it was not re-checked.
    const genuine = verifyPublishedRecord(identity, signed.record, { plcLogs: logs });
    assert.ok(genuine.ok, JSON.stringify(genuine.checks.at(-1)));
    assert.equal(genuine.checks.at(-1)!.name, 'cosigner-keys');
    // Without logs the swapped entry still fails (the receipt binds the key); the genuine record's PLC re-check
    // row says it was not done.
    assert.equal(verifyPublishedRecord(identity, r).ok, false);
    assert.equal(verifyPublishedRecord(identity, signed.record).checks.at(-1)!.skipped, true);
    // A log for another state (the head is not in it) also fails.
    const [alice] = w.members as [any];
    const v2 = verifyPublishedRecord(identity, signed.record, { plcLogs: { ...logs, [alice.did]: [] } });
    assert.equal(v2.ok, false);
  },
);

test(
  'record verify with an identity file and no evidence must not report "valid" (a forged identity passes)',
  async () => {
    // Mallory's own "enclave": her key, her policy naming her own DIDs as the members.
    const m = await createWorld({ members: [await createMember('m1.test'), await createMember('m2.test'), await createMember('m3.test')] });
    const [m1, m2] = m.members as [any, any];
    const forged = await m.service.signRecord(withLogs(cosignBy(draftFor('forged'), m1, m2), m.members) as never);
    const dir = tempDir('review-rv-');
    writeFileSync(join(dir, 'id.json'), JSON.stringify(m.service.identity()));
    writeFileSync(join(dir, 'rec.json'), JSON.stringify(forged.record));
    const r = await runCli(['record', 'verify', join(dir, 'rec.json'), '--identity', join(dir, 'id.json'), '--json']);
    assert.notEqual(r.code, 0, r.out.join('\n'));
  },
);

test(
  'attest verify with no expected measurement and no nonce must not report an arbitrary Nitro enclave as valid',
  async () => {
    // Someone else's production (non-debug) enclave, not encumber.
    const file = fixturePath('nitro', 'evervault-beta-nondebug-valid.cbor');
    const probe = await runCli(['attest', 'verify', file, '--json', '--at', '2000-01-01T00:00:00Z']);
    assert.equal(JSON.parse(probe.out[0]!).error.code, 'CertificateExpired');
    const checks = JSON.parse(probe.out[0]!).checks as { name: string; detail: string }[];
    const at = /(\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(checks.find((c) => c.name === 'document-structure')!.detail)![1]!;
    const r = await runCli(['attest', 'verify', file, '--json', '--at', at]);
    assert.notEqual(r.code, 0, 'a foreign enclave document was reported valid: ' + r.out.join('\n'));
  },
);
