/** Policy validation and CID, payload construction, high-water marks: each rule in isolation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy, parsePolicyJson, policyDocument } from '../../src/policy/policy.ts';
import { loadDefaultPolicy } from '../../src/policy/default-policy.ts';
import { buildPayload } from '../../src/policy/payload.ts';
import { checkHighWater } from '../../src/policy/high-water.ts';
import { cidForValue } from '../../src/data/cid.ts';
import { decodeCbor } from '../../src/data/cbor.ts';
import type { PlcState } from '../../src/plc/types.ts';

const A = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb';
const C = 'did:plc:cccccccccccccccccccccccc';
const base = () => policyDocument({ repository: 'did:plc:orgorgorgorgorgorgorgorg', signers: [A, B, C], threshold: 2 });

function rejects(mutate: (p: any) => void, path: string) {
  const p = base() as any;
  mutate(p);
  assert.throws(() => parsePolicy(p), (e: any) => e.code === 'InvalidPolicy' && e.path === path, path);
}

test('a valid policy parses; its CID is the CID of the document exactly as given', () => {
  const doc = base();
  const { policy, cid } = parsePolicy(doc);
  assert.equal(policy.threshold, 2);
  assert.equal(cid.toString(), cidForValue(doc).toString());
  // The CID follows the document: any change, even of a default-looking value, changes it.
  const other = { ...doc, limits: { maxRecordBytes: 16385 } };
  assert.notEqual(parsePolicy(other).cid.toString(), cid.toString());
});

test('policy rules: each violation is InvalidPolicy at its path', () => {
  rejects((p) => (p.extra = 1), '');
  rejects((p) => (p.$type = 'dev.encumber.other'), '$type');
  rejects((p) => (p.version = 2), 'version');
  rejects((p) => (p.repository = 'not a did'), 'repository');
  rejects((p) => (p.threshold = 4), 'threshold');
  rejects((p) => (p.threshold = 0), 'threshold');
  rejects((p) => (p.threshold = 1.5), 'threshold');
  rejects((p) => (p.signers = []), 'signers');
  rejects((p) => (p.signers[1].did = A), 'signers');
  rejects((p) => (p.signers[0].did = 'did:web:example.com'), 'signers.0.did');
  rejects((p) => (p.signers[0].keyId = ''), 'signers.0.keyId');
  rejects((p) => (p.signers[0].extra = true), 'signers.0');
  rejects((p) => (p.collections = ['not an nsid']), 'collections.0');
  rejects((p) => (p.collections = []), 'collections');
  rejects((p) => (p.plc.source = 'magic'), 'plc.source');
  rejects((p) => (p.plc.directory = 'ftp://x'), 'plc.directory');
  rejects((p) => (p.plc.directory = 'https://user:pw@plc.example'), 'plc.directory');
  rejects((p) => (p.limits.maxRecordBytes = 10), 'limits.maxRecordBytes');
  rejects((p) => delete p.limits, 'limits');
  // Mirrors and the cache bound are fetch-mode options (src/enclave/plc-resolver.ts enforces them).
  rejects((p) => (p.plc.mirrors = ['https://mirror.example']), 'plc.mirrors');
  rejects((p) => (p.plc.maxCacheAgeSeconds = 60), 'plc.maxCacheAgeSeconds');
  const fetching = (p: any) => (p.plc = { directory: 'https://plc.directory', source: 'fetch' });
  rejects((p) => (fetching(p), (p.plc.mirrors = [])), 'plc.mirrors');
  rejects((p) => (fetching(p), (p.plc.mirrors = ['https://plc.directory/'])), 'plc.mirrors');
  rejects((p) => (fetching(p), (p.plc.mirrors = ['https://m.example', 'https://m.example'])), 'plc.mirrors');
  rejects((p) => (fetching(p), (p.plc.mirrors = ['ftp://m.example'])), 'plc.mirrors.0');
  rejects((p) => (fetching(p), (p.plc.maxCacheAgeSeconds = -1)), 'plc.maxCacheAgeSeconds');
  rejects((p) => (fetching(p), (p.plc.maxCacheAgeSeconds = 1.5)), 'plc.maxCacheAgeSeconds');
  rejects((p) => (fetching(p), (p.plc.maxCacheAgeSeconds = 3601)), 'plc.maxCacheAgeSeconds');
  assert.throws(() => parsePolicyJson('{'), (e: any) => e.code === 'InvalidPolicy');
});

test('fetch-mode policies may list mirrors and bound the cache age', () => {
  const doc = base() as any;
  doc.plc = { directory: 'https://plc.directory', mirrors: ['https://plc-mirror.example'], source: 'fetch', maxCacheAgeSeconds: 30 };
  const { policy } = parsePolicy(doc);
  assert.deepEqual(policy.plc.mirrors, ['https://plc-mirror.example']);
  assert.equal(policy.plc.maxCacheAgeSeconds, 30);
});

test('didGuard (docs/did-guard.md): optional; when enabled it needs a did:plc repository and fetch mode', () => {
  const guarded = (p: any) => {
    p.plc = { directory: 'https://plc.directory', source: 'fetch' };
    p.didGuard = { enabled: true, pollSeconds: 60, revert: 'all' };
  };
  const doc = base() as any;
  guarded(doc);
  assert.deepEqual(parsePolicy(doc).policy.didGuard, { enabled: true, pollSeconds: 60, revert: 'all' });
  assert.equal(parsePolicy({ ...doc, didGuard: { ...doc.didGuard, revert: 'keys-and-pds' } }).policy.didGuard?.revert, 'keys-and-pds');
  // Disabled: no constraint on the repository or the source.
  const off = base() as any;
  off.didGuard = { enabled: false, pollSeconds: 60, revert: 'all' };
  off.repository = 'did:web:example.com';
  assert.equal(parsePolicy(off).policy.didGuard?.enabled, false);
  rejects((p) => (guarded(p), (p.plc.source = 'supplied')), 'didGuard');
  rejects((p) => (guarded(p), (p.repository = 'did:web:example.com')), 'didGuard');
  rejects((p) => (guarded(p), (p.didGuard.revert = 'some')), 'didGuard.revert');
  rejects((p) => (guarded(p), (p.didGuard.pollSeconds = 9)), 'didGuard.pollSeconds');
  rejects((p) => (guarded(p), (p.didGuard.pollSeconds = 1.5)), 'didGuard.pollSeconds');
  rejects((p) => (guarded(p), delete p.didGuard.enabled), 'didGuard.enabled');
  rejects((p) => (guarded(p), (p.didGuard.extra = 1)), 'didGuard');
  // allowRelease: optional boolean; absent leaves the policy (and its CID) as it was.
  assert.equal(parsePolicy({ ...doc, didGuard: { ...doc.didGuard, allowRelease: true } }).policy.didGuard?.allowRelease, true);
  assert.equal('allowRelease' in parsePolicy(doc).policy.didGuard!, false);
  assert.notEqual(parsePolicy({ ...doc, didGuard: { ...doc.didGuard, allowRelease: false } }).cid.toString(), parsePolicy(doc).cid.toString());
  rejects((p) => (guarded(p), (p.didGuard.allowRelease = 'yes')), 'didGuard.allowRelease');
  // The operation type is never a record collection (a co-signed operation must not be signable as a record).
  rejects((p) => (p.collections = ['dev.encumber.plcOp']), 'collections');
  // Nor any of the enclave's own document types: a co-signed record of one would carry the enclave key's signature
  // over a document of that type (a guard log, a receipt, ...).
  for (const own of ['dev.encumber.guardLog', 'dev.encumber.receipt', 'dev.encumber.binding', 'dev.encumber.upgrade', 'dev.encumber.handoff', 'dev.encumber.future']) {
    rejects((p) => (p.collections = ['app.bsky.feed.post', own]), 'collections');
  }
  assert.deepEqual(parsePolicy({ ...base(), collections: ['dev.encumberish.post'] }).policy.collections, ['dev.encumberish.post']);
});

test('the embedded default policy is valid: 2 of 3, supplied mode', () => {
  const { policy } = loadDefaultPolicy();
  assert.equal(policy.signers.length, 3);
  assert.equal(policy.threshold, 2);
  assert.equal(policy.plc.source, 'supplied');
});

test('payload = record minus signatures, plus $sig { $type, repository, collection }', () => {
  const record = { $type: 'app.bsky.feed.post', text: 'hi', signatures: [{ anything: 1 }] };
  const p = buildPayload(record, 'did:plc:orgorgorgorgorgorgorgorg', 'app.bsky.feed.post');
  const decoded = decodeCbor(p.bytes) as any;
  assert.equal(decoded.signatures, undefined);
  assert.deepEqual(decoded.$sig, { $type: 'dev.encumber.payload', repository: 'did:plc:orgorgorgorgorgorgorgorg', collection: 'app.bsky.feed.post' });
  assert.equal(p.cid.toString(), cidForValue(decoded).toString());
  // Signatures never change the payload; repository and collection do.
  assert.equal(buildPayload({ ...record, signatures: [] }, 'did:plc:orgorgorgorgorgorgorgorg', 'app.bsky.feed.post').cid.toString(), p.cid.toString());
  assert.notEqual(buildPayload(record, A, 'app.bsky.feed.post').cid.toString(), p.cid.toString());
  assert.throws(() => buildPayload({ ...record, $sig: {} }, A, 'app.bsky.feed.post'), (e: any) => e.code === 'InvalidRequest');
  assert.throws(() => buildPayload(record, A, 'app.bsky.feed.like'), (e: any) => e.code === 'InvalidRequest');
});

/** A state whose canonical chain is `canonical` (genesis first, head last), with `nullified` entries too. */
function state(canonical: string[], nullified: string[] = [], createdAt = '2026-01-01T00:00:00.000Z'): PlcState {
  const head = canonical.at(-1)!;
  const entryCids = [...canonical.slice(0, 1), ...nullified, ...canonical.slice(1)];
  return {
    did: A, rotationKeys: [], verificationMethods: {}, alsoKnownAs: [], services: {}, tombstoned: false,
    head: { cid: head, createdAt, index: entryCids.indexOf(head) }, nullified: [], canonicalCids: canonical, entryCids, warnings: [],
  };
}

