/**
 * Policy source "fetch": the service reads each co-signer's audit log from a
 * directory over HTTP (a loopback stand-in here; the real PLC server comes
 * with the live-directory issue). Every failure fails closed with 503 and
 * no signature, and the service keeps serving.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchAuditLog } from '../../src/plc/directory/client.ts';
import { cosignBy, createMember, createWorld, draftFor, policyFor, type Member, type World } from '../support/world.ts';

type Mode = 'ok' | 'down' | 'slow' | 'huge' | 'garbage' | 'missing' | 'tampered' | 'redirect';
let mode: Mode = 'ok';
let members: Member[];
let server: Server;
let directory: string;
let requests = 0;
/** The fetch timeout's clock: a fresh controller per world; 'slow' fires it while the answer is pending. */
let clock = new AbortController();
const slowRequests: import('node:http').ServerResponse[] = [];

before(async () => {
  members = [await createMember('f1.test'), await createMember('f2.test'), await createMember('f3.test')];
  server = createServer((req, res) => {
    requests++;
    const did = decodeURIComponent((req.url ?? '').split('/')[1] ?? '');
    const m = members.find((x) => x.did === did);
    if (!req.url?.endsWith('/log/audit')) return res.writeHead(400).end();
    switch (mode) {
      case 'down':
        return res.writeHead(502).end('bad gateway');
      case 'slow':
        // The directory has not answered when the client's clock runs out (no real waiting: the test's clock fires now).
        slowRequests.push(res);
        return void clock.abort(new DOMException('the test clock says the time is up', 'TimeoutError'));
      case 'huge':
        return res.writeHead(200, { 'content-type': 'application/json' }).end('[' + '"x",'.repeat(600_000) + '"x"]');
      case 'garbage':
        return res.writeHead(200).end('{not json');
      case 'missing':
        return res.writeHead(404).end('DID not registered');
      case 'redirect':
        return res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end();
      case 'tampered': {
        const log = structuredClone(m!.log);
        (log[0]!.operation as { alsoKnownAs: string[] }).alsoKnownAs = ['at://mallory.test'];
        return res.writeHead(200).end(JSON.stringify(log));
      }
      default:
        if (!m) return res.writeHead(404).end();
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(m.log));
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  directory = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  for (const res of slowRequests) res.destroy();
  return new Promise<void>((ok) => server.close(() => ok()));
});

async function fetchWorld(): Promise<World> {
  const policy = policyFor(members, { plc: { directory, source: 'fetch' } });
  return createWorld({
    members,
    policy,
    fetchLog: (did) => fetchAuditLog(directory, did, { timeoutMs: 500, maxBytes: 1024 * 1024, timeoutSignal: () => clock.signal }),
  });
}

async function sign(w: World, text: string) {
  const [a, b] = members as [Member, Member];
  const res = await w.app.request('/xrpc/dev.encumber.signRecord', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(cosignBy(draftFor(text), a, b)),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

test('fetch mode: logs come from the directory, and the record is signed', async () => {
  mode = 'ok';
  const w = await fetchWorld();
  const before = requests;
  const r = await sign(w, 'fetched');
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(requests - before, 2, 'one audit-log request per distinct co-signer');
});

for (const [m, status, code] of [
  ['down', 503, 'DirectoryUnavailable'],
  ['slow', 503, 'DirectoryUnavailable'],
  ['huge', 503, 'DirectoryUnavailable'],
  ['garbage', 503, 'DirectoryUnavailable'],
  ['redirect', 503, 'DirectoryUnavailable'],
  ['missing', 422, 'MissingPlcLog'],
  ['tampered', 422, 'InvalidPlcLog'],
] as const) {
  test(`fetch mode, directory ${m}: ${status} ${code}, no signature, and the service keeps serving`, async () => {
    const w = await fetchWorld();
    clock = new AbortController();
    mode = m;
    const r = await sign(w, `while ${m}`);
    assert.equal(r.status, status, JSON.stringify(r.json));
    assert.equal(r.json.error, code);
    assert.equal(r.json.record, undefined);
    mode = 'ok';
    clock = new AbortController();
    assert.equal((await sign(w, `after ${m}`)).status, 200);
  });
}

test('fetchAuditLog refuses a declared oversize body before reading it', async () => {
  mode = 'huge';
  await assert.rejects(fetchAuditLog(directory, members[0]!.did, { maxBytes: 1000 }), (e: any) => e.code === 'DirectoryUnavailable');
  mode = 'ok';
  await assert.rejects(fetchAuditLog('http://127.0.0.1:1', members[0]!.did, { timeoutMs: 500 }), (e: any) => e.code === 'DirectoryUnavailable');
});
