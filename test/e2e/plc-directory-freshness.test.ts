/**
 * DID-chain freshness against real PLC directories (PostgreSQL + the real
 * @did-plc/server on loopback): the cache bound `plc.maxCacheAgeSeconds`,
 * multi-source agreement (`plc.mirrors`, `PlcSourcesDisagree`) with two real
 * directory instances and a small proxy of ours that withholds the newest
 * operation, per-DID high-water marks in fetch mode (shorter log, fork away
 * from the mark), and fail-closed answers from a misbehaving path to the
 * directory.
 *
 * Under CI=true these tests must run; elsewhere they skip when PostgreSQL is
 * missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIVE_COLLECTION, LIVE_ORG, auditLogFrom, liveDirectorySkip, liveDraft, signDraft, startPlcDirectory, startPostgres, type PlcDirectory, type Postgres, postOperation } from '../support/plc-directory.ts';
import { runCli } from '../support/cli.ts';
import { echoAttestor } from '../support/world.ts';
import { generateMemberKey, type MemberKey } from '../../src/member/keys.ts';
import { addKeyOp, createMemberDid } from '../../src/member/plc-ops.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { bootService } from '../../src/enclave/boot.ts';
import { createApp } from '../../src/server/app.ts';
import { cidForValue } from '../../src/data/cid.ts';
import type { PlcAuditEntry, PlcOperation } from '../../src/plc/types.ts';

const ORG = LIVE_ORG;
const COLLECTION = LIVE_COLLECTION;

const skip = liveDirectorySkip();

interface LiveMember {
  did: string;
  rotationKey: MemberKey;
  memberKey: MemberKey;
  genesis: PlcOperation;
}

/** Each directory request's timeout signal; the proxy's 'slow' mode fires them (the test's clock, not the wall clock). */
const fetchClocks: AbortController[] = [];
const fetchClock = (): AbortSignal => {
  const c = new AbortController();
  fetchClocks.push(c);
  return c.signal;
};
/** Requests the 'slow' proxy never answers, ended when the proxy closes. */
const held: ServerResponse[] = [];

type ProxyMode = 'pass' | 'withhold' | 'slow' | 'garbage' | 'huge' | 'tampered' | 'fork' | 'down';

/** A small HTTP proxy in front of a real directory that can misbehave on `/:did/log/audit`. */
interface Proxy {
  url: string;
  mode: ProxyMode;
  requests: number;
  close(): Promise<void>;
}

let pg: Postgres | undefined;
let main: PlcDirectory | undefined;
let mirror: PlcDirectory | undefined;
const proxies: Proxy[] = [];
let dir: string;
const members: LiveMember[] = [];
/** The services' clock runs this far ahead of real time (the cache bound is tested by moving it). */
let clockOffsetMs = 0;

const auditLog = auditLogFrom;

/**
 * `encumber member add-key --directory MAIN`: replaces `#encumber` with a
 * fresh key; the same signed op goes to the mirror unless `replicate` is false.
 */
async function rotate(m: { did: string; rotationKey: MemberKey }, replicate = true): Promise<MemberKey> {
  const key = generateMemberKey();
  const logFile = join(dir, `${m.did.slice(8)}.log.json`);
  writeFileSync(logFile, JSON.stringify(await auditLog(main!.url, m.did)));
  const rotFile = join(dir, `${m.did.slice(8)}.rot.key`);
  writeFileSync(rotFile, m.rotationKey.toKeyFile());
  const opFile = join(dir, `${m.did.slice(8)}.op.json`);
  const r = await runCli([
    'member', 'add-key', '--did', m.did, '--log', logFile, '--rotation-key', rotFile,
    '--member-key', key.did, '--key-id', 'encumber', '--directory', main!.url, '--out', opFile,
  ]);
  assert.equal(r.code, 0, r.err.join('\n'));
  if (replicate) await postOperation(mirror!.url, m.did, JSON.parse(readFileSync(opFile, 'utf8')));
  return key;
}

