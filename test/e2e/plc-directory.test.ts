/**
 * Live did:plc end to end: a real PostgreSQL cluster and the real PLC
 * directory server (@did-plc/server) on loopback, no mock directory.
 *
 * Member DIDs are registered with the directory, members add their
 * `#encumber` keys with `encumber member add-key --directory URL` (the CLI
 * really submits the signed operation), and the service, booted through the
 * composition root in `fetch` mode, reads `/:did/log/audit` and signs when
 * two members co-sign. After a key rotation in the directory the old key is
 * refused on the very next request; with the directory down the service
 * fails closed (503) and keeps serving.
 *
 * Under CI=true these tests must run; elsewhere they skip when PostgreSQL is
 * missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIVE_COLLECTION, LIVE_ORG, auditLogFrom, liveDirectorySkip, liveDraft, signDraft, startPlcDirectory, startPostgres, type PlcDirectory, type Postgres } from '../support/plc-directory.ts';
import { runCli } from '../support/cli.ts';
import { generateMemberKey, type MemberKey } from '../../src/member/keys.ts';
import { createMemberDid } from '../../src/member/plc-ops.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { bootService } from '../../src/enclave/boot.ts';
import { createApp } from '../../src/server/app.ts';
import { verifyAuditLog } from '../../src/plc/verify.ts';
import { echoAttestor } from '../support/world.ts';
import { auditReceiptHead } from '../../src/plc/freshness.ts';
import type { PlcAuditEntry } from '../../src/plc/types.ts';

const ORG = LIVE_ORG;
const COLLECTION = LIVE_COLLECTION;

const skip = liveDirectorySkip();

interface LiveMember {
  did: string;
  rotationKey: MemberKey;
  memberKey: MemberKey;
}

let pg: Postgres | undefined;
let plc: PlcDirectory | undefined;
let dir: string;
const members: LiveMember[] = [];

const auditLog = (did: string) => auditLogFrom(plc!.url, did);

/** `encumber member add-key --directory URL`: adds (or replaces) `#encumber` → a fresh key. */
async function addKeyWithCli(m: { did: string; rotationKey: MemberKey }, keyId = 'encumber'): Promise<MemberKey> {
  const key = generateMemberKey();
  const logFile = join(dir, `${m.did.slice(8)}.log.json`);
  writeFileSync(logFile, JSON.stringify(await auditLog(m.did)));
  const rotFile = join(dir, `${m.did.slice(8)}.rot.key`);
  writeFileSync(rotFile, m.rotationKey.toKeyFile());
  const r = await runCli([
    'member', 'add-key', '--did', m.did, '--log', logFile, '--rotation-key', rotFile,
    '--member-key', key.did, '--key-id', keyId, '--directory', plc!.url, '--out', join(dir, 'op.json'),
  ]);
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.match(r.err.join('\n'), /accepted by the directory/);
  return key;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'encumber-live-'));
  pg = await startPostgres();
  plc = await startPlcDirectory(pg.url);
  for (const handle of ['ann.test', 'ben.test', 'cat.test']) {
    const rotationKey = generateMemberKey();
    const { did, op } = await createMemberDid({ rotationKey, signingKey: generateMemberKey(), handle, pds: 'https://pds.example' });
    const res: Response = await fetch(`${plc.url}/${encodeURIComponent(did)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(op),
    });
    assert.equal(res.status, 200, await res.text());
    const memberKey = await addKeyWithCli({ did, rotationKey });
    members.push({ did, rotationKey, memberKey });
  }
}, { timeout: 120_000 });

after(async () => {
  await plc?.stop().catch(() => {});
  await pg?.stop().catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function liveApp(source: 'fetch' | 'supplied' = 'fetch') {
  const policy = parsePolicy({
    $type: 'dev.encumber.policy',
    version: 1,
    repository: ORG,
    signers: members.map((m) => ({ did: m.did, keyId: 'encumber' })),
    threshold: 2,
    collections: [COLLECTION],
    plc: { directory: plc!.url, source },
    limits: { maxRecordBytes: 10_000 },
  });
  const service = bootService({ policy, attestor: echoAttestor, directory: { timeoutMs: 2000 } });
  return createApp({ service, logger: () => {} });
}

const draft = liveDraft;
const signWith = signDraft;
const sign = (app: ReturnType<typeof liveApp>, text: string, ...signers: [string, MemberKey][]) => signDraft(app, liveDraft(text), ...signers);

const as = (m: LiveMember): [string, MemberKey] => [m.did, m.memberKey];

test('live directory: the member keys added with `member add-key --directory` are in the served logs', { skip }, async () => {
  for (const m of members) {
    const log = await auditLog(m.did);
    assert.equal(log.length, 2, 'genesis + add-key');
    const v = verifyAuditLog(m.did, log);
    assert.ok(v.ok, v.ok ? '' : v.error.message);
    assert.equal(v.state.verificationMethods.encumber, m.memberKey.did);
  }
});

test('live directory, fetch mode: two members co-sign, the enclave signs, the receipt names the directory heads', { skip }, async () => {
  const app = liveApp();
  const [a, b] = members as [LiveMember, LiveMember];
  const r = await sign(app, 'signed against the real directory', as(a), as(b));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.record.signatures.length, 3);
  const heads = new Map<string, string>();
  for (const m of [a, b]) {
    const log = (await auditLog(m.did)) as { cid: string }[];
    heads.set(m.did, log.at(-1)!.cid);
  }
  const receiptHeads = r.json.receipt.heads as { did: string; cid: { $link: string } | string }[];
  assert.equal(receiptHeads.length, 2);
  for (const h of receiptHeads) {
    const cid = typeof h.cid === 'string' ? h.cid : h.cid.$link;
    assert.equal(cid, heads.get(h.did));
  }
  // One co-signature is not enough.
  const one = await sign(app, 'one is not enough', as(a));
  assert.equal(one.status, 422);
  assert.equal(one.json.error, 'InsufficientCosigners');
});

test('live directory: after a key rotation in the directory, the old key is refused on the next request', { skip }, async () => {
  const app = liveApp();
  const [a, b] = members as [LiveMember, LiveMember];
  assert.equal((await sign(app, 'before rotation', as(a), as(b))).status, 200);
  const oldKey = a.memberKey;
  a.memberKey = await addKeyWithCli(a);
  const stale = await sign(app, 'with the rotated-out key', [a.did, oldKey], as(b));
  assert.equal(stale.status, 422, JSON.stringify(stale.json));
  assert.equal(stale.json.error, 'InvalidCosignature');
  assert.equal(stale.json.record, undefined);
  const fresh = await sign(app, 'with the new key', as(a), as(b));
  assert.equal(fresh.status, 200, JSON.stringify(fresh.json));
});

test('live directory: an unregistered co-signer DID is MissingPlcLog (422)', { skip }, async () => {
  const app = liveApp();
  const ghost = generateMemberKey();
  const { did } = await createMemberDid({ rotationKey: ghost, signingKey: ghost, handle: 'ghost.test', pds: 'https://pds.example' });
  const policy = parsePolicy({
    $type: 'dev.encumber.policy',
    version: 1,
    repository: ORG,
    signers: [...members.map((m) => ({ did: m.did, keyId: 'encumber' })), { did, keyId: 'encumber' }],
    threshold: 2,
    collections: [COLLECTION],
    plc: { directory: plc!.url, source: 'fetch' },
    limits: { maxRecordBytes: 10_000 },
  });
  const ghostApp = createApp({ service: bootService({ policy, attestor: echoAttestor, directory: { timeoutMs: 2000 } }), logger: () => {} });
  const r = await sign(ghostApp, 'ghost', [did, ghost], as(members[0]!));
  assert.equal(r.status, 422, JSON.stringify(r.json));
  assert.equal(r.json.error, 'MissingPlcLog');
  assert.equal((await sign(app, 'others still fine', as(members[0]!), as(members[1]!))).status, 200);
});

test('live directory down: 503 DirectoryUnavailable, no signature, health still answers, and signing resumes when it is back', { skip, timeout: 60_000 }, async () => {
  const app = liveApp();
  const [a, b] = members as [LiveMember, LiveMember];
  await plc!.stop();
  try {
    const r = await sign(app, 'while the directory is down', as(a), as(b));
    assert.equal(r.status, 503, JSON.stringify(r.json));
    assert.equal(r.json.error, 'DirectoryUnavailable');
    assert.equal(r.json.record, undefined);
    assert.equal((await app.request('/xrpc/_health')).status, 200);
  } finally {
    await plc!.start();
  }
  assert.equal((await sign(app, 'directory back', as(a), as(b))).status, 200);
});

async function auditCli(answer: unknown, ...extra: string[]) {
  const file = join(dir, `answer-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(answer));
  return runCli(['audit', file, '--directory', plc!.url, '--json', ...extra]);
}

