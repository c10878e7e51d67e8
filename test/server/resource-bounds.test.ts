/**
 * Resource rules (DESIGN.md) over HTTP (in-process app), fetch mode: what an
 * anonymous request can make the enclave do to the PLC directory and the
 * attestor. Directory requests are counted by an injected fetch; held answers
 * and a held attestor are controllable promises (no sleeps, no wall clock).
 *
 * - Everything that needs no PLC state is checked first: a request that fails
 *   it makes no directory request.
 * - A valid request reads each member once per source (directory, mirrors).
 * - Concurrent requests for the same DID share one directory request.
 * - Directory requests in flight and attestations are bounded: beyond the
 *   bound, 429 `RateLimited` at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { K256 } from '../../src/crypto/curves.ts';
import { encodeBase64 } from '../../src/crypto/encoding.ts';
import { encodeCbor } from '../../src/data/cbor.ts';
import { bootService } from '../../src/enclave/boot.ts';
import type { FetchLog } from '../../src/enclave/plc-resolver.ts';
import type { SigningService } from '../../src/enclave/service.ts';
import type { Attestor } from '../../src/enclave/attestor.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { createApp } from '../../src/server/app.ts';
import { statusForCode } from '../../src/server/status.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { COLLECTION, ORG, cosignBy, createMember, draftFor, echoAttestor, tick, type Member } from '../support/world.ts';

/** A directory and its mirrors behind one counter; answers can be held until released. */
class FakeDirectory {
  readonly calls: string[] = [];
  #held = false;
  #waiting: (() => void)[] = [];
  readonly logs: Map<string, unknown>;
  constructor(logs: Map<string, unknown>) {
    this.logs = logs;
  }

