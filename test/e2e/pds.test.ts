/**
 * The reference atproto PDS (@atproto/pds, test/pds/ under its pinned Node 22) on loopback, against the real PLC
 * directory on a throwaway PostgreSQL: an account is created (the PDS registers its did:plc with the directory),
 * a post is written and read back, its sync record proof comes as a CAR, and the directory's DID document points at
 * the PDS. The PDS listens on 127.0.0.1 only.
 *
 * Under CI=true this must run (.ci/run installs test/pds first); elsewhere it skips when a prerequisite is missing,
 * and installs test/pds itself when its lockfile changed (about two minutes: better-sqlite3 is compiled).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type PlcDirectory, type Postgres, startPlcDirectory, startPostgres } from '../support/plc-directory.ts';
import { ensurePdsInstalled, type Pds, type PdsAccount, pdsSkip, startPds } from '../support/pds.ts';

const skip = pdsSkip();

let pg: Postgres | undefined;
let plc: PlcDirectory | undefined;
let pds: Pds | undefined;
let account: PdsAccount;
const HANDLE = 'org.test';
const PASSWORD = 'correct horse battery staple';

before(
  async () => {
    if (skip) return;
    await ensurePdsInstalled();
    pg = await startPostgres();
    plc = await startPlcDirectory(pg.url);
    const t0 = Date.now();
    pds = await startPds({ plcUrl: plc.url });
    const rss = /VmRSS:\s*(\d+)/.exec(readFileSync(`/proc/${pds.listening.pid}/status`, 'utf8'))?.[1];
    process.stderr.write(`pds: started in ${Date.now() - t0} ms at ${pds.url} (Node ${pds.listening.node}, RSS ${Math.round(Number(rss) / 1024)} MiB)\n`);
    account = await pds.createAccount(HANDLE, 'org@example.com', PASSWORD);
  },
  { timeout: 600_000 },
);

after(async () => {
  await pds?.stop();
  await plc?.stop();
  await pg?.stop();
});

async function xrpc(path: string, init?: RequestInit & { token?: string }): Promise<Response> {
  const headers: Record<string, string> = { ...(init?.body ? { 'content-type': 'application/json' } : {}) };
  if (init?.token) headers.authorization = `Bearer ${init.token}`;
  return fetch(`${pds!.loopbackUrl}/xrpc/${path}`, { ...init, headers });
}

test('the PDS listens on 127.0.0.1 only, under Node 22', { skip }, () => {
  assert.equal(pds!.listening.address, '127.0.0.1');
  assert.equal(pds!.listening.family, 'IPv4');
  assert.match(pds!.listening.node, /^v22\./);
  // The kernel's view: every listening socket on the port is bound to 127.0.0.1 (none on 0.0.0.0 or [::]).
  const port = pds!.port.toString(16).toUpperCase().padStart(4, '0');
  const listeners = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${port}`))
      .map((f) => f[1]);
  assert.deepEqual(listeners('/proc/net/tcp'), [`0100007F:${port}`]);
  assert.deepEqual(listeners('/proc/net/tcp6'), []);
});

test('createAccount registers the account on the PLC directory, pointing at the PDS', { skip }, async () => {
  assert.match(account.did, /^did:plc:[a-z2-7]{24}$/);
  assert.equal(account.handle, HANDLE);
  assert.equal(pds!.url, `http://localhost:${pds!.port}`);
  const res = await fetch(`${plc!.url}/${account.did}`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { id: string; alsoKnownAs: string[]; service: { id: string; type: string; serviceEndpoint: string }[] };
  assert.equal(doc.id, account.did);
  assert.deepEqual(doc.alsoKnownAs, [`at://${HANDLE}`]);
  const service = doc.service.find((s) => s.id.endsWith('#atproto_pds'));
  assert.ok(service, `no #atproto_pds service in ${JSON.stringify(doc.service)}`);
  assert.equal(service.type, 'AtprotoPersonalDataServer');
  assert.equal(service.serviceEndpoint, pds!.url);
});

test('a session writes a post, reads it back, and the sync record proof is a CAR', { skip }, async () => {
  const session = await xrpc('com.atproto.server.createSession', { method: 'POST', body: JSON.stringify({ identifier: HANDLE, password: PASSWORD }) });
  assert.equal(session.status, 200, await session.clone().text());
  const { accessJwt, did } = (await session.json()) as { accessJwt: string; did: string };
  assert.equal(did, account.did);

  const record = { $type: 'app.bsky.feed.post', text: 'hello from encumber', createdAt: new Date().toISOString() };
  const created = await xrpc('com.atproto.repo.createRecord', {
    method: 'POST',
    token: accessJwt,
    body: JSON.stringify({ repo: did, collection: 'app.bsky.feed.post', record, validate: true }),
  });
  assert.equal(created.status, 200, await created.clone().text());
  const { uri, cid, validationStatus } = (await created.json()) as { uri: string; cid: string; validationStatus?: string };
  assert.equal(validationStatus, 'valid');
  const rkey = uri.split('/').pop()!;
  assert.equal(uri, `at://${did}/app.bsky.feed.post/${rkey}`);

  const q = new URLSearchParams({ repo: did, collection: 'app.bsky.feed.post', rkey });
  const got = await xrpc(`com.atproto.repo.getRecord?${q}`);
  assert.equal(got.status, 200, await got.clone().text());
  const body = (await got.json()) as { uri: string; cid: string; value: unknown };
  assert.equal(body.uri, uri);
  assert.equal(body.cid, cid);
  assert.deepEqual(body.value, record);

  const sq = new URLSearchParams({ did, collection: 'app.bsky.feed.post', rkey });
  const car = await xrpc(`com.atproto.sync.getRecord?${sq}`);
  assert.equal(car.status, 200);
  assert.equal(car.headers.get('content-type'), 'application/vnd.ipld.car');
  const bytes = new Uint8Array(await car.arrayBuffer());
  assert.ok(bytes.length > 0, 'empty CAR');
  // CARv1: a varint-prefixed DAG-CBOR header map { roots, version: 1 }.
  assert.ok(bytes[0]! > 0 && bytes[0]! < 0x80 && (bytes[1]! & 0xe0) === 0xa0, `not a CARv1 header: ${Buffer.from(bytes.subarray(0, 8)).toString('hex')}`);
});
