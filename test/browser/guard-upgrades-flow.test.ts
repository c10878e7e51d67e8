/**
 * The page's sections for what a live enclave publishes beside its
 * attestation (src/web/published.ts through src/web/flow.ts, the code the
 * browser runs): the DID guard's signed log (as `encumber did log`) and the
 * quorum-approved upgrades (as `encumber upgrade verify`), from real services
 * in process. A log or an approval that does not verify, or an endpoint that
 * cannot be read, is a red row and a warning with the verifiers' code; the
 * record's verdict does not depend on them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFlow, type FlowInput, type FlowReport } from '../../src/web/flow.ts';
import { fetchEnclave } from '../../src/web/enclave.ts';
import { certificatePem } from '../../src/attestation/bytes.ts';
import { guardedAfterIntrusion as guardedService } from './support.ts';
import { approving, DIGEST_A, DIGEST_B, fetchInto, handoffWorld, upgradeDraft, type Exchange } from '../support/handoff.ts';
import type { Member } from '../support/world.ts';

const NONCE = new Uint8Array(32).fill(7);

function section(r: FlowReport, id: string) {
  const s = r.sections.find((x) => x.id === id);
  assert.ok(s, `no section ${id} in ${r.sections.map((x) => x.id).join(', ')}`);
  return s;
}

/** A guarded service after one reverted intrusion (as test/verifier/guard-log.test.ts makes it), checked live by the page. */
async function guardedAfterIntrusion() {
  const g = await guardedService();
  const exchanges: Exchange[] = [];
  const live = await fetchEnclave('http://enclave.test/', fetchInto(g.w.app, exchanges), NONCE);
  return { g, live, asked: exchanges.map((e) => e.path) };
}

/** The flow as the page runs it after a live check (the clock from the answer, never the wall). */
function liveInput(live: Awaited<ReturnType<typeof fetchEnclave>>, o: Partial<FlowInput> = {}): FlowInput {
  return {
    evidence: live.evidence,
    identity: live.identity,
    ...(live.guardLog ? { guardLog: live.guardLog } : {}),
    upgrades: live.upgrades,
    trust: {},
    measurements: 'any',
    at: new Date('2026-06-01T00:00:00.000Z'),
    ...o,
  };
}

test('a guarded enclave: the page asks for its guard log, and the section shows the verifier\'s rows, the log\'s time and the intrusion', async () => {
  const { g, live, asked } = await guardedAfterIntrusion();
  assert.deepEqual(asked.sort(), ['/xrpc/dev.encumber.getAttestation', '/xrpc/dev.encumber.getGuardLog', '/xrpc/dev.encumber.getIdentity', '/xrpc/dev.encumber.getUpgrades']);
  assert.equal(live.guardLog?.ok, true);
  // This world's attestor is the test echo: the verdict is the attestation's refusal, and each section says first
  // that nothing vouches for the key; the rest of the section stands alone.
  const r = await runFlow(liveInput(live));
  assert.equal(r.error?.code, 'UnknownEvidenceFormat');
  const guard = section(r, 'guard');
  assert.equal(guard.title, 'DID guard log');
  assert.deepEqual(
    guard.rows.map((x) => [x.name, x.status]),
    [
      ['enclave-key', 'warn'],
      ['identity-policy', 'pass'],
      ['identity-binding', 'pass'],
      ['guard-enabled', 'pass'],
      ['guard-log-document', 'pass'],
      ['guard-log-signature', 'pass'],
      ['guard-intrusions', 'pass'],
      ['guard-intrusion', 'pass'],
    ],
  );
  const log = (live.guardLog as { value: Record<string, any> }).value;
  const entry = log.entries[0];
  const summary = guard.rows.find((x) => x.name === 'guard-intrusions')!;
  assert.ok(summary.detail.includes(log.signedAt) && summary.detail.includes(g.org), summary.detail);
  const row = guard.rows.find((x) => x.name === 'guard-intrusion')!;
  for (const part of [entry.intruder.cid, entry.intruder.signer, 'reverted', entry.recovery.cid]) assert.ok(row.detail.includes(part), `${part} in ${row.detail}`);
  assert.ok(!r.warnings.some((w) => /guard/i.test(w)), 'a verified log with every intrusion reverted warns of nothing');
  // The upgrades section is there too: none published.
  assert.deepEqual(section(r, 'upgrades').rows.map((x) => [x.name, x.status, x.detail.startsWith('none published')]), [
    ['enclave-key', 'warn', false],
    ['upgrades', 'pass', true],
  ]);
});

