/**
 * verifyRecordProof on getRecord CARs the reference implementation
 * (@atproto/repo, a test oracle only) produced from real repositories, and on
 * each kind of tampering: every attack asserts its exact code, and where the
 * reference verifier applies (`verifyProofs`), its verdict must equal ours.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { CarBufferReader } from '@ipld/car/buffer-reader';
import { P256Keypair, Secp256k1Keypair, type Keypair } from '@atproto/crypto';
import { concatBytesAsync, getRecords, MemoryBlockstore, Repo, verifyProofs, WriteOpAction, type RecordCreateOp } from '@atproto/repo';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { varint } from 'multiformats';
import { verifyRecordProof, mstKeyLayer, type RecordProofInput } from '../../src/verifier/repo-proof.ts';
import { EncumberError, type ErrorCode } from '../../src/errors.ts';
import { decodeCbor, encodeCbor } from '../../src/data/cbor.ts';
import { CID, cidForCborBytes } from '../../src/data/cid.ts';
import { ipldToJson } from '../../src/data/json.ts';
import { K256 } from '../../src/crypto/curves.ts';
import { parseDidKey } from '../../src/crypto/did-key.ts';
import { negateS } from '../../src/crypto/scalar.ts';

const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const OTHER_DID = 'did:plc:z72i7hdynmk6r22z27h6tvur';
const COLLECTIONS = ['app.bsky.feed.post', 'app.bsky.feed.like', 'dev.encumber.test'];
const N_RECORDS = 200;

interface Block {
  cid: CID;
  bytes: Uint8Array;
}

interface Fixture {
  keypair: Keypair;
  storage: MemoryBlockstore;
  repo: Repo;
  written: Map<string, RecordCreateOp>;
}

let k256: Fixture;
let p256: Fixture;
let other: Fixture;
let wrongKey: string;
/** A present record at each proof depth found (depth → key). */
const byDepth = new Map<number, { collection: string; rkey: string }>();
let target: { collection: string; rkey: string };
let validCar: Uint8Array;

function writes(prefix: string, n: number, rkeyPrefix: string): RecordCreateOp[] {
  return Array.from({ length: n }, (_, i) => {
    const collection = COLLECTIONS[i % COLLECTIONS.length] as string;
    const record: Record<string, unknown> = { $type: collection, text: `${prefix} ${i}`, n: i, createdAt: '2026-01-02T03:04:05.000Z' };
    if (i % 7 === 0) record.blob = new Uint8Array([i & 0xff, 1, 2, 3]);
    return { action: WriteOpAction.Create, collection, rkey: `${rkeyPrefix}${String(i).padStart(4, '0')}`, record } as RecordCreateOp;
  });
}

async function makeRepo(keypair: Keypair, prefix: string, n = N_RECORDS, rkeyPrefix = 'r'): Promise<Fixture> {
  const storage = new MemoryBlockstore();
  const ops = writes(prefix, n, rkeyPrefix);
  const repo = await Repo.create(storage, DID, keypair, ops);
  return { keypair, storage, repo, written: new Map(ops.map((o) => [`${o.collection}/${o.rkey}`, o])) };
}

async function proofCar(f: Fixture, collection: string, rkey: string): Promise<Uint8Array> {
  return concatBytesAsync(getRecords(f.storage, f.repo.cid, [{ collection, rkey }]));
}

