/**
 * A record by its at:// URI from the network (src/network/at-record.ts) on a
 * loopback atproto network (test/support/atproto-net.ts: real did:plc logs,
 * repositories made and signed by the reference implementation), then the
 * whole record check against the enclave that signed it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetchCosignerLogs, fetchRecordFromNetwork, type NetworkOptions, type NetworkRecordResult } from '../../src/network/at-record.ts';
import { verifySignedRecord } from '../../src/verifier/signed-record.ts';
import type { Identity } from '../../src/verifier/record.ts';
import { addMembers, startNet, type Net, type NetRepo } from '../support/atproto-net.ts';
import { COLLECTION, cosignBy, createWorld, draftFor, policyFor, withLogs, type Member, type World } from '../support/world.ts';

let net: Net;
let org: NetRepo;
let w: World;
let signed: Record<string, any>;
let identity: Identity;
const RKEY = '3lrecord1';
const now = new Date('2026-06-01T00:00:00.000Z');

before(async () => {
  net = await startNet();
  org = await net.createRepo('org.test');
  const base = await createWorld();
  w = await createWorld({ members: base.members, policy: policyFor(base.members, { repository: org.did }) });
  addMembers(net, w.members);
  const [alice, bob] = w.members as [Member, Member];
  const draft = withLogs(cosignBy({ ...draftFor('from the network'), repository: org.did }, alice, bob), w.members);
  signed = (await w.service.signRecord(draft as never)) as Record<string, any>;
  identity = w.service.identity() as unknown as Identity;
  await net.write(org, [{ collection: COLLECTION, rkey: RKEY, record: signed.record }]);
});
after(() => net.close());

const opts = (over: Partial<NetworkOptions> = {}): NetworkOptions => ({ plc: net.plcUrl, now, ...over });
const uri = (repo: NetRepo, rkey = RKEY) => `at://${repo.did}/${COLLECTION}/${rkey}`;
const origin = (u: string) => new URL(u).origin;

function failed(r: NetworkRecordResult): { code: string; row: string } {
  assert.equal(r.ok, false, 'expected a failure');
  if (r.ok) throw new Error('unreachable');
  return { code: r.error.code, row: r.checks.at(-1)!.name };
}

async function check(record: unknown, location: { repository: string; collection: string; uri: string }, plcLogs?: Record<string, unknown>) {
  return verifySignedRecord({ at: now, identity, record, trustIdentity: true, location, ...(plcLogs ? { plcLogs } : {}) });
}

test('at://DID/…: the DID from its verified audit log, the record from the PDS it names, the commit signature and the inclusion proof', async () => {
  const r = await fetchRecordFromNetwork(uri(org), opts());
  assert.ok(r.ok, JSON.stringify(r.checks));
  assert.deepEqual(r.record, signed.record, 'the record is byte for byte the signed one');
  assert.deepEqual(r.checks.map((c) => c.name), ['repository-did', 'repository-pds', 'repo-proof-car', 'repo-commit', 'repo-commit-did', 'repo-commit-signature', 'repo-mst-path', 'repo-record']);
  assert.match(r.checks[0]!.detail, new RegExp(`audit log from ${origin(net.plcUrl)} verified .*#atproto key ${org.signingKey}, PDS ${net.pdsUrl}`));
  assert.deepEqual(r.contacted, [origin(net.plcUrl), origin(net.pdsUrl)]);
  assert.equal(r.home.pds, net.pdsUrl);
  // Then every record check, with the co-signers' logs from the same directory.
  const logs = await fetchCosignerLogs(r.record, w.members.map((m) => m.did), opts());
  assert.deepEqual(Object.keys(logs).sort(), (w.members.slice(0, 2) as Member[]).map((m) => m.did).sort());
  const report = await check(r.record, r.location, logs);
  assert.equal(report.valid, true, JSON.stringify(report.error));
  assert.ok(report.record.some((c) => c.name === 'cosigner-keys' && c.ok && !c.skipped));
});

test('a handle or a bsky.app URL: resolved, and accepted only because the DID claims the handle back', async () => {
  for (const input of [`at://org.test/${COLLECTION}/${RKEY}`, `https://bsky.app/profile/org.test/post/${RKEY}`]) {
    const r = await fetchRecordFromNetwork(input, opts({ handleResolver: net.pdsUrl }));
    assert.ok(r.ok, JSON.stringify(r.checks));
    assert.equal(r.location.uri, uri(org));
    assert.match(r.checks[0]!.detail, new RegExp(`org.test → ${org.did}`));
  }
  // A resolver that names a DID which does not claim the handle.
  net.setHandle('liar.test', org.did);
  const r = await fetchRecordFromNetwork(`at://liar.test/${COLLECTION}/${RKEY}`, opts({ handleResolver: net.pdsUrl }));
  assert.deepEqual(failed(r), { code: 'DidResolutionFailed', row: 'repository-did' });
});

test('a record edited on the PDS after signing: the proof holds (the PDS signed it), the enclave signature does not', async () => {
  const edited = await net.createRepo('edited.test');
  await net.write(edited, [{ collection: COLLECTION, rkey: RKEY, record: { ...signed.record, text: 'changed after signing' } }]);
  const r = await fetchRecordFromNetwork(uri(edited), opts());
  assert.ok(r.ok);
  const report = await verifySignedRecord({ at: now, identity, record: r.record, trustIdentity: true });
  assert.equal(report.error?.code, 'EnclaveSignatureInvalid');
});

test('the signed record copied into another repository: proved there, refused by the policy\'s repository', async () => {
  const other = await net.createRepo('other.test', [{ collection: COLLECTION, rkey: RKEY, record: signed.record }]);
  const r = await fetchRecordFromNetwork(uri(other), opts());
  assert.ok(r.ok);
  const report = await check(r.record, r.location);
  assert.equal(report.error?.code, 'RepositoryNotAllowed');
  assert.equal(report.error?.check, 'record-location');
});

test('a repository whose commits are not signed by the key its DID names: RepoCommitSignatureInvalid', async () => {
  const forged = await net.createRepo('forged.test', [{ collection: COLLECTION, rkey: RKEY, record: signed.record }], { commitKey: 'other' });
  assert.deepEqual(failed(await fetchRecordFromNetwork(uri(forged), opts())), { code: 'RepoCommitSignatureInvalid', row: 'repository-proof' });
});

test('a record the repository does not hold: RecordNotInRepo, from the PDS\'s own proof of absence', async () => {
  assert.deepEqual(failed(await fetchRecordFromNetwork(uri(org, '3lmissing'), opts())), { code: 'RecordNotInRepo', row: 'repository-proof' });
});

test('a DID the directory does not know, an unreachable PDS: typed failures with the rows so far, nothing else asked', async () => {
  const before = net.requests.pds.length;
  const unknown = await fetchRecordFromNetwork(`at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/${COLLECTION}/${RKEY}`, opts());
  assert.deepEqual(failed(unknown), { code: 'MissingPlcLog', row: 'repository-did' });
  assert.equal(net.requests.pds.length, before, 'no PDS request for an unresolved DID');
  const down = await fetchRecordFromNetwork(uri(org), opts({ pds: 'http://127.0.0.1:9' }));
  assert.deepEqual(failed(down), { code: 'RemoteUnavailable', row: 'repository-pds' });
  if (!down.ok) assert.equal(down.checks[0]!.name, 'repository-did');
});

test('a PDS given by the reader is used and said so; a malformed address or URL fails before any request', async () => {
  const r = await fetchRecordFromNetwork(uri(org), opts({ pds: `${net.pdsUrl}/` }));
  assert.ok(r.ok);
  assert.match(r.checks[1]!.detail, /the PDS the DID names/);
  const n = net.requests.plc.length + net.requests.pds.length;
  assert.deepEqual(failed(await fetchRecordFromNetwork('at://nope', opts())), { code: 'InvalidSyntax', row: 'at-uri' });
  for (const bad of [{ pds: 'not a url' }, { plc: 'ftp://plc.example' }, { handleResolver: 'nope' }]) {
    assert.deepEqual(failed(await fetchRecordFromNetwork(uri(org), opts(bad))), { code: 'UsageError', row: 'at-uri' }, JSON.stringify(bad));
  }
  assert.equal(net.requests.plc.length + net.requests.pds.length, n, 'nothing was asked');
});

/** A mirror PDS on loopback that answers getRecord with the CAR it was given. */
async function mirror(car: Uint8Array): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.ipld.car', 'content-length': car.length });
    res.end(car);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