  source(index: number): FetchLog {
    return async (did) => {
      this.calls.push(`${index} ${did}`);
      if (this.#held) await new Promise<void>((go) => this.#waiting.push(go));
      if (!this.logs.has(did)) throw new Error(`test directory has no ${did}`);
      return structuredClone(this.logs.get(did));
    };
  }

  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
    for (const go of this.#waiting.splice(0)) go();
  }
}

/** The policy's directory and mirrors (never contacted: FakeDirectory answers for them). */
const SOURCES = ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'];

interface Fixture {
  app: ReturnType<typeof createApp>;
  directory: FakeDirectory;
  /** signRecord calls that reached the service core (its clock is read once per request). */
  requests: () => number;
  service: SigningService;
}

function fetchFixture(opts: {
  signers: string[];
  logs?: Member[];
  mirrors?: number;
  maxFetchesInFlight?: number;
  attestor?: Attestor;
  attestationQueue?: { concurrency?: number; maxQueued?: number };
}): Fixture {
  const policy = parsePolicy({
    $type: 'dev.encumber.policy',
    version: 1,
    repository: ORG,
    signers: opts.signers.map((did) => ({ did, keyId: 'atproto' })),
    threshold: 2,
    collections: [COLLECTION],
    plc: { directory: SOURCES[0], ...(opts.mirrors ? { mirrors: SOURCES.slice(1, 1 + opts.mirrors) } : {}), source: 'fetch' },
    limits: { maxRecordBytes: 10_000 },
  });
  const directory = new FakeDirectory(new Map((opts.logs ?? []).map((m) => [m.did, m.log])));
  let clockReads = 0;
  const service = bootService({
    policy,
    attestor: opts.attestor ?? echoAttestor,
    // Source 0 is the directory, 1.. the mirrors, as the policy lists them.
    fetchLog: (source, did) => directory.source(SOURCES.indexOf(source))(did),
    clock: () => (clockReads++, tick(1)),
    limits: {
      ...(opts.maxFetchesInFlight ? { directoryFetchesInFlight: opts.maxFetchesInFlight } : {}),
      ...(opts.attestationQueue ? { attestation: opts.attestationQueue } : {}),
    },
  });
  const afterBoot = clockReads;
  return { app: createApp({ service }), directory, requests: () => clockReads - afterBoot, service };
}

async function post(app: Fixture['app'], body: unknown) {
  const res = await app.request('/xrpc/dev.encumber.signRecord', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** Let the event loop run until `done()` holds, for at most `turns` turns (a step count, not a time). */
async function until(done: () => boolean, turns = 2000): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((go) => setImmediate(go));
}

/** 24 base32 characters from a number: policy members whose logs are never read. */
function fakeDid(i: number): string {
  let s = '';
  for (let n = i, k = 0; k < 24; k++, n = Math.floor(n / 26)) s += String.fromCharCode(97 + (n % 26));
  return `did:plc:${s}`;
}

function sigBytes(r: bigint, s: bigint): { $bytes: string } {
  const out = new Uint8Array(64);
  for (let i = 31, a = r, b = s; i >= 0; i--, a >>= 8n, b >>= 8n) {
    out[i] = Number(a & 0xffn);
    out[32 + i] = Number(b & 0xffn);
  }
  return { $bytes: encodeBase64(out) };
}

test('a request that fails any check needing no PLC state makes no directory request (64 members, two mirrors)', async () => {
  const signers = Array.from({ length: 64 }, (_, i) => fakeDid(i));
  const f = fetchFixture({ signers, mirrors: 2 });
  const draft = draftFor('no fetch');
  const oneByte = { $bytes: encodeBase64(new Uint8Array([1])) };
  const wellFormed = sigBytes(1n, 1n);
  const cases: [string, unknown, number, string][] = [
    ['1-byte signatures from every member', { ...draft, cosignatures: signers.map((issuer) => ({ issuer, sig: oneByte })) }, 422, 'InvalidCosignature'],
    ['high-S on both curves', { ...draft, cosignatures: signers.slice(0, 2).map((issuer) => ({ issuer, sig: sigBytes(1n, K256.n - 1n) })) }, 422, 'InvalidCosignature'],
    ['r = 0', { ...draft, cosignatures: signers.slice(0, 2).map((issuer) => ({ issuer, sig: sigBytes(0n, 1n) })) }, 422, 'InvalidCosignature'],
    ['r ≥ n on both curves', { ...draft, cosignatures: signers.slice(0, 2).map((issuer) => ({ issuer, sig: sigBytes((1n << 256n) - 1n, 1n) })) }, 422, 'InvalidCosignature'],
    ['not base64', { ...draft, cosignatures: signers.slice(0, 2).map((issuer) => ({ issuer, sig: { $bytes: '*' } })) }, 422, 'InvalidCosignature'],
    ['an issuer outside the policy', { ...draft, cosignatures: [{ issuer: signers[0], sig: wellFormed }, { issuer: fakeDid(999), sig: wellFormed }] }, 422, 'UnknownSigner'],
    ['one member named twice', { ...draft, cosignatures: [{ issuer: signers[0], sig: wellFormed }, { issuer: signers[0], sig: wellFormed }] }, 422, 'InvalidCosignature'],
    ['fewer well-formed co-signatures than the threshold', { ...draft, cosignatures: [{ issuer: signers[0], sig: wellFormed }] }, 422, 'InsufficientCosigners'],
    ['another repository', { ...draft, repository: fakeDid(1000), cosignatures: signers.slice(0, 2).map((issuer) => ({ issuer, sig: wellFormed })) }, 422, 'RepositoryNotAllowed'],
    ['another collection', { ...draft, collection: 'app.bsky.feed.like', record: { ...draft.record, $type: 'app.bsky.feed.like' }, cosignatures: signers.slice(0, 2).map((issuer) => ({ issuer, sig: wellFormed })) }, 422, 'CollectionNotAllowed'],
    ['a record over the policy limit', { ...draft, record: { ...draft.record, text: 'x'.repeat(20_000) }, cosignatures: signers.slice(0, 2).map((issuer) => ({ issuer, sig: wellFormed })) }, 413, 'RecordTooLarge'],
    ['a body that fails the schema', { ...draft, cosignatures: signers.slice(0, 2).map((issuer) => ({ issuer, sig: wellFormed })), extra: 1 }, 400, 'InvalidRequest'],
  ];
  for (const [what, body, status, code] of cases) {
    const r = await post(f.app, body);
    assert.equal(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error, code, `${what}: ${r.json.message}`);
    assert.deepEqual(f.directory.calls, [], `${what}: made directory requests`);
  }
});

test('a valid request makes exactly one directory request per member and source', async () => {
  const members = [await createMember('rb-a.test'), await createMember('rb-b.test'), await createMember('rb-c.test')];
  const [alice, bob] = members as [Member, Member];
  const f = fetchFixture({ signers: members.map((m) => m.did), logs: members, mirrors: 2 });
  const r = await post(f.app, cosignBy(draftFor('one per member and source'), alice, bob));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const expected = [0, 1, 2].flatMap((i) => [alice, bob].map((m) => `${i} ${m.did}`));
  assert.deepEqual([...f.directory.calls].sort(), expected.sort());
});

test('concurrent requests for the same DIDs share one directory request per DID and source', async () => {
  const members = [await createMember('rc-a.test'), await createMember('rc-b.test'), await createMember('rc-c.test')];
  const [alice, bob] = members as [Member, Member];
  const f = fetchFixture({ signers: members.map((m) => m.did), logs: members, mirrors: 1 });
  f.directory.hold();
  const n = 6;
  let answers: Promise<{ status: number; json: Record<string, any> }>[] = [];
  try {
    answers = Array.from({ length: n }, (_, i) => post(f.app, cosignBy(draftFor(`concurrent ${i}`), alice, bob)));
    // Every request has reached the resolver (and joined or started its fetches) before any answer comes.
    await until(() => f.requests() === n);
    assert.equal(f.requests(), n);
    assert.equal(f.directory.calls.length, 4, `2 members × 2 sources, shared by ${n} requests: ${f.directory.calls.join(', ')}`);
  } finally {
    f.directory.release();
  }
  for (const r of await Promise.all(answers)) assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(f.service.directoryFetchesInFlight, 0);
});

test('beyond the bound on directory requests in flight: 429 RateLimited at once, and the request starts no fetch', async () => {
  const members = [await createMember('rl-a.test'), await createMember('rl-b.test'), await createMember('rl-c.test')];
  const [alice, bob, carol] = members as [Member, Member, Member];
  const f = fetchFixture({ signers: members.map((m) => m.did), logs: members, maxFetchesInFlight: 2 });
  f.directory.hold();
  let first: Promise<{ status: number; json: Record<string, any> }> | undefined;
  let joined: Promise<{ status: number; json: Record<string, any> }> | undefined;
  try {
    first = post(f.app, cosignBy(draftFor('fills the bound'), alice, bob));
    await until(() => f.directory.calls.length === 2);
    assert.equal(f.directory.calls.length, 2);
    // alice is in flight (joined), carol would be a third request: refused whole.
    let refused: { status: number; json: Record<string, any> } | undefined;
    void post(f.app, cosignBy(draftFor('over the bound'), alice, carol)).then((r) => (refused = r));
    await until(() => refused !== undefined || f.directory.calls.length > 2);
    assert.ok(refused, `no answer; directory requests: ${f.directory.calls.join(', ')}`);
    assert.equal(refused.status, 429, JSON.stringify(refused.json));
    assert.equal(refused.json.error, 'RateLimited');
    assert.equal(typeof refused.json.message, 'string');
    assert.equal(f.directory.calls.length, 2, 'the refused request started no fetch');
    // A request that needs only fetches already in flight joins them.
    joined = post(f.app, cosignBy(draftFor('joins the fetches in flight'), alice, bob));
    await until(() => f.requests() === 3);
    assert.equal(f.directory.calls.length, 2);
  } finally {
    f.directory.release();
  }
  assert.equal((await first!).status, 200);
  assert.equal((await joined!).status, 200);
  // Once the fetches are done the bound is free again.
  assert.equal(f.service.directoryFetchesInFlight, 0);
  const again = await post(f.app, cosignBy(draftFor('over the bound, later'), alice, carol));
  assert.equal(again.status, 200, JSON.stringify(again.json));
});

test('getAttestation: a bounded queue in front of a slow attestor; when it is full, 429 RateLimited', async () => {
  let calls = 0;
  let held = true;
  const waiting: (() => void)[] = [];
  const slow: Attestor = {
    platform: 'dev',
    attest: async (req) => {
      calls++;
      if (held) await new Promise<void>((go) => waiting.push(go));
      return encodeCbor({ nonce: req.nonce });
    },
  };
  const f = fetchFixture({ signers: [fakeDid(1), fakeDid(2)], attestor: slow, attestationQueue: { concurrency: 1, maxQueued: 1 } });
  const get = async (nonce: string) => {
    const res = await f.app.request(`/xrpc/dev.encumber.getAttestation?nonce=${nonce}`);
    return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as Record<string, any> };
  };
  const done: { status: number; retryAfter: string | null; json: Record<string, any> }[] = [];
  let answers: Promise<unknown>[] = [];
  try {
    // One runs (held), one waits, the third finds the queue full.
    answers = ['01', '02', '03'].map((nonce) => get(nonce).then((r) => done.push(r)));
    await until(() => done.length > 0 || calls > 1);
    assert.equal(calls, 1, 'one attestation at a time');
    assert.equal(done.length, 1, 'exactly one request is answered while the attestor is busy');
    assert.equal(done[0]!.status, 429, JSON.stringify(done[0]!.json));
    assert.equal(done[0]!.json.error, 'RateLimited');
    assert.equal(done[0]!.retryAfter, '1');
  } finally {
    held = false;
    for (const go of waiting.splice(0)) go();
    await until(() => calls >= 2 && waiting.length === 0);
    for (const go of waiting.splice(0)) go();
  }
  await Promise.all(answers);
  assert.deepEqual(done.map((r) => r.status).sort(), [200, 200, 429]);
  assert.equal(calls, 2);
  // The queue drained: the next request is served.
  assert.equal((await get('04')).status, 200);
});

test('RateLimited is 429, and the lexicons of the endpoints that can give it list it', () => {
  assert.equal(statusForCode('RateLimited'), 429);
  for (const name of ['signRecord', 'getAttestation']) {
    const doc = JSON.parse(readFileSync(join(REPO_ROOT, 'src', 'lexicons', 'dev', 'encumber', `${name}.json`), 'utf8'));
    assert.ok(doc.defs.main.errors.some((e: { name: string }) => e.name === 'RateLimited'), name);
  }
});