test('audit RECEIPT --directory: a receipt from fetch mode is fresh (exit 0, signature valid)', { skip }, async () => {
  const [a, b] = members as [LiveMember, LiveMember];
  const app = liveApp();
  // The auditor brings the enclave key (from the identity whose attestation it checked), never the document's.
  const key = ['--key', ((await (await app.request('/xrpc/dev.encumber.getIdentity')).json()) as { key: string }).key];
  const r = await sign(app, 'to be audited', as(a), as(b));
  assert.equal(r.status, 200);
  const out = await auditCli(r.json, ...key);
  assert.equal(out.code, 0, out.err.join('\n'));
  const report = JSON.parse(out.out.join('\n'));
  assert.equal(report.fresh, true);
  assert.equal(report.signature, 'valid');
  assert.deepEqual(report.heads.map((h: any) => h.verdict), ['fresh', 'fresh']);
  // The published record (its enclave entry) works as input too.
  assert.equal((await auditCli(r.json.record, ...key)).code, 0);
  assert.equal(JSON.parse((await auditCli(r.json)).out.join('\n')).signature, 'not checked', 'without a key from the auditor');
  // A receipt whose signature does not verify is not fresh evidence.
  const forged = structuredClone(r.json);
  forged.receipt.signedAt = new Date(Date.parse(forged.receipt.signedAt) + 1).toISOString();
  const bad = await auditCli(forged, ...key);
  assert.equal(bad.code, 1);
  assert.equal(JSON.parse(bad.out.join('\n')).signature, 'invalid');
});

