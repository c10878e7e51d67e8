/**
 * Publishing a signed record (src/member/publish.ts) against a loopback
 * stand-in PDS: the record arrives exactly as the enclave signed it, in the
 * policy's repository and collection; a wrong repository or collection, and
 * every fault a PDS would store wrongly or refuse late, is refused by our own
 * checks with a typed code before anything is sent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EncumberError } from '../../src/errors.ts';
import { requestJson } from '../../src/http/json.ts';
import { PdsRefused, pdsValidates, publishSigned, readSignedForPublish, type PublishInput } from '../../src/member/publish.ts';
import { cidForValue, RAW_CODEC } from '../../src/data/cid.ts';
import { CID } from 'multiformats/cid';
import type { Identity } from '../../src/verifier/record.ts';
import { startFakePds, type FakePds } from '../support/fake-pds.ts';
import { COLLECTION, cosignBy, createWorld, ORG, policyFor, signedWorld, withLogs, type Member, type SignedWorld } from '../support/world.ts';

const HANDLE = 'org.example.com';
const PASSWORD = 'abcd-efgh-ijkl-mnop';
const OTHER = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';

let sw: SignedWorld;
let pds: FakePds;

before(async () => {
  sw = await signedWorld('published by the org');
  pds = await startFakePds({ did: ORG, handle: HANDLE, password: PASSWORD });
});
after(() => pds.close());

const input = (over: Partial<PublishInput> = {}): PublishInput => ({ signed: sw.signed, pds: pds.url, identifier: ORG, password: PASSWORD, ...over });
const clone = <T>(v: T): T => structuredClone(v);

async function refused(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof EncumberError, String(e));
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** Run with a fresh request log; returns what the PDS saw. */
async function seen(run: () => Promise<unknown>): Promise<string[]> {
  pds.requests.length = 0;
  await run();
  return pds.requests.map((r) => r.method);
}

test('a DID identifier: the PDS receives exactly the signed record, in the policy repository and collection, validated', async () => {
  let done: Awaited<ReturnType<typeof publishSigned>> | undefined;
  const methods = await seen(async () => {
    done = await publishSigned(input({ identity: sw.identity }));
  });
  assert.deepEqual(methods, ['com.atproto.server.createSession', 'com.atproto.repo.createRecord']);
  const [session, create] = pds.requests;
  assert.deepEqual(session!.body, { identifier: ORG, password: PASSWORD });
  assert.equal(create!.authorization, `Bearer access-${ORG}`);
  assert.deepEqual(create!.body, { repo: ORG, collection: COLLECTION, record: sw.signed.record, validate: true });
  assert.match(done!.uri, new RegExp(`^at://${ORG}/${COLLECTION}/`));
  assert.equal(done!.cid, cidForValue(readSignedForPublish(sw.signed).record).toString());
  assert.equal(done!.repository, ORG);
});

test('a handle identifier: the session names the repository', async () => {
  const methods = await seen(() => publishSigned(input({ identifier: HANDLE })));
  assert.deepEqual(methods, ['com.atproto.server.createSession', 'com.atproto.repo.createRecord']);
  assert.equal(pds.requests[1]!.body.repo, ORG);
  assert.deepEqual(pds.requests[1]!.body.record, sw.signed.record);
});

test('a DID that is not the repository the record was signed for is refused before any request', async () => {
  const methods = await seen(() => refused(publishSigned(input({ identifier: OTHER })), 'RepositoryNotAllowed'));
  assert.deepEqual(methods, []);
});

test('a handle whose session is another DID is refused after createSession, before createRecord', async () => {
  const other = await startFakePds({ did: OTHER, handle: 'other.example.com', password: PASSWORD });
  try {
    await refused(publishSigned(input({ pds: other.url, identifier: 'other.example.com' })), 'RepositoryNotAllowed');
    assert.deepEqual(other.requests.map((r) => r.method), ['com.atproto.server.createSession']);
  } finally {
    await other.close();
  }
});

test('a record changed after signing is refused before any request', async () => {
  const changed = clone(sw.signed);
  changed.record.text = 'not what they signed';
  assert.deepEqual(await seen(() => refused(publishSigned(input({ signed: changed })), 'RepositoryNotAllowed')), []);
  assert.deepEqual(await seen(() => refused(publishSigned(input({ signed: { ...sw.signed, record: { ...sw.signed.record, signatures: [] } } })), 'MissingEnclaveSignature')), []);
});

test('another collection: not allowed by the identity\'s policy, and sent without validate (a lexicon the PDS does not know)', async () => {
  const NOTE = 'dev.example.note';
  const members = sw.w.members as Member[];
  const w = await createWorld({ members, policy: policyFor(members, { collections: [NOTE] }) });
  const draft = withLogs(cosignBy({ repository: ORG, collection: NOTE, record: { $type: NOTE, text: 'a note' }, cosignatures: [] }, members[0]!, members[1]!), members);
  const note = (await w.service.signRecord(draft as never)) as Record<string, any>;
  const noteIdentity = w.service.identity() as unknown as Identity;

  // The post was signed under the first policy; the note enclave's policy does not allow posts.
  assert.deepEqual(await seen(() => refused(publishSigned(input({ identity: noteIdentity })), 'CollectionNotAllowed')), []);
  assert.deepEqual(await seen(() => refused(publishSigned(input({ signed: note, identity: sw.identity })), 'CollectionNotAllowed')), []);

  assert.equal(pdsValidates(NOTE), false);
  assert.equal(pdsValidates(COLLECTION), true);
  await seen(() => publishSigned(input({ signed: note, identity: noteIdentity })));
  const create = pds.requests[1]!.body;
  assert.equal(Object.hasOwn(create, 'validate'), false);
  assert.equal(create.collection, NOTE);
  assert.deepEqual(create.record, note.record);
});