test('a tampered guard log: a red row with ReceiptInvalid, and a warning in plain words', async () => {
  const { live } = await guardedAfterIntrusion();
  const log = structuredClone((live.guardLog as { value: Record<string, any> }).value);
  log.entries[0].outcome = 'failed';
  const r = await runFlow(liveInput(live, { guardLog: { ok: true, value: log } }));
  const rows = section(r, 'guard').rows;
  const failed = rows.filter((x) => x.status === 'fail');
  assert.deepEqual(failed.map((x) => x.name), ['guard-log-signature']);
  assert.match(failed[0]!.detail, /^ReceiptInvalid: /);
  assert.ok(!rows.some((x) => x.name === 'guard-intrusion'), 'no entry of an unverified log is shown as fact');
  const warning = r.warnings.find((w) => /guard's public log does NOT verify/.test(w));
  assert.ok(warning, r.warnings.join('\n'));
  assert.match(warning, /\(ReceiptInvalid\)/);
  assert.match(warning, /changed after the enclave signed it/);
});

test('an identity without a guard key: the page does not ask for a guard log, and shows no guard section', async () => {
  const w = await handoffWorld();
  const exchanges: Exchange[] = [];
  const live = await fetchEnclave('http://enclave.test', fetchInto(w.sender.app, exchanges), NONCE);
  assert.equal(live.identity.guardKey, undefined);
  assert.ok(!exchanges.some((e) => e.path.endsWith('getGuardLog')));
  const r = await runFlow(liveInput(live, { trust: { devRootPem: certificatePem(w.root.certificate) }, at: w.clock() }));
  assert.equal(r.valid, true, JSON.stringify(r.error));
  assert.deepEqual(r.sections.map((s) => s.id), ['attestation', 'upgrades']);
});

/** A sender with one approval published (alice and bob co-signed programs A and B), checked live with its dev root. */
async function withApproval() {
  const w = await handoffWorld();
  const [alice, bob] = w.members as [Member, Member, Member];
  const approval = await w.sender.service.approveUpgrade(upgradeDraft(w.policy.cid, [DIGEST_A, DIGEST_B], [alice, bob]));
  const live = await fetchEnclave('http://enclave.test', fetchInto(w.sender.app), NONCE);
  const input = (o: Partial<FlowInput> = {}) =>
    liveInput(live, { trust: { devRootPem: certificatePem(w.root.certificate) }, measurements: { accept: approving(DIGEST_A) }, at: w.clock(), ...o });
  return { w, alice, bob, approval, live, input };
}

test('a published upgrade approval: one passing row naming the statement CID, the approved measurements and the co-signers', async () => {
  const { approval, alice, bob, live, input } = await withApproval();
  assert.deepEqual((live.upgrades as { value: unknown }).value, { upgrades: [approval] });
  const r = await runFlow(input());
  assert.equal(r.valid, true, JSON.stringify(r.error));
  const s = section(r, 'upgrades');
  assert.equal(s.title, 'Approved upgrades');
  assert.equal(s.rows.length, 1);
  const row = s.rows[0]!;
  assert.equal(row.status, 'pass', row.detail);
  const pcr0 = (d: Uint8Array) => String(approving(d).dev[0]!.pcrs[0]).slice(0, 16);
  for (const part of [approval.statementCid, pcr0(DIGEST_A), pcr0(DIGEST_B), alice.did, bob.did]) assert.ok(row.detail.includes(part), `${part} in ${row.detail}`);
});

test('a tampered approval is refused with its code; the record\'s verdict stands, the warning says so', async () => {
  const { approval, input } = await withApproval();
  const cases: [unknown, string][] = [
    [{ ...approval, cosignatures: approval.cosignatures.slice(0, 1) }, 'InsufficientCosigners'],
    [{ ...approval, statementCid: 'bafyreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }, 'UpgradeInvalid'],
    [{ ...approval, receipt: { ...(approval.receipt as object), signedAt: '2026-06-01T00:00:01.000Z' } }, 'ReceiptInvalid'],
  ];
  for (const [bad, code] of cases) {
    const r = await runFlow(input({ upgrades: { ok: true, value: { upgrades: [approval, bad] } } }));
    assert.equal(r.valid, true, `${code}: ${JSON.stringify(r.error)}`);
    const rows = section(r, 'upgrades').rows;
    assert.deepEqual(rows.map((x) => x.status), ['pass', 'fail'], code);
    assert.match(rows[1]!.detail, new RegExp(`REFUSED .*: ${code}: `), rows[1]!.detail);
    const warning = r.warnings.find((w) => /upgrade approval\(s\) do NOT verify/.test(w));
    assert.ok(warning?.includes(code), r.warnings.join('\n'));
    assert.match(warning!, /record's verdict does not depend on it/);
  }
});

test('an endpoint that cannot be read: a red row naming it and its code, a warning, and the record check unharmed', async () => {
  const { w, input } = await withApproval();
  const failing = ((url: string | URL | Request, init?: RequestInit) =>
    String(url).includes('getUpgrades') ? Promise.reject(new TypeError('connection refused')) : fetchInto(w.sender.app)(url, init)) as typeof fetch;
  const live = await fetchEnclave('http://enclave.test', failing, NONCE);
  assert.equal(live.upgrades.ok, false);
  const down = { ok: false as const, error: { code: 'RemoteUnavailable' as const, message: 'getGuardLog: HTTP 503 ServiceNotReady' } };
  const r = await runFlow(input({ evidence: live.evidence, upgrades: live.upgrades, guardLog: down }));
  assert.equal(r.valid, true, JSON.stringify(r.error));
  const upgrades = section(r, 'upgrades').rows;
  assert.deepEqual(upgrades.map((x) => [x.name, x.status]), [['upgrades', 'fail']]);
  assert.match(upgrades[0]!.detail, /^getUpgrades could not be read: RemoteUnavailable: /);
  // A guard log that cannot be read (here, for an identity that names no guard: the flow shows what it is given).
  assert.match(section(r, 'guard').rows[0]!.detail, /^getGuardLog could not be read: RemoteUnavailable: .*ServiceNotReady/);
  assert.ok(r.warnings.some((w) => /approved upgrades could not be read \(RemoteUnavailable\)/.test(w)), r.warnings.join('\n'));
  assert.ok(r.warnings.some((w) => /guard's public log could not be read/.test(w)), r.warnings.join('\n'));
});

test('a refused attestation: the verdict is the attestation\'s; the published sections are shown, saying first that the key is not attested', async () => {
  const { input } = await withApproval();
  const r = await runFlow(input({ trust: {} }));
  assert.equal(r.valid, false);
  assert.equal(r.error?.code, 'UntrustedRoot');
  const rows = section(r, 'upgrades').rows;
  assert.deepEqual(rows.map((x) => [x.name, x.status]), [['enclave-key', 'warn'], ['upgrade', 'pass']]);
  assert.match(rows[0]!.detail, /^NOT attested/);
});
