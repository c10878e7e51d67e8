/**
 * The DID guard against the real PLC directory (PostgreSQL + @did-plc/server
 * on loopback): the organisation's DID has rotation keys [the enclave's guard
 * key, the PDS's key]. An approved handle change (2 of 3) goes through and is
 * in the directory's log; an unapproved #atproto change signed with the PDS
 * key is reverted by the guard (the directory nullifies it); removing the
 * enclave's rotation key is refused at the endpoint without a quorum and
 * without the guard key first, and reverted when the PDS key does it
 * directly; with the directory down the guard does nothing (no signature)
 * and reverts on the next poll once it is back. Then the guard moves with
 * the key: a second instance joins the first by the attested hand-off over
 * loopback, the first stops, and the second reverts an intrusion that landed
 * before it joined and signs an approved change with the guard key it received.
 *
 * Under CI=true this test must run; elsewhere it skips when PostgreSQL is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as plc from '@did-plc/lib';
import { auditLogFrom, liveDirectorySkip, liveDirectoryForFile, postOperation } from '../support/plc-directory.ts';
import { echoAttestor } from '../support/world.ts';
import { generateK256PrivateKey } from '../../src/crypto/k256-signer.ts';
import { KeyHolder } from '../../src/enclave/key-holder.ts';
import { generateMemberKey, plcSigner, type MemberKey } from '../../src/member/keys.ts';
import { createMemberDid } from '../../src/member/plc-ops.ts';
import { cosignPlcOpDraft, draftDidOp, type PlcOpDraft } from '../../src/member/did-ops.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { bootService } from '../../src/enclave/boot.ts';
import { createApp, listen } from '../../src/server/app.ts';
import { createDevRoot } from '../../src/attestation/dev/index.ts';
import { devAttestor } from '../../src/enclave/platforms.ts';
import { DIGEST_A } from '../support/handoff.ts';
import type { PlcAuditEntry, PlcOperation } from '../../src/plc/types.ts';

const skip = liveDirectorySkip();

const live = liveDirectoryForFile(skip);
const post = (did: string, op: unknown) => postOperation(live.directory().url, did, op);

const headOf = (log: PlcAuditEntry[]) => log.filter((e) => !e.nullified).at(-1)!;

/**
 * Three members (handles `<prefix>-alice.test` …) and the organisation, all on the directory: the organisation's
 * rotation keys are [guard key, PDS key], its genesis signed by the PDS key; its policy (2 of 3, fetch mode, guarded).
 */
async function organisation(prefix: string) {
  const members: { did: string; key: MemberKey }[] = [];
  for (const name of ['alice', 'bob', 'carol']) {
    const key = generateMemberKey();
    const m = await createMemberDid({ rotationKey: generateMemberKey(), signingKey: key, handle: `${prefix}-${name}.test`, pds: 'https://pds.example' });
    await post(m.did, m.op);
    members.push({ did: m.did, key });
  }
  const guardBytes = generateK256PrivateKey();
  const guardDid = KeyHolder.generate(() => guardBytes.slice()).did;
  const pds = generateMemberKey();
  const { op: genesis, did: org } = await plc.createOp({ signingKey: generateMemberKey().did, rotationKeys: [guardDid, pds.did], handle: `${prefix}-org.test`, pds: 'https://pds.example', signer: plcSigner(pds) as never });
  await post(org, genesis);
  const policy = parsePolicy({
    $type: 'dev.encumber.policy',
    version: 1,
    repository: org,
    signers: members.map((m) => ({ did: m.did, keyId: 'atproto' })),
    threshold: 2,
    collections: ['app.bsky.feed.post'],
    plc: { directory: live.directory().url, source: 'fetch' },
    limits: { maxRecordBytes: 10_000 },
    didGuard: { enabled: true, pollSeconds: 60, revert: 'keys-and-pds' },
  });
  return { members, guardBytes, guardDid, pds, org, policy };
}