test('a proof from a mirror must be of the latest commit at the DID\'s own PDS: an old proof replayed is RepoCommitStale', async () => {
  const repo = await net.createRepo('retracting.test', [{ collection: COLLECTION, rkey: RKEY, record: signed.record }]);
  const old = await (await fetch(`${net.pdsUrl}/xrpc/com.atproto.sync.getRecord?did=${repo.did}&collection=${COLLECTION}&rkey=${RKEY}`)).arrayBuffer();
  const m = await mirror(new Uint8Array(old));
  try {
    const fresh = await fetchRecordFromNetwork(uri(repo), opts({ pds: m.url }));
    assert.ok(fresh.ok, JSON.stringify(fresh.checks));
    assert.equal(fresh.checks.at(-1)!.name, 'repo-commit-latest');
    // The repository moves on (the post is edited); the mirror still serves the old, validly signed proof.
    await net.write(repo, [{ collection: COLLECTION, rkey: RKEY, record: { ...signed.record, text: 'retracted' } }]);
    assert.deepEqual(failed(await fetchRecordFromNetwork(uri(repo), opts({ pds: m.url }))), { code: 'RepoCommitStale', row: 'repo-commit-latest' });
  } finally {
    await m.close();
  }
});

test('a handle is never resolved by the --pds override (a mirror is no authority on names), and case does not matter', async () => {
  const asked: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    const u = new URL(String(input));
    asked.push(u.origin + u.pathname);
    if (u.hostname !== '127.0.0.1') throw new TypeError('fetch failed (no network in tests)');
    return fetch(input, init);
  };
  const r = await fetchRecordFromNetwork(`at://org.test/${COLLECTION}/${RKEY}`, opts({ pds: net.pdsUrl, fetch: recording }));
  assert.deepEqual(failed(r), { code: 'RemoteUnavailable', row: 'handle' });
  assert.deepEqual(asked, ['https://public.api.bsky.app/xrpc/com.atproto.identity.resolveHandle']);
  const upper = await fetchRecordFromNetwork(`at://ORG.Test/${COLLECTION}/${RKEY}`, opts({ handleResolver: net.pdsUrl }));
  assert.ok(upper.ok, JSON.stringify(upper.checks));
});