/** A CAR v1 written by hand, so the tests can give it any roots and blocks. */
function encodeCar(roots: CID[], blocks: Block[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = encodeCbor({ version: 1, roots });
  parts.push(varint.encodeTo(header.length, new Uint8Array(varint.encodingLength(header.length))), header);
  for (const b of blocks) {
    const len = b.cid.bytes.length + b.bytes.length;
    parts.push(varint.encodeTo(len, new Uint8Array(varint.encodingLength(len))), b.cid.bytes, b.bytes);
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function readCar(car: Uint8Array): { root: CID; blocks: Block[] } {
  const r = CarBufferReader.fromBytes(car);
  return { root: r.getRoots()[0] as CID, blocks: r.blocks().map((b) => ({ cid: CID.asCID(b.cid) as CID, bytes: b.bytes })) };
}

function block(value: unknown): Block {
  const bytes = encodeCbor(value);
  return { cid: cidForCborBytes(bytes), bytes };
}

/** A commit over `data`, signed by `keypair` (or carrying `sig` as given). */
async function signedCommit(keypair: Keypair, fields: Record<string, unknown>): Promise<Block> {
  const unsigned = { did: DID, version: 3, rev: '3lbbbbbbbbbb2', prev: null, ...fields };
  const sig = await keypair.sign(encodeCbor(unsigned));
  return block({ ...unsigned, sig });
}

function input(car: Uint8Array, over: Partial<RecordProofInput> = {}): RecordProofInput {
  return { car, did: DID, collection: target.collection, rkey: target.rkey, signingKey: k256.keypair.did(), ...over };
}

function code(f: () => unknown): ErrorCode | 'valid' {
  try {
    f();
    return 'valid';
  } catch (e) {
    if (!(e instanceof EncumberError)) throw e;
    return e.code;
  }
}

function message(i: RecordProofInput): string {
  try {
    verifyRecordProof(i);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

function rejects(i: RecordProofInput, expected: ErrorCode): EncumberError {
  try {
    verifyRecordProof(i);
  } catch (e) {
    assert.ok(e instanceof EncumberError, String(e));
    assert.equal(e.code, expected, e.message);
    return e;
  }
  assert.fail(`expected ${expected}, the proof verified`);
}

/**
 * The reference verdict: `verifyProofs` with the claim the repo really holds
 * (the record's CID, or null for a key not in the repo). Valid when it does
 * not throw and verifies the claim.
 */
async function theirs(i: RecordProofInput, claimCid: CID | null): Promise<boolean> {
  try {
    const r = await verifyProofs(i.car, [{ collection: i.collection, rkey: i.rkey, cid: claimCid } as never], i.did, i.signingKey);
    return r.verified.length === 1;
  } catch {
    return false;
  }
}

/** Ours: valid for a verified inclusion proof, and for a key absent from a genuine commit (RecordNotInRepo). */
function oursAgrees(i: RecordProofInput, claimCid: CID | null): boolean {
  const c = code(() => verifyRecordProof(i));
  return claimCid === null ? c === 'RecordNotInRepo' : c === 'valid';
}

const differential: { name: string; ours: boolean; theirs: boolean }[] = [];
async function compare(name: string, i: RecordProofInput, claimCid: CID | null): Promise<void> {
  const t = await theirs(i, claimCid);
  const o = oursAgrees(i, claimCid);
  differential.push({ name, ours: o, theirs: t });
  assert.equal(o, t, `${name}: ours ${o}, @atproto/repo ${t}`);
}

async function leafCid(f: Fixture, collection: string, rkey: string): Promise<CID> {
  const cid = await f.repo.data.get(`${collection}/${rkey}`);
  assert.ok(cid);
  return CID.asCID(cid) as CID;
}

before(async () => {
  k256 = await makeRepo(await Secp256k1Keypair.create({ exportable: true }), 'k256');
  p256 = await makeRepo(await P256Keypair.create({ exportable: true }), 'p256', 40);
  other = await makeRepo(k256.keypair, 'other', 20, 'o');
  wrongKey = (await Secp256k1Keypair.create()).did();
  for (const key of k256.written.keys()) {
    const path = await k256.repo.data.cidsForPath(key);
    const depth = path.length - 2; // the nodes, then the leaf value
    if (!byDepth.has(depth)) {
      const [collection, rkey] = key.split('/') as [string, string];
      byDepth.set(depth, { collection, rkey });
    }
  }
  target = byDepth.get(Math.max(...byDepth.keys())) as { collection: string; rkey: string };
  validCar = await proofCar(k256, target.collection, target.rkey);
});

test('records at every depth of a 200-record K-256 repo verify and equal what was written', async () => {
  assert.ok(byDepth.size >= 2, `the MST has more than one level (depths ${[...byDepth.keys()]})`);
  for (const [depth, { collection, rkey }] of byDepth) {
    const car = await proofCar(k256, collection, rkey);
    const proof = verifyRecordProof(input(car, { collection, rkey }));
    assert.deepEqual(proof.record, ipldToJson(k256.written.get(`${collection}/${rkey}`)?.record));
    assert.equal(proof.recordCid, (await leafCid(k256, collection, rkey)).toString());
    assert.deepEqual(proof.commit, {
      did: DID,
      rev: k256.repo.commit.rev,
      data: k256.repo.commit.data.toString(),
      version: 3,
      cid: k256.repo.cid.toString(),
    });
    assert.deepEqual(
      proof.checks.map((c) => c.name),
      ['repo-proof-car', 'repo-commit', 'repo-commit-did', 'repo-commit-signature', 'repo-mst-path', 'repo-record'],
    );
    assert.ok(proof.checks.every((c) => c.ok));
    const sigRow = proof.checks.find((c) => c.name === 'repo-commit-signature')?.detail ?? '';
    assert.match(sigRow, new RegExp(`${k256.repo.cid}.*${k256.repo.commit.rev}.*${k256.keypair.did()}`));
    const recordRow = proof.checks.find((c) => c.name === 'repo-record')?.detail ?? '';
    assert.ok(recordRow.includes(proof.recordCid) && recordRow.includes(proof.commit.rev), recordRow);
    assert.ok(proof.checks.find((c) => c.name === 'repo-mst-path')?.detail.includes(`depth ${depth}`));
    await compare(`valid, depth ${depth}`, input(car, { collection, rkey }), await leafCid(k256, collection, rkey));
  }
});

test('a P-256 repo verifies', async () => {
  const [key, op] = [...p256.written][3] as [string, RecordCreateOp];
  const [collection, rkey] = key.split('/') as [string, string];
  const car = await proofCar(p256, collection, rkey);
  const i = input(car, { collection, rkey, signingKey: p256.keypair.did() });
  assert.equal(parseDidKey(i.signingKey).curve, 'p256');
  assert.deepEqual(verifyRecordProof(i).record, ipldToJson(op.record));
  await compare('valid, p256', i, await leafCid(p256, collection, rkey));
});

test('wrong signing key: RepoCommitSignatureInvalid', async () => {
  const i = input(validCar, { signingKey: wrongKey });
  rejects(i, 'RepoCommitSignatureInvalid');
  await compare('wrong signing key', i, await leafCid(k256, target.collection, target.rkey));
});

test('commit did is not the URI repository: RepoDidMismatch', async () => {
  const i = input(validCar, { did: OTHER_DID });
  rejects(i, 'RepoDidMismatch');
  await compare('did mismatch', i, await leafCid(k256, target.collection, target.rkey));
});

test('record block bytes edited, CID left: RepoProofInvalid (hash)', async () => {
  const { root, blocks } = readCar(validCar);
  const leaf = await leafCid(k256, target.collection, target.rkey);
  const edited = blocks.map((b) => {
    if (!b.cid.equals(leaf)) return b;
    const value = decodeCbor(b.bytes) as Record<string, unknown>;
    return { cid: b.cid, bytes: encodeCbor({ ...value, text: 'edited after commit' }) };
  });
  const i = input(encodeCar([root], edited));
  const e = rejects(i, 'RepoProofInvalid');
  assert.match(e.message, /does not hash to its CID/);
  await compare('record bytes edited', i, leaf);
});

test('record block replaced by another valid record with its own CID: RecordNotInRepo', async () => {
  const { root, blocks } = readCar(validCar);
  const leaf = await leafCid(k256, target.collection, target.rkey);
  const swapped = blocks.map((b) => (b.cid.equals(leaf) ? block({ $type: target.collection, text: 'a different record' }) : b));
  const i = input(encodeCar([root], swapped));
  rejects(i, 'RecordNotInRepo');
  await compare('record replaced', i, leaf);
});

test('non-inclusion: the reference CAR for an rkey not in the repo is RecordNotInRepo', async () => {
  const car = await proofCar(k256, target.collection, 'zzz-not-there');
  const i = input(car, { rkey: 'zzz-not-there' });
  rejects(i, 'RecordNotInRepo');
  await compare('absent rkey (reference non-inclusion CAR)', i, null);
  const early = await proofCar(k256, 'app.bsky.feed.post', 'a0000');
  rejects(input(early, { collection: 'app.bsky.feed.post', rkey: 'a0000' }), 'RecordNotInRepo');
});

test('non-inclusion: the record block deleted from the CAR is RecordNotInRepo', async () => {
  const { root, blocks } = readCar(validCar);
  const leaf = await leafCid(k256, target.collection, target.rkey);
  const i = input(encodeCar([root], blocks.filter((b) => !b.cid.equals(leaf))));
  rejects(i, 'RecordNotInRepo');
  await compare('record block deleted', i, leaf);
});

test('a missing MST node on the path: RepoProofInvalid', async () => {
  const { root, blocks } = readCar(validCar);
  const leaf = await leafCid(k256, target.collection, target.rkey);
  const nodes = blocks.filter((b) => !b.cid.equals(root) && !b.cid.equals(leaf));
  assert.ok(nodes.length >= 2);
  const i = input(encodeCar([root], blocks.filter((b) => !b.cid.equals((nodes[1] as Block).cid))));
  const e = rejects(i, 'RepoProofInvalid');
  assert.match(e.message, /missing/);
  await compare('MST node missing', i, leaf);
});

test('commit signed by the key but data pointing at another MST: RepoProofInvalid', async () => {
  const { blocks } = readCar(validCar);
  const commit = await signedCommit(k256.keypair, { data: other.repo.commit.data });
  const i = input(encodeCar([commit.cid], [commit, ...blocks.slice(1)]));
  const e = rejects(i, 'RepoProofInvalid');
  assert.match(e.message, /MST root block .* is missing/);
  await compare('data → another MST', i, await leafCid(k256, target.collection, target.rkey));
  // The same commit with the other MST's own path: the key is not in that tree.
  const otherCar = await proofCar(other, target.collection, target.rkey);
  const j = input(encodeCar([commit.cid], [commit, ...readCar(otherCar).blocks.slice(1)]));
  rejects(j, 'RecordNotInRepo');
});

test('commit version 2 (re-signed): RepoProofInvalid', async () => {
  const { blocks } = readCar(validCar);
  const commit = await signedCommit(k256.keypair, { data: k256.repo.commit.data, version: 2 });
  const i = input(encodeCar([commit.cid], [commit, ...blocks.slice(1)]));
  assert.equal(rejects(i, 'RepoProofInvalid').path, 'commit.version');
  await compare('commit version 2', i, await leafCid(k256, target.collection, target.rkey));
  // Control: the same commit as version 3 verifies, so only the version rule refused it.
  const v3 = await signedCommit(k256.keypair, { data: k256.repo.commit.data });
  verifyRecordProof(input(encodeCar([v3.cid], [v3, ...blocks.slice(1)])));
});

test('high-S commit signature (otherwise valid): RepoCommitSignatureInvalid', async () => {
  const { root, blocks } = readCar(validCar);
  const commit = decodeCbor((blocks[0] as Block).bytes) as Record<string, unknown>;
  assert.ok((blocks[0] as Block).cid.equals(root));
  const { sig, ...unsigned } = commit;
  const highS = negateS(sig as Uint8Array, K256.n);
  const digest = sha256(encodeCbor(unsigned));
  const pub = parseDidKey(k256.keypair.did()).compressed;
  assert.ok(K256.noble.verify(highS, digest, pub, { prehash: false, lowS: false, format: 'compact' }), 'the high-S twin is mathematically valid');
  const twin = block({ ...commit, sig: highS });
  const i = input(encodeCar([twin.cid], [twin, ...blocks.slice(1)]));
  assert.equal(rejects(i, 'RepoCommitSignatureInvalid').actual, 'SignatureNotLowS');
  await compare('high-S signature', i, await leafCid(k256, target.collection, target.rkey));
});

test('CAR with two roots or none: RepoProofInvalid', async () => {
  const { root, blocks } = readCar(validCar);
  const leaf = await leafCid(k256, target.collection, target.rkey);
  for (const roots of [[root, root], []]) {
    const i = input(encodeCar(roots, blocks));
    rejects(i, 'RepoProofInvalid');
    await compare(`${roots.length} roots`, i, leaf);
  }
  // Control: the hand-written CAR with one root verifies.
  verifyRecordProof(input(encodeCar([root], blocks)));
});

test('truncated CAR: RepoProofInvalid', async () => {
  const i = input(validCar.subarray(0, validCar.length - 7));
  rejects(i, 'RepoProofInvalid');
  await compare('truncated CAR', i, await leafCid(k256, target.collection, target.rkey));
});

test('a CAR over maxBytes is refused before parsing: TooLarge', () => {
  const malformed = validCar.subarray(0, validCar.length - 7);
  rejects(input(malformed, { maxBytes: malformed.length }), 'RepoProofInvalid');
  const e = rejects(input(malformed, { maxBytes: malformed.length - 1 }), 'TooLarge');
  assert.equal(e.actual, malformed.length);
  assert.equal(code(() => verifyRecordProof(input(validCar, { maxBytes: 100 }))), 'TooLarge');
  assert.equal(code(() => verifyRecordProof(input(new Uint8Array(3 * 1024 * 1024)))), 'TooLarge', 'the default limit is 2 MiB');
  assert.equal(code(() => verifyRecordProof(input(validCar, { maxBytes: Number.NaN }))), 'UsageError', 'a limit that is no number is not "no limit"');
});

/** Another key with the target's MST layer, so a one-node tree of the two is canonical when sorted. */
function sameLayerKey(key: string, before: boolean): string {
  const layer = mstKeyLayer(key);
  for (let i = 0; ; i++) {
    const k = `${target.collection}/${before ? 'a' : 'z'}${i}`;
    if (mstKeyLayer(k) === layer) return k;
  }
}

async function oneNodeProof(entries: { p: number; k: Uint8Array; v: CID; t: null }[], extra: Block[]): Promise<Uint8Array> {
  const node = block({ l: null, e: entries });
  const commit = await signedCommit(k256.keypair, { data: node.cid });
  return encodeCar([commit.cid], [commit, node, ...extra]);
}

test('MST node with unsorted keys (re-signed commit): RepoProofInvalid', async () => {
  const targetKey = `${target.collection}/${target.rkey}`;
  const record = block(k256.written.get(targetKey)?.record);
  const after = sameLayerKey(targetKey, false);
  const enc = new TextEncoder();
  const sorted = [
    { p: 0, k: enc.encode(targetKey), v: record.cid, t: null },
    { p: 0, k: enc.encode(after), v: record.cid, t: null },
  ];
  // Control: sorted, the hand-built tree verifies.
  assert.equal(verifyRecordProof(input(await oneNodeProof(sorted, [record]))).recordCid, record.cid.toString());
  const i = input(await oneNodeProof([sorted[1], sorted[0]] as typeof sorted, [record]));
  assert.match(rejects(i, 'RepoProofInvalid').message, /not sorted/);
  await compare('unsorted MST keys', i, record.cid);
});

test('MST entry whose prefix is longer than the previous key: RepoProofInvalid', async () => {
  const targetKey = `${target.collection}/${target.rkey}`;
  const record = block(k256.written.get(targetKey)?.record);
  const before = sameLayerKey(targetKey, true);
  const enc = new TextEncoder();
  const entries = [
    { p: 0, k: enc.encode(before), v: record.cid, t: null },
    { p: 0, k: enc.encode(targetKey), v: record.cid, t: null },
  ];
  verifyRecordProof(input(await oneNodeProof(entries, [record])));
  const bad = [entries[0], { ...entries[1], p: before.length + 1 }] as typeof entries;
  assert.match(rejects(input(await oneNodeProof(bad, [record])), 'RepoProofInvalid').message, /prefix .* longer/);
});

test('MST path deeper than 64 levels: RepoProofInvalid', async () => {
  let next: Block = block({ l: null, e: [] });
  const chain = [next];
  for (let i = 0; i < 64; i++) {
    next = block({ l: next.cid, e: [] });
    chain.push(next);
  }
  const commit = await signedCommit(k256.keypair, { data: next.cid });
  assert.match(rejects(input(encodeCar([commit.cid], [commit, ...chain])), 'RepoProofInvalid').message, /deeper than 64/);
});

test('MST node with more than 10,000 entries: RepoProofInvalid', async () => {
  const record = block({ $type: target.collection });
  const node = block({ l: null, e: Array.from({ length: 10_001 }, (_, i) => ({ p: 0, k: new TextEncoder().encode(`a.b.c/${i}`), v: record.cid, t: null })) });
  const commit = await signedCommit(k256.keypair, { data: node.cid });
  assert.match(rejects(input(encodeCar([commit.cid], [commit, node, record])), 'RepoProofInvalid').message, /more than 10000/);
});

test('the reference reader accepts a last block whose length prefix overstates the bytes left; ours refuses it', async () => {
  const { root, blocks } = readCar(validCar);
  const last = blocks.at(-1) as Block;
  const length = last.cid.bytes.length + last.bytes.length;
  const head = validCar.subarray(0, validCar.length - length - varint.encodingLength(length));
  const bigger = length + 32;
  const lenient = new Uint8Array([...head, ...varint.encodeTo(bigger, new Uint8Array(varint.encodingLength(bigger))), ...last.cid.bytes, ...last.bytes]);
  assert.deepEqual(encodeCar([root], blocks), validCar, 'the hand-written framing is the reference framing');
  const i = input(lenient);
  assert.match(rejects(i, 'RepoProofInvalid').message, /not a readable CAR/);
  assert.equal(await theirs(i, await leafCid(k256, target.collection, target.rkey)), true);
});

test('property: no single bit flip of a proof CAR verifies; the reference agrees except on that framing leniency', async () => {
  const leaf = await leafCid(k256, target.collection, target.rkey);
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: validCar.length - 1 }), fc.nat({ max: 7 }), async (at, bit) => {
      const car = validCar.slice();
      car[at] = (car[at] as number) ^ (1 << bit);
      const i = input(car);
      const c = code(() => verifyRecordProof(i));
      assert.notEqual(c, 'valid');
      const t = await theirs(i, leaf);
      if (t) assert.match(message(i), /not a readable CAR/, `bit ${bit} of byte ${at}: the reference accepts it, we refuse it`);
    }),
    { numRuns: 300 },
  );
});

test('differential summary: ours and @atproto/repo verifyProofs agree wherever it applies', () => {
  assert.ok(differential.length >= 15, `${differential.length} cases compared`);
  for (const d of differential) assert.equal(d.ours, d.theirs, d.name);
});