/** Bring the mirror up to the main directory's state for `did` (replays the ops it lacks). */
async function catchUp(did: string): Promise<void> {
  const have = new Set((await auditLog(mirror!.url, did)).map((e) => e.cid));
  for (const e of await auditLog(main!.url, did)) if (!have.has(e.cid)) await postOperation(mirror!.url, did, e.operation);
}

async function startProxy(target: string): Promise<Proxy> {
  const proxy: Proxy = { url: '', mode: 'pass', requests: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    proxy.requests++;
    const mode = proxy.mode;
    if (mode === 'down') return res.writeHead(502).end('bad gateway');
    if (mode === 'slow') {
      // The directory has not answered when the service's fetch clock runs out: fire it now (no real waiting), and
      // never answer this request.
      for (const c of fetchClocks.splice(0)) c.abort(new DOMException('the test clock says the time is up', 'TimeoutError'));
      held.push(res);
      return;
    }
    if (mode === 'garbage') return res.writeHead(200, { 'content-type': 'application/json' }).end('[{"did":');
    if (mode === 'huge') return res.writeHead(200, { 'content-type': 'application/json' }).end('[' + '"x",'.repeat(600_000) + '"x"]');
    const upstream = await fetch(target + req.url);
    const body = await upstream.text();
    if (upstream.status !== 200 || !req.url?.endsWith('/log/audit') || mode === 'pass') {
      return res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(body);
    }
    let log = JSON.parse(body) as PlcAuditEntry[];
    const m = members.find((x) => x.did === log[0]?.did);
    if (mode === 'withhold') log = log.slice(0, -1);
    if (mode === 'tampered') (log.at(-1)!.operation as { alsoKnownAs: string[] }).alsoKnownAs = ['at://mallory.test'];
    if (mode === 'fork' && m) {
      // A valid history that never had the newest ops: the genesis and an op of
      // the host's choosing, signed by the rotation key it once obtained.
      const op = await addKeyOp(m.genesis, m.rotationKey, 'encumber', generateMemberKey().did);
      const createdAt = new Date(Date.parse(log[0]!.createdAt) + 1).toISOString();
      log = [log[0]!, { did: m.did, operation: op, cid: cidForValue(op).toString(), nullified: false, createdAt }];
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(log));
  };
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise<void>((ok) => (server.closeAllConnections(), server.close(() => ok())));
  proxies.push(proxy);
  return proxy;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'encumber-fresh-'));
  pg = await startPostgres();
  const mirrorDb = pg.createDatabase('mirror');
  [main, mirror] = await Promise.all([startPlcDirectory(pg.url), startPlcDirectory(mirrorDb)]);
  for (const handle of ['dee.test', 'eve.test', 'fay.test']) {
    const rotationKey = generateMemberKey();
    const { did, op } = await createMemberDid({ rotationKey, signingKey: generateMemberKey(), handle, pds: 'https://pds.example' });
    await postOperation(main.url, did, op);
    await postOperation(mirror.url, did, op);
    members.push({ did, rotationKey, genesis: op, memberKey: await rotate({ did, rotationKey }) });
  }
}, { timeout: 120_000 });