test('did:web: the document from its host (a port stays %3A-encoded in the URI), the proof from the PDS it names', async () => {
  const web = await net.createWebRepo('web.test', [{ collection: COLLECTION, rkey: RKEY, record: signed.record }]);
  assert.match(web.did, /^did:web:127\.0\.0\.1%3A\d+$/);
  const r = await fetchRecordFromNetwork(uri(web), opts());
  assert.ok(r.ok, JSON.stringify(r.checks));
  assert.match(r.checks[0]!.detail, /did:web: trusted as far as that host is/);
  assert.deepEqual(r.record, signed.record);
});

test('the co-signers\' logs: only the policy\'s members are asked for, and a log the directory lacks is left out', async () => {
  const r = await fetchRecordFromNetwork(uri(org), opts());
  assert.ok(r.ok);
  const forged = structuredClone(r.record) as { signatures: { issuer: string }[] };
  // 40 made-up issuers in front of the real entries: none of them is asked for.
  forged.signatures.unshift(...Array.from({ length: 40 }, (_, i) => ({ ...forged.signatures[0]!, issuer: `did:plc:${'a'.repeat(20)}${String(i).padStart(4, 'b')}` })));
  const before = net.requests.plc.length;
  const logs = await fetchCosignerLogs(forged, w.members.map((m) => m.did), opts());
  assert.equal(net.requests.plc.length - before, 2, 'one request per co-signing member');
  assert.equal(Object.keys(logs).length, 2);
  const missing = await fetchCosignerLogs(r.record, ['did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', ...w.members.map((m) => m.did)], { ...opts(), plc: `${net.plcUrl}/nothing-here` });
  assert.deepEqual(missing, {});
  const report = await check(r.record, r.location, missing);
  assert.equal(report.error?.code, 'MissingPlcLog');
});

test('an answer larger than a proof can be is refused while it is read', async () => {
  const big = new Uint8Array(3 * 1024 * 1024);
  const fetchBig: typeof fetch = async (input) => {
    const u = new URL(String(input));
    if (u.origin === origin(net.plcUrl)) return fetch(input);
    return new Response(new ReadableStream({ start(c) { c.enqueue(big); c.close(); } }), { status: 200, headers: { 'content-type': 'application/vnd.ipld.car' } });
  };
  const r = await fetchRecordFromNetwork(uri(org), opts({ fetch: fetchBig }));
  assert.deepEqual(failed(r), { code: 'RemoteUnavailable', row: 'repository-pds' });
  if (!r.ok) assert.match(r.error.message, /exceeds 2097152/);
});