test('the DID guard on the real directory: approved change, reverted intrusions, refusals, an outage', { skip, timeout: 120_000 }, async () => {
  const url = live.directory().url;
  const { members, guardBytes, guardDid, pds, org, policy } = await organisation('g');

  const timers: (() => void)[] = [];
  let polls = 0;
  const service = bootService({
    policy,
    attestor: echoAttestor,
    drawGuardKey: () => guardBytes.slice(),
    guardTimer: (run) => {
      polls++;
      timers.push(run);
      return () => {};
    },
  });
  const app = createApp({ service, logger: () => {} });
  // One poll: fire the timer, wait until the poll has scheduled the next one.
  const settle = async (n: number) => {
    while (polls < n) await new Promise((r) => setTimeout(r, 20));
  };
  const pollOnce = async () => {
    const n = polls + 1;
    timers.shift()!();
    await settle(n);
  };
  await settle(1); // the first poll at start: the baseline
  const guardLog = async () => (await (await app.request('/xrpc/dev.encumber.getGuardLog')).json()) as any;
  const signPlcOp = (body: PlcOpDraft) => app.request('/xrpc/dev.encumber.signPlcOp', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const cosigned = (draft: PlcOpDraft, ...who: number[]) => who.reduce((d, i) => cosignPlcOpDraft(d, members[i]!.key, members[i]!.did).draft, draft);
  const pdsUpdate = async (change: (op: PlcOperation) => PlcOperation) => {
    const head = headOf(await auditLogFrom(url, org));
    const op = await plc.createUpdateOp(head.operation as never, plcSigner(pds) as never, (n) => change(n as unknown as PlcOperation) as never);
    await post(org, op);
    return headOf(await auditLogFrom(url, org)).cid;
  };
  assert.equal((await guardLog()).baseline, headOf(await auditLogFrom(url, org)).cid);

  // 1. An approved handle change, 2 of 3: signed by the guard key, in the directory's log.
  const handle = draftDidOp(org, await auditLogFrom(url, org), { handle: 'renamed.test' }, new Date());
  const approved = await signPlcOp(cosigned(handle, 0, 1));
  const answer = (await approved.json()) as any;
  assert.equal(approved.status, 200, JSON.stringify(answer));
  let log = await auditLogFrom(url, org);
  assert.equal(headOf(log).cid, answer.operationCid);
  assert.deepEqual((headOf(log).operation as PlcOperation).alsoKnownAs, ['at://renamed.test']);
  await pollOnce();
  assert.deepEqual((await guardLog()).entries, [], 'the guard leaves its own (approved) operation');

  // 2. An unapproved #atproto change signed with the PDS key: reverted, nullified by the directory.
  const beforeIntrusion = headOf(log).cid;
  const intruder = await pdsUpdate((op) => ({ ...op, verificationMethods: { ...op.verificationMethods, atproto: generateMemberKey().did } }));
  await pollOnce();
  log = await auditLogFrom(url, org);
  assert.equal(log.find((e) => e.cid === intruder)!.nullified, true);
  assert.equal((headOf(log).operation as PlcOperation).prev, beforeIntrusion);
  let g = await guardLog();
  assert.equal(g.entries.at(-1).intruder.cid, intruder);
  assert.equal(g.entries.at(-1).outcome, 'reverted');
  assert.equal(g.entries.at(-1).recovery.cid, headOf(log).cid);

  // 3. Removing the enclave's rotation key: refused at the endpoint (no quorum; and with one, not first) ...
  const removal = draftDidOp(org, log, { handle: 'renamed.test' }, new Date());
  removal.operation.rotationKeys = [pds.did];
  assert.equal(((await (await signPlcOp(cosigned(removal, 0))).json()) as any).error, 'InsufficientCosigners');
  assert.equal(((await (await signPlcOp(cosigned(removal, 0, 2))).json()) as any).error, 'PlcOpGuardKeyNotFirst');
  // ... and reverted when the PDS key does it directly.
  const removed = await pdsUpdate((op) => ({ ...op, rotationKeys: [pds.did] }));
  await pollOnce();
  log = await auditLogFrom(url, org);
  assert.equal(log.find((e) => e.cid === removed)!.nullified, true);
  assert.deepEqual((headOf(log).operation as PlcOperation).rotationKeys, [guardDid, pds.did]);

  // 4. The directory down: the guard does nothing (no signature, nothing submitted) and retries next poll.
  const moved = await pdsUpdate((op) => ({ ...op, services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://evil.example' } } }));
  const entriesBefore = (await guardLog()).entries.length;
  await live.directory().stop();
  await pollOnce();
  g = await guardLog();
  assert.equal(g.lastPoll.result, 'no-action');
  assert.equal(g.lastPoll.code, 'DirectoryUnavailable');
  assert.equal(g.entries.length, entriesBefore, 'nothing recorded, nothing signed');
  await live.directory().start();
  log = await auditLogFrom(url, org);
  assert.equal(log.find((e) => e.cid === moved)!.nullified, false, 'the directory got nothing while it was down');
  await pollOnce();
  log = await auditLogFrom(url, org);
  assert.equal(log.find((e) => e.cid === moved)!.nullified, true);
  assert.equal((await guardLog()).entries.at(-1).outcome, 'reverted');
  service.fail();
});

test('the guard moves with the key: B joins A over loopback, A stops, B reverts an intrusion A never saw and signs an approved change', { skip, timeout: 120_000 }, async () => {
  const url = live.directory().url;
  const { members, guardBytes, guardDid, pds, org, policy } = await organisation('h');
  // Both instances on the dev platform with one dev root; each with its own manual poll timer.
  const root = createDevRoot({ now: new Date(Date.now() - 86_400_000), validityDays: 30 });
  const timer = () => {
    const pending: (() => void)[] = [];
    return { pending, guardTimer: (run: () => void) => (pending.push(run), () => {}) };
  };
  const settle = async (t: { pending: unknown[] }, n: number) => {
    while (t.pending.length < n) await new Promise((r) => setTimeout(r, 20));
  };
  const ta = timer();
  const a = bootService({ policy, attestor: devAttestor(root, DIGEST_A), drawGuardKey: () => guardBytes.slice(), guardTimer: ta.guardTimer });
  const serverA = await listen(createApp({ service: a, logger: () => {} }), '127.0.0.1', 0);
  await settle(ta, 1); // A's first poll: its baseline
  const baseline = headOf(await auditLogFrom(url, org)).cid;

  // An intrusion by the PDS key after A's last poll; then B joins A over HTTP, and A stops.
  const head = headOf(await auditLogFrom(url, org));
  const intrusion = await plc.createUpdateOp(head.operation as never, plcSigner(pds) as never, (n) => ({ ...n, services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://evil.example' } } }) as never);
  await post(org, intrusion);
  const tb = timer();
  const b = bootService({ policy, attestor: devAttestor(root, DIGEST_A), guardTimer: tb.guardTimer, join: { url: serverA.url } });
  try {
    assert.equal(await b.settled(), 'serving', JSON.stringify(b.failure));
    assert.equal(b.identity().key, a.identity().key);
    assert.equal((b.identity() as Record<string, any>).guardKey, guardDid);
    a.fail();
    await serverA.close();
    // B's first poll: the intrusion is reverted, the directory nullifies it; B's log goes on from A's.
    await settle(tb, 1);
    const gb = b.guardLog();
    assert.equal(gb.baseline, baseline);
    assert.equal(gb.lastPoll?.result, 'reverted', JSON.stringify(gb.lastPoll));
    let log = await auditLogFrom(url, org);
    assert.equal(log.find((e) => e.nullified)?.cid, gb.entries.at(-1)!.intruder.cid);
    assert.equal((headOf(log).operation as PlcOperation).services.atproto_pds?.endpoint, 'https://pds.example');

    // An approved handle change through B, signed with the guard key it received.
    let draft = draftDidOp(org, log, { handle: 'renamed2.test' }, new Date());
    for (const m of members.slice(1)) draft = cosignPlcOpDraft(draft, m.key, m.did).draft;
    const out = await b.signPlcOp(draft);
    assert.equal(out.directory.status, 200);
    log = await auditLogFrom(url, org);
    assert.equal(headOf(log).cid, out.operationCid);
    assert.deepEqual((headOf(log).operation as PlcOperation).alsoKnownAs, ['at://renamed2.test']);
  } finally {
    b.fail();
    a.fail();
    await serverA.close().catch(() => {});
  }
});
