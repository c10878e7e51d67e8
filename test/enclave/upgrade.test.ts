/**
 * Quorum-approved upgrades (docs/key-handoff.md "Upgrades"), in process: a
 * dev.encumber.upgrade statement is refused with the signRecord codes (too few
 * co-signers, a non-member, a bad signature) or its own (another policy, a
 * malformed statement); once approved, a joiner running the approved program
 * gets the key and one running another program is still refused; the joiner
 * inherits and publishes the approvals, keeping a genuine one whatever bad
 * copies of it come before or after, and refuses a list over the bound; a
 * refused approval (the 65th statement, logs too large to publish) moves no
 * mark; anyone's verifier accepts a genuine approval and refuses a tampered
 * one or one that names no statement CID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EncumberError } from '../../src/errors.ts';
import { devAttestor } from '../../src/enclave/platforms.ts';
import { ipldToJson, jsonToIpld } from '../../src/data/json.ts';
import { CID, cidForValue } from '../../src/data/cid.ts';
import type { JsonValue } from '../../src/data/types.ts';
import { MAX_PUBLISHED_UPGRADE_BYTES } from '../../src/enclave/service.ts';
import { MAX_UPGRADES } from '../../src/enclave/upgrades.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { verifyUpgrade, type PublishedUpgrade } from '../../src/verifier/upgrade.ts';
import { approving, DIGEST_A, DIGEST_B, handoffWorld, upgradeDraft } from '../support/handoff.ts';
import { cosignBy, createMember, draftFor, policyFor, rotateSigningKey, withLogs, type Member } from '../support/world.ts';

const DIGEST_C = new Uint8Array(48).fill(0x0c);

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EncumberError) return e.code;
    throw e;
  }
  return 'ok';
}

test('a statement is refused: too few co-signers, a non-member, a bad signature, another policy, malformed; nothing is approved', async () => {
  const w = await handoffWorld();
  const [alice, bob, carol] = w.members as [Member, Member, Member];
  const s = w.sender.service;
  const mallory = await createMember('mallory.test');
  assert.equal(await code(s.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice]))), 'InsufficientCosigners');
  assert.equal(await code(s.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, mallory]))), 'UnknownSigner');
  // bob's entry signed with carol's key: well-formed, fails against bob's PLC key.
  assert.equal(await code(s.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, { ...carol, did: bob.did }], w.members))), 'InvalidCosignature');
  const other = parsePolicy(policyFor(w.members, { threshold: 3 })).cid;
  assert.equal(await code(s.approveUpgrade(upgradeDraft(other, [DIGEST_A, DIGEST_B], [alice, bob]))), 'UpgradePolicyMismatch');
  const good = upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, bob]);
  for (const statement of [
    { ...good.statement, extra: 1 },
    { ...good.statement, $type: 'dev.encumber.payload' },
    { ...good.statement, measurements: { nitro: [], dev: [], 'sev-snp': [] } },
    { ...good.statement, measurements: { dev: [{ pcrs: { 0: 'zz' } }] } },
    { ...good.statement, createdAt: '2026-06-01T00:00:00Z' },
    { ...good.statement, policy: w.policy.cid.toString() },
  ]) {
    assert.equal(await code(s.approveUpgrade({ ...good, statement })), 'UpgradeInvalid', JSON.stringify(statement));
  }
  assert.deepEqual(s.upgrades(), { upgrades: [] });
  // Still only its own program: a joiner running B is refused.
  const r = await w.join({ attestor: devAttestor(w.root, DIGEST_B), approved: approving(DIGEST_A, DIGEST_B) });
  assert.equal(r.service.failure?.code, 'HandoffMeasurementNotApproved');
});

test('approved: a joiner running the approved program gets the key and publishes the approval; another program is still refused', async () => {
  const w = await handoffWorld();
  const [alice, , carol] = w.members as [Member, Member, Member];
  const s = w.sender.service;
  const approval = await s.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, carol]));
  assert.equal(approval.cosignatures.map((c) => c.issuer).join(), [alice.did, carol.did].join());
  // The same statement again: the same approval.
  assert.deepEqual(await s.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, carol])), approval);
  assert.deepEqual(s.upgrades().upgrades, [approval]);

  // B joins: it reads the approval, re-checks it, accepts A (named in it) and is accepted by A.
  const b = await w.join({ attestor: devAttestor(w.root, DIGEST_B) });
  assert.equal(b.service.state, 'serving', JSON.stringify(b.service.failure));
  assert.equal(b.service.identity().key, s.identity().key);
  assert.deepEqual(b.service.upgrades().upgrades, [approval]);

  // C (not approved) is refused, by A and by B.
  for (const from of [w.sender, b]) {
    const c = await w.join({ from, attestor: devAttestor(w.root, DIGEST_C), approved: approving(DIGEST_A, DIGEST_B, DIGEST_C) });
    assert.equal(c.service.failure?.code, 'HandoffMeasurementNotApproved');
  }

  // B hands the key on to another B (its own program) and the approval travels again: A -> B -> B'.
  const b2 = await w.join({ from: b, attestor: devAttestor(w.root, DIGEST_B) });
  assert.equal(b2.service.state, 'serving', JSON.stringify(b2.service.failure));
  assert.deepEqual(b2.service.upgrades().upgrades, [approval]);
});

test('a statement approving only the new program: the new release refuses to take the key from the old one (it names no predecessor)', async () => {
  const w = await handoffWorld();
  const [alice, bob] = w.members as [Member, Member, Member];
  await w.sender.service.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_B], [alice, bob]));
  const b = await w.join({ attestor: devAttestor(w.root, DIGEST_B) });
  assert.equal(b.service.failure?.code, 'HandoffMeasurementNotApproved');
  assert.equal(b.exchanges.length, 1, 'refused at the offer, by the joiner');
});

test('a joiner does not inherit what the sender cannot prove: a published approval with a forged co-signature is dropped', async () => {
  const w = await handoffWorld();
  const [alice, bob, carol] = w.members as [Member, Member, Member];
  const approval = await w.sender.service.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, bob]));
  // The host rewrites the getUpgrades answer: carol's signature under bob's name, and a program C added.
  const forged = upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B, DIGEST_C], [alice, { ...carol, did: bob.did }], w.members);
  const sender = w.sender.app;
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (url.pathname.endsWith('getUpgrades')) {
      const bogus: PublishedUpgrade = { ...approval, statement: forged.statement as never, cosignatures: forged.cosignatures.map((c) => ({ ...c, key: bob.signingKey.did })), plcLogs: forged.plcLogs as never };
      return Response.json({ upgrades: [bogus] });
    }
    return sender.request(url.pathname, { method: init?.method ?? 'GET', headers: init?.headers ?? {}, ...(init?.body ? { body: init.body } : {}) });
  }) as typeof globalThis.fetch;
  const c = await w.join({ attestor: devAttestor(w.root, DIGEST_C), approved: approving(DIGEST_A, DIGEST_C), fetch });
  // C accepted A (its own approved set), but A refuses C: the forged statement approved nothing anywhere.
  assert.equal(c.service.failure?.code, 'HandoffMeasurementNotApproved');
  const b = await w.join({ attestor: devAttestor(w.root, DIGEST_B), fetch });
  // B inherited nothing, so it does not accept A.
  assert.equal(b.service.failure?.code, 'HandoffMeasurementNotApproved');
});

test('the public verifier: a genuine approval verifies (with and without the logs); a tampered one is refused', async () => {
  const w = await handoffWorld();
  const [alice, bob, carol] = w.members as [Member, Member, Member];
  const approval = await w.sender.service.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, bob]));
  const identity = w.sender.service.identity();
  const plain = { ...approval };
  delete plain.plcLogs;
  const ok = verifyUpgrade(identity, plain);
  assert.ok(ok.ok, JSON.stringify(ok));
  assert.equal(ok.checks.find((c) => c.name === 'cosigner-keys')?.skipped, true);
  const withLogs = verifyUpgrade(identity, approval);
  assert.ok(withLogs.ok && withLogs.checks.every((c) => c.ok && !c.skipped), JSON.stringify(withLogs.checks));
  assert.deepEqual(withLogs.ok && withLogs.measurements.dev.map((d) => d.pcrs[0]), approving(DIGEST_A, DIGEST_B).dev.map((d) => d.pcrs[0]));

  const codeOf = (u: unknown, id: Parameters<typeof verifyUpgrade>[0] = identity) => {
    const v = verifyUpgrade(id, u);
    return v.ok ? 'ok' : v.error.code;
  };
  // A measurement added to the statement: it no longer hashes to the CID published; with the CID recomputed, the receipt is for another statement.
  const st = jsonToIpld(approval.statement) as Record<string, any>;
  const more = ipldToJson({ ...st, measurements: { ...st.measurements, dev: [...st.measurements.dev, approving(DIGEST_C).dev[0]] } });
  assert.equal(codeOf({ ...approval, statement: more }), 'UpgradeInvalid');
  assert.equal(codeOf({ ...approval, statement: more, statementCid: cidForValue(jsonToIpld(more)).toString() }), 'ReceiptInvalid');
  // A co-signature dropped: too few; a co-signature from carol's key under bob's name: does not verify.
  assert.equal(codeOf({ ...approval, cosignatures: approval.cosignatures.slice(0, 1) }), 'InsufficientCosigners');
  const carolSig = upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [carol]).cosignatures[0]!;
  assert.equal(codeOf({ ...approval, cosignatures: [approval.cosignatures[0], { issuer: bob.did, key: bob.signingKey.did, sig: carolSig.sig }] }), 'InvalidCosignature');
  // Another enclave's identity (another key): the receipt is not its.
  const other = await handoffWorld({ members: w.members });
  assert.equal(codeOf(approval, other.sender.service.identity()), 'ReceiptInvalid');
  // An identity under another policy: the statement is not for it.
  const p3 = policyFor(w.members, { threshold: 3 });
  assert.equal(codeOf(approval, { ...identity, policy: p3, policyCid: parsePolicy(p3).cid.toString() }), 'UpgradePolicyMismatch');
});

test('an approval publishes only the counted co-signers\' logs: a submission padded with other logs is trimmed', async () => {
  const w = await handoffWorld();
  const [alice, bob, carol] = w.members as [Member, Member, Member];
  // All three members' logs plus junk under another DID, for a statement only alice and bob signed.
  const padded = { ...upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, bob], [alice, bob, carol]) };
  padded.plcLogs = { ...padded.plcLogs, 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa': [{ junk: 'x'.repeat(1000) }] };
  const published = await w.sender.service.approveUpgrade(padded as never);
  assert.deepEqual(Object.keys(published.plcLogs ?? {}).sort(), [alice.did, bob.did].sort());
});

/** A fetch into `from` whose getUpgrades answer is replaced by `upgrades` (a relay, or the sender itself, lying). */
function publishing(from: { app: { request: (path: string, init: RequestInit) => Response | Promise<Response> } }, upgrades: unknown[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (url.pathname.endsWith('getUpgrades')) return Response.json({ upgrades });
    return from.app.request(url.pathname, { method: init?.method ?? 'GET', headers: init?.headers ?? {}, ...(init?.body ? { body: init.body } : {}) });
  }) as typeof fetch;
}