after(async () => {
  for (const p of proxies) await p.close().catch(() => {});
  await Promise.all([main?.stop(), mirror?.stop()].map((p) => p?.catch(() => {})));
  await pg?.stop().catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function liveApp(plc: Record<string, unknown>) {
  const policy = parsePolicy({
    $type: 'dev.encumber.policy',
    version: 1,
    repository: ORG,
    signers: members.map((m) => ({ did: m.did, keyId: 'encumber' })),
    threshold: 2,
    collections: [COLLECTION],
    plc: { source: 'fetch', ...plc },
    limits: { maxRecordBytes: 10_000 },
  });
  const service = bootService({ policy, attestor: echoAttestor, clock: () => new Date(Date.now() + clockOffsetMs), directory: { timeoutMs: 700, timeoutSignal: fetchClock } });
  return createApp({ service, logger: () => {} });
}

const sign = (app: ReturnType<typeof liveApp>, text: string, ...signers: [string, MemberKey][]) => signDraft(app, liveDraft(text), ...signers);

const as = (m: LiveMember): [string, MemberKey] => [m.did, m.memberKey];

test('cache: a verified state is reused only while younger than plc.maxCacheAgeSeconds, then the rotation is seen', { skip }, async () => {
  clockOffsetMs = 0;
  const counter = await startProxy(main!.url);
  const app = liveApp({ directory: counter.url, maxCacheAgeSeconds: 30 });
  const [a, b] = members as [LiveMember, LiveMember];
  assert.equal((await sign(app, 'first', as(a), as(b))).status, 200);
  assert.equal(counter.requests, 2);
  assert.equal((await sign(app, 'cached', as(a), as(b))).status, 200);
  assert.equal(counter.requests, 2, 'within the bound the cached states are reused');

  const oldKey = a.memberKey;
  a.memberKey = await rotate(a);
  clockOffsetMs = 10_000;
  // Inside the bound the rotation is not yet seen: this is the window the policy accepts.
  const inWindow = await sign(app, 'new key, stale cache', as(a), as(b));
  assert.equal(inWindow.status, 422);
  assert.equal(inWindow.json.error, 'InvalidCosignature');

  clockOffsetMs = 30_000;
  const stale = await sign(app, 'old key after the bound', [a.did, oldKey], as(b));
  assert.equal(stale.status, 422, JSON.stringify(stale.json));
  assert.equal(stale.json.error, 'InvalidCosignature');
  assert.equal(counter.requests, 4, 'both entries expired and were read again');
  assert.equal((await sign(app, 'new key after the bound', as(a), as(b))).status, 200);
  clockOffsetMs = 0;
});

test('cache: without maxCacheAgeSeconds every request reads the directory (rotation refused on the next request)', { skip }, async () => {
  const counter = await startProxy(main!.url);
  const app = liveApp({ directory: counter.url });
  const [a, b] = members as [LiveMember, LiveMember];
  assert.equal((await sign(app, 'one', as(a), as(b))).status, 200);
  assert.equal((await sign(app, 'two', as(a), as(b))).status, 200);
  assert.equal(counter.requests, 4);
  const oldKey = a.memberKey;
  a.memberKey = await rotate(a);
  const r = await sign(app, 'old key', [a.did, oldKey], as(b));
  assert.equal(r.status, 422);
  assert.equal(r.json.error, 'InvalidCosignature');
});

test('mirrors: two real directories that agree → signed; the receipt names the common heads', { skip }, async () => {
  const app = liveApp({ directory: main!.url, mirrors: [mirror!.url] });
  const [a, b] = members as [LiveMember, LiveMember];
  const r = await sign(app, 'agreed', as(a), as(b));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  for (const h of r.json.receipt.heads as { did: string; cid: string | { $link: string } }[]) {
    const cid = typeof h.cid === 'string' ? h.cid : h.cid.$link;
    assert.equal(cid, (await auditLog(mirror!.url, h.did)).at(-1)!.cid);
  }
});

test('mirrors: a mirror behind a proxy that withholds the newest op → 503 PlcSourcesDisagree, no signature; signing resumes when it stops', { skip }, async () => {
  const withholding = await startProxy(mirror!.url);
  const app = liveApp({ directory: main!.url, mirrors: [withholding.url] });
  const [a, b] = members as [LiveMember, LiveMember];
  withholding.mode = 'withhold';
  const r = await sign(app, 'withheld', as(a), as(b));
  assert.equal(r.status, 503, JSON.stringify(r.json));
  assert.equal(r.json.error, 'PlcSourcesDisagree');
  assert.equal(r.json.record, undefined);
  withholding.mode = 'pass';
  assert.equal((await sign(app, 'no longer withheld', as(a), as(b))).status, 200);
});

test('mirrors: the main directory withholding (mirror ahead) is refused the same way', { skip }, async () => {
  const withholding = await startProxy(main!.url);
  const app = liveApp({ directory: withholding.url, mirrors: [mirror!.url] });
  const [a, b] = members as [LiveMember, LiveMember];
  withholding.mode = 'withhold';
  const r = await sign(app, 'main withheld', as(a), as(b));
  assert.equal(r.status, 503);
  assert.equal(r.json.error, 'PlcSourcesDisagree');
});

test('mirrors: a real mirror that has not yet seen a rotation → PlcSourcesDisagree until it catches up', { skip }, async () => {
  const app = liveApp({ directory: main!.url, mirrors: [mirror!.url] });
  const [a, b] = members as [LiveMember, LiveMember];
  a.memberKey = await rotate(a, false);
  const r = await sign(app, 'mirror lags', as(a), as(b));
  assert.equal(r.status, 503, JSON.stringify(r.json));
  assert.equal(r.json.error, 'PlcSourcesDisagree');
  await catchUp(a.did);
  assert.equal((await sign(app, 'mirror caught up', as(a), as(b))).status, 200);
});

test('high-water marks in fetch mode: after a head is used, a shorter log or a fork away from it is StalePlcLog', { skip }, async () => {
  const host = await startProxy(main!.url);
  const app = liveApp({ directory: host.url });
  const [a, b] = members as [LiveMember, LiveMember];
  assert.equal((await sign(app, 'marks set', as(a), as(b))).status, 200);
  for (const mode of ['withhold', 'fork'] as const) {
    host.mode = mode;
    const r = await sign(app, `replayed: ${mode}`, as(a), as(b));
    assert.equal(r.status, 422, `${mode}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error, 'StalePlcLog', mode);
    assert.equal(r.json.record, undefined);
  }
  host.mode = 'pass';
  assert.equal((await sign(app, 'honest again', as(a), as(b))).status, 200);
});

for (const [mode, status, code] of [
  ['down', 503, 'DirectoryUnavailable'],
  ['slow', 503, 'DirectoryUnavailable'],
  ['huge', 503, 'DirectoryUnavailable'],
  ['garbage', 503, 'DirectoryUnavailable'],
  ['tampered', 422, 'InvalidPlcLog'],
] as const) {
  test(`fail closed on the path to the real directory (${mode}): ${status} ${code}, and the service keeps serving`, { skip }, async () => {
    const host = await startProxy(main!.url);
    const app = liveApp({ directory: host.url });
    const [a, b] = members as [LiveMember, LiveMember];
    host.mode = mode;
    const r = await sign(app, `while ${mode}`, as(a), as(b));
    assert.equal(r.status, status, JSON.stringify(r.json));
    assert.equal(r.json.error, code);
    assert.equal(r.json.record, undefined);
    host.mode = 'pass';
    assert.equal((await sign(app, `after ${mode}`, as(a), as(b))).status, 200);
  });
}

test('mirrors: any one source failing fails the request (no majority, the host must not pick the subset)', { skip }, async () => {
  const flaky = await startProxy(mirror!.url);
  const app = liveApp({ directory: main!.url, mirrors: [flaky.url] });
  const [a, b] = members as [LiveMember, LiveMember];
  flaky.mode = 'down';
  const r = await sign(app, 'mirror down', as(a), as(b));
  assert.equal(r.status, 503);
  assert.equal(r.json.error, 'DirectoryUnavailable');
  flaky.mode = 'pass';
  assert.equal((await sign(app, 'mirror back', as(a), as(b))).status, 200);
});

test('cache: a clock that went backwards makes the entry stale, not fresh', { skip }, async () => {
  const counter = await startProxy(main!.url);
  const app = liveApp({ directory: counter.url, maxCacheAgeSeconds: 60 });
  const [a, b] = members as [LiveMember, LiveMember];
  clockOffsetMs = 5_000;
  assert.equal((await sign(app, 'ahead', as(a), as(b))).status, 200);
  clockOffsetMs = 0;
  assert.equal((await sign(app, 'back', as(a), as(b))).status, 200);
  assert.equal(counter.requests, 4, 'read again after the clock moved back');
});