test('high-water mark: the marked op must be the new head or an ancestor of it (by CID, never by createdAt)', () => {
  const mark = { cid: 'bafy-2' };
  for (const source of ['supplied', 'fetch'] as const) {
    assert.doesNotThrow(() => checkHighWater(undefined, state(['bafy-1']), source));
    assert.doesNotThrow(() => checkHighWater(mark, state(['bafy-1', 'bafy-2']), source));
    assert.doesNotThrow(() => checkHighWater(mark, state(['bafy-1', 'bafy-2', 'bafy-3']), source));
    // createdAt plays no part: a head "older" than when the mark was set, or far in the future, is judged by position.
    assert.doesNotThrow(() => checkHighWater(mark, state(['bafy-1', 'bafy-2'], [], '1999-01-01T00:00:00.000Z'), source));
    // Shorter log, or a history without the mark (forked away / rewritten), whatever its createdAt.
    for (const s of [state(['bafy-1']), state(['bafy-1', 'bafy-9'], [], '2099-01-01T00:00:00.000Z'), state(['bafy-0'])]) {
      assert.throws(() => checkHighWater(mark, s, source), (e: any) => e.code === 'StalePlcLog');
    }
  }
});

test('high-water mark: a fork that nullifies the marked op is refused in supplied mode, accepted in fetch mode', () => {
  const mark = { cid: 'bafy-2' };
  // bafy-4 forks from bafy-1 and nullifies bafy-2 (the verifier checked the 72-hour rule on the log's createdAt).
  const recovered = state(['bafy-1', 'bafy-4'], ['bafy-2']);
  assert.throws(() => checkHighWater(mark, recovered, 'supplied'), (e: any) => e.code === 'StalePlcLog');
  assert.doesNotThrow(() => checkHighWater(mark, recovered, 'fetch'));
  // An ancestor of the mark nullified: the mark is nullified with it.
  assert.throws(() => checkHighWater({ cid: 'bafy-3' }, state(['bafy-1', 'bafy-4'], ['bafy-2', 'bafy-3']), 'supplied'), (e: any) => e.code === 'StalePlcLog');
});