test('a statement published twice: a bad copy before or after the genuine approval does not make the joiner drop it', async () => {
  const w = await handoffWorld();
  const [alice, bob] = w.members as [Member, Member, Member];
  const approval = await w.sender.service.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, bob]));
  // The same statement and co-signatures (its quorum passes), with a receipt the key did not sign.
  const bad: PublishedUpgrade = { ...approval, receipt: { ...(approval.receipt as Record<string, JsonValue>), signedAt: '2026-06-01T00:00:01.000Z' } };
  for (const upgrades of [[bad, approval], [approval, bad], [bad, bad, approval, bad]]) {
    const b = await w.join({ attestor: devAttestor(w.root, DIGEST_B), fetch: publishing(w.sender, upgrades) });
    assert.equal(b.service.state, 'serving', JSON.stringify(b.service.failure));
    assert.deepEqual(b.service.upgrades().upgrades, [approval]);
  }
  // Only bad copies: the statement is not kept.
  const onlyBad = await w.join({ fetch: publishing(w.sender, [bad, bad]) });
  assert.equal(onlyBad.service.state, 'serving', JSON.stringify(onlyBad.service.failure));
  assert.deepEqual(onlyBad.service.upgrades().upgrades, []);
});

test('a published list longer than an instance keeps (64) is refused whole: the joiner fails closed', async () => {
  const w = await handoffWorld();
  const [alice, bob] = w.members as [Member, Member, Member];
  const approval = await w.sender.service.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, bob]));
  const bad: PublishedUpgrade = { ...approval, receipt: { ...(approval.receipt as Record<string, JsonValue>), signedAt: '2026-06-01T00:00:01.000Z' } };
  const long = await w.join({ fetch: publishing(w.sender, [...Array.from({ length: MAX_UPGRADES }, () => bad), approval]) });
  assert.equal(long.service.failure?.code, 'RemoteUnavailable');
  // Exactly the bound is read.
  const full = await w.join({ fetch: publishing(w.sender, [...Array.from({ length: MAX_UPGRADES - 1 }, () => bad), approval]) });
  assert.equal(full.service.state, 'serving', JSON.stringify(full.service.failure));
  assert.deepEqual(full.service.upgrades().upgrades, [approval]);
});