test('the PDS\'s errors come back with their XRPC name and message', async () => {
  await assert.rejects(publishSigned(input({ password: 'wrong' })), (e: unknown) => {
    assert.ok(e instanceof PdsRefused);
    assert.equal(e.status, 401);
    assert.equal(e.error, 'AuthenticationRequired');
    assert.equal(e.description, 'Invalid identifier or password');
    assert.match(e.message, /createSession: HTTP 401 AuthenticationRequired: Invalid identifier or password/);
    return true;
  });
  const strict = await startFakePds({ did: ORG, handle: HANDLE, password: PASSWORD, refuseRecord: { error: 'InvalidRequest', message: 'Invalid app.bsky.feed.post record' } });
  try {
    await assert.rejects(publishSigned(input({ pds: strict.url })), (e: unknown) => e instanceof PdsRefused && e.error === 'InvalidRequest' && /createRecord/.test(e.message));
  } finally {
    await strict.close();
  }
});

test('an identifier that is neither DID nor handle, and a PDS URL that is not a URL, are usage errors', async () => {
  assert.deepEqual(await seen(() => refused(publishSigned(input({ identifier: 'not an identifier' })), 'UsageError')), []);
  assert.deepEqual(await seen(() => refused(publishSigned(input({ pds: 'no url' })), 'UsageError')), []);
});

test('a plain-http PDS that is not on loopback is refused before the app password is sent', async () => {
  let asked = 0;
  const fetchAnything: typeof fetch = async () => {
    asked++;
    return new Response('{}', { status: 500 });
  };
  for (const identifier of [ORG, HANDLE]) {
    await refused(publishSigned(input({ pds: 'http://pds.example.com', identifier }), { fetch: fetchAnything }), 'UsageError');
  }
  assert.equal(asked, 0, 'no request, so no password on the wire');
});

/**
 * What a PDS would store wrongly or refuse late: each is refused by our
 * checks (typed InvalidDataModel), even with a handle, where the first
 * request would otherwise be createSession.
 */
const RAW_LINK = CID.createV1(RAW_CODEC, cidForValue({ a: 1 }).multihash).toString();
const faults: [string, (r: Record<string, any>) => void][] = [
  ['a malformed $link', (r) => (r.embed = { $type: 'app.bsky.embed.record', record: { cid: { $link: 'bafynotacid' }, uri: 'at://x' } })],
  ['a bad $bytes', (r) => (r.extra = { $bytes: 'not base64!' })],
  ['a $type that is not an NSID', (r) => (r.facets = [{ $type: 'not an nsid', index: { byteStart: 0, byteEnd: 1 }, features: [] }])],
  ['a blob', (r) => (r.embed = { $type: 'app.bsky.embed.images', images: [{ alt: '', image: { $type: 'blob', ref: { $link: RAW_LINK }, mimeType: 'image/png', size: 1000 } }] })],
  ['an integer above 2^53', (r) => (r.count = 2 ** 53 + 2)],
  ['a legacy blob { cid, mimeType }', (r) => (r.embed = { $type: 'app.bsky.embed.images', images: [{ alt: '', image: { cid: RAW_LINK, mimeType: 'image/png' } }] })],
];
for (const [name, spoil] of faults) {
  test(`${name} is refused by our validation before any request`, async () => {
    const bad = clone(sw.signed);
    spoil(bad.record);
    for (const identifier of [ORG, HANDLE]) {
      assert.deepEqual(await seen(() => refused(publishSigned(input({ signed: bad, identifier })), 'InvalidDataModel')), [], `${name} (${identifier})`);
    }
  });
}

test('a $type reference inside the record may name a definition (nsid#name); the record\'s own $type may not', () => {
  const ok = clone(sw.signed);
  ok.record.facets = [{ $type: 'app.bsky.richtext.facet', index: { byteStart: 0, byteEnd: 1 }, features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com' }] }];
  assert.doesNotThrow(() => readSignedForPublish(ok));
  const top = clone(sw.signed);
  top.record.$type = 'app.bsky.feed.post#main';
  assert.throws(() => readSignedForPublish(top), (e: unknown) => e instanceof EncumberError && e.code === 'InvalidDataModel');
});

test('the JSON client sends extra headers; they cannot replace accept or content-type', async () => {
  let headers: Record<string, string> = {};
  const fetch = (async (_u: URL, init: RequestInit) => {
    headers = init.headers as Record<string, string>;
    return new Response('{}', { status: 200 });
  }) as unknown as typeof globalThis.fetch;
  await requestJson('http://127.0.0.1:9/x', { fetch, method: 'POST', body: {}, headers: { authorization: 'Bearer t', accept: 'text/html', 'content-type': 'text/plain' } });
  assert.equal(headers.authorization, 'Bearer t');
  assert.equal(headers.accept, 'application/json');
  assert.equal(headers['content-type'], 'application/json');
});