test('audit RECEIPT --directory: an enclave fed a stale log (supplied mode, before a rotation) is reported stale (exit 1)', { skip }, async () => {
  const [a, b] = members as [LiveMember, LiveMember];
  // The host kept a's log from before the rotation and feeds it with the old key.
  const oldLog = await auditLog(a.did);
  const oldKey = a.memberKey;
  a.memberKey = await addKeyWithCli(a);
  const rotation = ((await auditLog(a.did)) as PlcAuditEntry[]).at(-1)!;
  const d = { ...draft('fed a stale log'), plcLogs: { [a.did]: oldLog, [b.did]: await auditLog(b.did) } };
  const r = await signWith(liveApp('supplied'), d, [a.did, oldKey], as(b));
  assert.equal(r.status, 200, 'the enclave cannot tell in supplied mode: that is what the audit is for');
  const out = await auditCli(r.json);
  assert.equal(out.code, 1, out.err.join('\n'));
  const report = JSON.parse(out.out.join('\n'));
  assert.equal(report.fresh, false);
  const ha = report.heads.find((h: any) => h.did === a.did);
  assert.equal(ha.verdict, 'stale');
  assert.deepEqual(ha.newer.map((n: any) => n.cid), [rotation.cid]);
  assert.equal(report.heads.find((h: any) => h.did === b.did).verdict, 'fresh');
  // Text output says so too.
  const file = join(dir, 'stale.json');
  writeFileSync(file, JSON.stringify(r.json));
  const text = await runCli(['audit', file, '--directory', plc!.url]);
  assert.equal(text.code, 1);
  assert.match(text.out.join('\n'), /STALE did:plc:/);
});

test('auditReceiptHead: a head the directory no longer has is unknown-head; ops after signedAt do not count', () => {
  const e = (cid: string, createdAt: string): PlcAuditEntry =>
    ({ did: 'did:plc:x', cid, createdAt, nullified: false, operation: {} as never });
  const log = [e('g', '2026-01-01T00:00:00.000Z'), e('h', '2026-01-02T00:00:00.000Z'), e('n', '2026-01-03T00:00:00.000Z')];
  const head = (cid: string) => ({ did: 'did:plc:x', cid, createdAt: '' });
  assert.equal(auditReceiptHead(log, head('zz'), '2026-01-05T00:00:00.000Z').verdict, 'unknown-head');
  assert.equal(auditReceiptHead(log, head('h'), '2026-01-02T12:00:00.000Z').verdict, 'fresh');
  assert.equal(auditReceiptHead(log, head('h'), '2026-01-03T00:00:00.000Z').verdict, 'stale', 'inclusive at signedAt');
  assert.equal(auditReceiptHead(log, head('n'), '2026-01-05T00:00:00.000Z').verdict, 'fresh');
});