test('two approvals of one statement at once: both callers are answered the approval kept and published', async () => {
  const w = await handoffWorld();
  const [alice, bob, carol] = w.members as [Member, Member, Member];
  const s = w.sender.service;
  const [first, second] = await Promise.all([
    s.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, bob])),
    s.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, carol])),
  ]);
  assert.deepEqual(s.upgrades().upgrades, [first]);
  assert.deepEqual(second, first);
});

test('the 65th statement is refused (RateLimited) before anything changes: the marks stay, nothing is kept', async () => {
  const w = await handoffWorld();
  const [alice, bob] = w.members as [Member, Member, Member];
  const s = w.sender.service;
  for (let i = 0; i < MAX_UPGRADES; i++) {
    const digest = new Uint8Array(48).fill(0x10).map((x, j) => (j === 0 ? i : x));
    await s.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, digest], [alice, bob]));
  }
  const kept = s.upgrades().upgrades;
  assert.equal(kept.length, MAX_UPGRADES);
  // alice and bob rotate; the 65th statement comes with their newer logs.
  const oldAlice: Member = { ...alice, log: [...alice.log] };
  const oldBob: Member = { ...bob, log: [...bob.log] };
  await rotateSigningKey(alice);
  await rotateSigningKey(bob);
  assert.equal(await code(s.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_C], [alice, bob]))), 'RateLimited');
  assert.deepEqual(s.upgrades().upgrades, kept);
  // The marks did not move to the rotated heads: the logs the enclave last acted on are still accepted.
  const record = withLogs(cosignBy(draftFor('after a refused upgrade'), oldAlice, oldBob), [oldAlice, oldBob]);
  assert.equal(await code(s.signRecord(record as never)), 'ok');
  // A statement already kept is still answered with its approval.
  assert.equal(await code(s.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, new Uint8Array(48).fill(0x10).map((x, j) => (j === 0 ? 0 : x))], [oldAlice, oldBob]))), 'ok');
});

