/**
 * A member's recovery from a leaked rotation key, against the real PLC
 * directory (PostgreSQL + @did-plc/server on loopback): the directory's
 * timestamps stand in fetch mode, so a recovery fork within 72 h is accepted
 * there; in supplied mode the same log, sent in a request, nullifies a head
 * the enclave already used and is `StalePlcLog` (the log's createdAt is the
 * sender's word there).
 *
 * Under CI=true this test must run; elsewhere it skips when PostgreSQL is
 * missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIVE_COLLECTION, LIVE_ORG, auditLogFrom, liveDirectorySkip, liveDraft, signDraft, liveDirectoryForFile, postOperation } from '../support/plc-directory.ts';
import { echoAttestor } from '../support/world.ts';
import { cidOf, didOf, plcOp, rkey, signOp, type Op } from '../review/plc-kit.ts';
import { generateMemberKey, type MemberKey } from '../../src/member/keys.ts';
import { createMemberDid } from '../../src/member/plc-ops.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { bootService } from '../../src/enclave/boot.ts';
import { createApp } from '../../src/server/app.ts';

const skip = liveDirectorySkip();

const live = liveDirectoryForFile(skip);
const post = (did: string, op: unknown) => postOperation(live.directory().url, did, op);


function app(signers: string[], plc: Record<string, unknown>) {
  const policy = parsePolicy({
    $type: 'dev.encumber.policy',
    version: 1,
    repository: LIVE_ORG,
    signers: signers.map((did) => ({ did, keyId: 'atproto' })),
    threshold: 2,
    collections: [LIVE_COLLECTION],
    plc,
    limits: { maxRecordBytes: 10_000 },
  });
  return createApp({ service: bootService({ policy, attestor: echoAttestor }), logger: () => {} });
}

test('recovery with a higher-priority rotation key: accepted in fetch mode (directory time), StalePlcLog in supplied mode', { skip }, async () => {
  // Alice: genesis G with rotation keys [R0, R1]; H, signed by R1, drops R0 and rotates #atproto.
  const r0 = rkey(7301);
  const r1 = rkey(7302);
  const keyAtG = generateMemberKey();
  const keyAtH = generateMemberKey();
  const keyAtF = generateMemberKey();
  const g = signOp(plcOp([r0.did, r1.did], null, keyAtG.did), r0);
  const alice = didOf(g);
  await post(alice, g);
  const h = signOp(plcOp([r1.did], cidOf(g), keyAtH.did), r1);
  await post(alice, h);
  const bobKey = generateMemberKey();
  const bob = await createMemberDid({ rotationKey: generateMemberKey(), signingKey: bobKey, handle: 'rec-bob.test', pds: 'https://pds.example' });
  await post(bob.did, bob.op);
  const carol = await createMemberDid({ rotationKey: generateMemberKey(), signingKey: generateMemberKey(), handle: 'rec-carol.test', pds: 'https://pds.example' });
  await post(carol.did, carol.op);
  const signers = [alice, bob.did, carol.did];

  const fetching = app(signers, { directory: live.directory().url, source: 'fetch' });
  const supplied = app(signers, { directory: live.directory().url, source: 'supplied' });
  const withLogs = async (d: ReturnType<typeof liveDraft>) => ({
    ...d,
    plcLogs: Object.fromEntries(await Promise.all(signers.map(async (did) => [did, await auditLogFrom(live.directory().url, did)]))),
  });
  const as = (did: string, key: MemberKey): [string, MemberKey] => [did, key];

  assert.equal((await signDraft(fetching, liveDraft('fetch: on H'), as(alice, keyAtH), as(bob.did, bobKey))).status, 200);
  const onH = await signDraft(supplied, await withLogs(liveDraft('supplied: on H')), as(alice, keyAtH), as(bob.did, bobKey));
  assert.equal(onH.status, 200, JSON.stringify(onH.json));

  // R1 leaked; alice recovers with R0, which outranks R1 in G: F forks from G and nullifies H.
  const f: Op = signOp(plcOp([r0.did], cidOf(g), keyAtF.did), r0);
  await post(alice, f);
  const log = await auditLogFrom(live.directory().url, alice);
  assert.deepEqual(log.map((e) => [e.cid, e.nullified]), [[cidOf(g), false], [cidOf(h), true], [cidOf(f), false]]);

  // Fetch mode: the directory's timestamps stand; the recovery is accepted and the old key is out.
  const recovered = await signDraft(fetching, liveDraft('fetch: after recovery'), as(alice, keyAtF), as(bob.did, bobKey));
  assert.equal(recovered.status, 200, JSON.stringify(recovered.json));
  assert.equal(recovered.json.receipt.heads[0].cid.$link, cidOf(f));
  const oldKey = await signDraft(fetching, liveDraft('fetch: old key'), as(alice, keyAtH), as(bob.did, bobKey));
  assert.equal(oldKey.json.error, 'InvalidCosignature');

  // Supplied mode: the same (genuine) log arrives in a request; the enclave cannot tell it from a
  // fork made today by whoever holds R0 with a back-dated createdAt, so it keeps the head it used.
  const stale = await signDraft(supplied, await withLogs(liveDraft('supplied: after recovery')), as(alice, keyAtF), as(bob.did, bobKey));
  assert.equal(stale.status, 422, JSON.stringify(stale.json));
  assert.equal(stale.json.error, 'StalePlcLog');
});