test('an approval refused because its logs are too large to publish (UpgradeInvalid) changes nothing: the marks stay', async () => {
  const w = await handoffWorld();
  const [alice, bob] = w.members as [Member, Member, Member];
  const s = w.sender.service;
  const oldAlice: Member = { ...alice, log: [...alice.log] };
  // About 100 key rotations: alice's audit log alone weighs more than an approval may publish.
  while (JSON.stringify(alice.log).length <= MAX_PUBLISHED_UPGRADE_BYTES) await rotateSigningKey(alice);
  assert.equal(await code(s.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, bob]))), 'UpgradeInvalid');
  assert.deepEqual(s.upgrades().upgrades, []);
  const record = withLogs(cosignBy(draftFor('after a refused upgrade'), oldAlice, bob), [oldAlice, bob]);
  assert.equal(await code(s.signRecord(record as never)), 'ok');
});

test('the public verifier requires the statement CID: an approval without it, or naming another statement, is refused', async () => {
  const w = await handoffWorld();
  const [alice, bob] = w.members as [Member, Member, Member];
  const approval = await w.sender.service.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, bob]));
  const other = await w.sender.service.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_C], [alice, bob]));
  const identity = w.sender.service.identity();
  const codeOf = (u: unknown) => {
    const v = verifyUpgrade(identity, u);
    return v.ok ? 'ok' : v.error.code;
  };
  assert.equal(codeOf(approval), 'ok');
  const { statementCid: _dropped, ...unnamed } = approval;
  assert.equal(codeOf(unnamed), 'UpgradeInvalid');
  assert.equal(codeOf({ ...approval, statementCid: null }), 'UpgradeInvalid');
  assert.equal(codeOf({ ...approval, statementCid: CID.parse(approval.statementCid).bytes }), 'UpgradeInvalid');
  // The statement and receipt of one approval under the CID of another: refused at the statement.
  assert.equal(codeOf({ ...approval, statementCid: other.statementCid }), 'UpgradeInvalid');
  assert.equal(codeOf({ ...other, receipt: approval.receipt, statementCid: approval.statementCid }), 'UpgradeInvalid');
});
