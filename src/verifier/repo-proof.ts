/**
 * Verifying an atproto record proof: the CAR `com.atproto.sync.getRecord`
 * returns (a signed repo commit, the MST nodes on the path to one key, the
 * record block). Pure and browser-safe: the caller fetches the CAR and the
 * repository's signing key (from its verified DID document / PLC state).
 *
 * Rules, in order (one block each below): size before parsing; CAR v1 with
 * exactly one root, the commit; every block used hashes to the CID that links
 * to it; commit shape (v3) and DID; commit signature (strict: compact, low-S)
 * over the commit without `sig`; the MST walk from `data` to
 * `collection/rkey` (sorted keys, prefixes, layers, bounds); the leaf's value
 * is the record's CID; the record is a data-model map with a `$type`.
 *
 * Facts from the atproto repository spec and its reference implementation
 * (@atproto/repo: mst/util.ts, util.ts verifyCommitSig, sync/consumer.ts):
 * MST keys are `collection/rkey`, a key's layer is the count of leading zero
 * bit pairs of SHA-256(key), node = { l, e: [{ p, k, v, t }] }.
 */
import { CarBufferReader } from '@ipld/car/buffer-reader';
import { sha256 } from '@noble/hashes/sha2.js';
import { EncumberError, type ErrorDetails } from '../errors.ts';
import { parseDidKey } from '../crypto/did-key.ts';
import { checkSignature, describeSignatureFailure } from '../crypto/verify.ts';
import { decodeCbor, encodeCbor } from '../data/cbor.ts';
import { CID, cidForCborBytes, DAG_CBOR_CODEC, SHA2_256 } from '../data/cid.ts';
import { ipldToJson } from '../data/json.ts';
import { isPlainObject } from '../data/kinds.ts';
import { parseRecordCbor } from '../data/record.ts';
import { assertDid, assertNsid, assertRecordKey, isValidTid } from '../data/syntax/index.ts';
import type { AttestationCheck } from '../attestation/types.ts';

export interface RecordProofInput {
  /** The getRecord response body (a CAR v1). */
  car: Uint8Array;
  /** The repository DID the at:// URI names. */
  did: string;
  collection: string;
  rkey: string;
  /** The repository's atproto signing key as a did:key (from its DID document / verified PLC state). */
  signingKey: string;
  /** Refused before any parsing when the CAR is larger. Default 2 MiB. */
  maxBytes?: number;
}

export interface RepoCommit {
  did: string;
  rev: string;
  /** The MST root CID. */
  data: string;
  version: 3;
  /** The commit block's CID (the CAR's root). */
  cid: string;
}

export interface RecordProof {
  /** The record as data-model JSON. */
  record: unknown;
  recordCid: string;
  commit: RepoCommit;
  checks: AttestationCheck[];
}

export const DEFAULT_PROOF_MAX_BYTES = 2 * 1024 * 1024;
/** Deeper than any real tree: 4^64 keys would be needed to reach it with canonical layers. */
export const MAX_MST_DEPTH = 64;
export const MAX_MST_ENTRIES = 10_000;
/** The reference implementation's bound on an MST key (`collection/rkey`). */
const MAX_MST_KEY_LENGTH = 1024;

function invalid(message: string, details: ErrorDetails = {}): EncumberError {
  return new EncumberError('RepoProofInvalid', message, details);
}

function short(cid: CID | string): string {
  const s = cid.toString();
  return s.length > 20 ? `${s.slice(0, 12)}…${s.slice(-6)}` : s;
}

/** A link the proof may follow: CIDv1, dag-cbor, sha2-256 (what atproto repos use for every block). */
function isDagCborLink(v: unknown): v is CID {
  const cid = v instanceof CID ? v : null;
  return cid !== null && cid.version === 1 && cid.code === DAG_CBOR_CODEC && cid.multihash.code === SHA2_256;
}

/** The blocks of the CAR, looked up by CID; each is hashed before it is used (the CAR's own CIDs are claims). */
class ProofBlocks {
  readonly #bytes = new Map<string, Uint8Array>();

  constructor(blocks: readonly { cid: CID; bytes: Uint8Array }[]) {
    for (const b of blocks) {
      const key = b.cid.toString();
      if (!this.#bytes.has(key)) this.#bytes.set(key, b.bytes);
    }
  }

  has(cid: CID): boolean {
    return this.#bytes.has(cid.toString());
  }

  get size(): number {
    return this.#bytes.size;
  }

  /** The block `cid` names, after checking that its bytes hash to it; decoded as DAG-CBOR. */
  read(cid: CID, what: string): { bytes: Uint8Array; value: unknown } {
    const id = cid.toString();
    if (!isDagCborLink(cid)) throw invalid(`${what} link is not a CIDv1 dag-cbor sha2-256`, { actual: id });
    const bytes = this.#bytes.get(id);
    if (bytes === undefined) throw invalid(`${what} block ${id} is missing from the CAR`, { actual: id });
    const computed = cidForCborBytes(bytes);
    if (!computed.equals(cid)) {
      throw invalid(`${what} block does not hash to its CID`, { expected: id, actual: computed.toString() });
    }
    let value: unknown;
    try {
      value = decodeCbor(bytes);
    } catch (cause) {
      throw invalid(`${what} block ${id} is not DAG-CBOR`, { cause });
    }
    return { bytes, value };
  }
}

interface Commit {
  did: string;
  version: 3;
  data: CID;
  rev: string;
  prev: CID | null;
  sig: Uint8Array;
}

const COMMIT_FIELDS = ['data', 'did', 'prev', 'rev', 'sig', 'version'];

function parseCommit(value: unknown): Commit {
  if (!isPlainObject(value)) throw invalid('the commit is not a map');
  const keys = Object.keys(value).sort();
  if (keys.join(',') !== COMMIT_FIELDS.join(',')) {
    throw invalid('the commit does not have exactly the fields did, version, data, rev, prev, sig', { expected: COMMIT_FIELDS, actual: keys });
  }
  const { did, version, data, rev, prev, sig } = value;
  if (version !== 3) throw invalid('the commit is not version 3', { path: 'commit.version', expected: 3, actual: version });
  if (typeof did !== 'string') throw invalid('commit.did is not a string', { path: 'commit.did' });
  if (!isDagCborLink(data)) throw invalid('commit.data is not a dag-cbor CID', { path: 'commit.data' });
  if (!isValidTid(rev)) throw invalid('commit.rev is not a TID', { path: 'commit.rev', actual: rev });
  if (prev !== null && !(prev instanceof CID)) throw invalid('commit.prev is neither a CID nor null', { path: 'commit.prev' });
  if (!(sig instanceof Uint8Array)) throw invalid('commit.sig is not bytes', { path: 'commit.sig' });
  return { did, version, data, rev, prev, sig };
}

interface MstEntry {
  key: string;
  value: CID;
  right: CID | null;
}

interface MstNode {
  left: CID | null;
  entries: MstEntry[];
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** A node's shape and keys: entries sorted strictly ascending, each key rebuilt from the previous one's prefix. */
function parseMstNode(value: unknown, cid: CID): MstNode {
  const where = `MST node ${short(cid)}`;
  if (!isPlainObject(value) || Object.keys(value).sort().join(',') !== 'e,l') throw invalid(`${where} is not a map of exactly l and e`);
  const { l, e } = value;
  if (l !== null && !isDagCborLink(l)) throw invalid(`${where}: l is neither a dag-cbor CID nor null`);
  if (!Array.isArray(e)) throw invalid(`${where}: e is not a list`);
  if (e.length > MAX_MST_ENTRIES) throw invalid(`${where} has ${e.length} entries, more than ${MAX_MST_ENTRIES}`, { expected: MAX_MST_ENTRIES, actual: e.length });
  const entries: MstEntry[] = [];
  let previous = '';
  for (let i = 0; i < e.length; i++) {
    const entry: unknown = e[i];
    if (!isPlainObject(entry) || Object.keys(entry).sort().join(',') !== 'k,p,t,v') throw invalid(`${where}: entry ${i} is not a map of exactly p, k, v, t`, { index: i });
    const { p, k, v, t } = entry;
    if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 0) throw invalid(`${where}: entry ${i} prefix is not a non-negative integer`, { index: i });
    if (p > previous.length) {
      throw invalid(`${where}: entry ${i} prefix ${p} is longer than the previous key (${previous.length})`, { index: i, expected: previous.length, actual: p });
    }
    if (!(k instanceof Uint8Array)) throw invalid(`${where}: entry ${i} key suffix is not bytes`, { index: i });
    if (!isDagCborLink(v)) throw invalid(`${where}: entry ${i} value is not a dag-cbor CID`, { index: i });
    if (t !== null && !isDagCborLink(t)) throw invalid(`${where}: entry ${i} subtree is neither a dag-cbor CID nor null`, { index: i });
    let suffix: string;
    try {
      suffix = decoder.decode(k);
    } catch {
      throw invalid(`${where}: entry ${i} key suffix is not UTF-8`, { index: i });
    }
    const key = previous.slice(0, p) + suffix;
    if (key.length > MAX_MST_KEY_LENGTH) throw invalid(`${where}: entry ${i} key is longer than ${MAX_MST_KEY_LENGTH}`, { index: i });
    if (i > 0 && !(compareKeys(previous, key) < 0)) {
      throw invalid(`${where}: keys are not sorted (entry ${i} "${key}" does not follow "${previous}")`, { index: i, actual: key });
    }
    entries.push({ key, value: v, right: t });
    previous = key;
  }
  return { left: l, entries };
}

/** Keys compare as bytes (they are ASCII in a valid repo; UTF-8 byte order otherwise). */
function compareKeys(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

/** A key's MST layer: leading zero bit pairs of SHA-256(key) (fanout 4). */
export function mstKeyLayer(key: string): number {
  const hash = sha256(encoder.encode(key));
  let zeros = 0;
  for (const byte of hash) {
    if (byte === 0) {
      zeros += 4;
      continue;
    }
    if (byte < 4) zeros += 3;
    else if (byte < 16) zeros += 2;
    else if (byte < 64) zeros += 1;
    break;
  }
  return zeros;
}

/**
 * Walk from the MST root to `key`: in each node, the key is an entry, or lies
 * in `l` (below the first entry) or in the `t` of the last entry below it.
 * Returns the leaf's value CID, or throws RecordNotInRepo when the path ends.
 */
function walkMst(blocks: ProofBlocks, root: CID, key: string): { value: CID; depth: number } {
  let cid: CID = root;
  // Layers fall by one per level; a node's entries all sit on its layer.
  let ceiling = Number.POSITIVE_INFINITY;
  for (let depth = 0; ; depth++) {
    if (depth >= MAX_MST_DEPTH) throw invalid(`the MST path is deeper than ${MAX_MST_DEPTH} levels`);
    const node = parseMstNode(blocks.read(cid, depth === 0 ? 'MST root' : `MST node (depth ${depth})`).value, cid);
    let layer = ceiling - 1;
    if (node.entries.length > 0) {
      layer = mstKeyLayer((node.entries[0] as MstEntry).key);
      for (const [i, entry] of node.entries.entries()) {
        if (mstKeyLayer(entry.key) !== layer) throw invalid(`MST node ${short(cid)}: entry ${i} is on another layer than the node's`, { index: i });
      }
      if (!(layer < ceiling)) throw invalid(`MST node ${short(cid)} is on layer ${layer}, not below its parent's`, { actual: layer });
    }
    let below = 0;
    for (const entry of node.entries) {
      const c = compareKeys(entry.key, key);
      if (c === 0) return { value: entry.value, depth };
      if (c > 0) break;
      below++;
    }
    const next = below === 0 ? node.left : (node.entries[below - 1] as MstEntry).right;
    if (next === null) throw new EncumberError('RecordNotInRepo', `${key} is not in this commit's MST (the path ends at depth ${depth})`, { actual: key });
    cid = next;
    ceiling = layer;
  }
}

export function verifyRecordProof(input: RecordProofInput): RecordProof {
  const { car, did, collection, rkey, signingKey } = input;
  const maxBytes = input.maxBytes ?? DEFAULT_PROOF_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new EncumberError('UsageError', 'maxBytes must be a non-negative integer', { actual: maxBytes });
  const checks: AttestationCheck[] = [];

  // Rule 0: the request itself: a DID, an NSID, a record key, a did:key.
  assertDid(did);
  assertNsid(collection);
  assertRecordKey(rkey);
  const key = parseDidKey(signingKey);
  const mstKey = `${collection}/${rkey}`;

  // Rule 1: size, before any parsing.
  if (!(car instanceof Uint8Array)) throw invalid('the proof is not bytes');
  if (car.length > maxBytes) {
    throw new EncumberError('TooLarge', `the proof CAR is ${car.length} bytes, over the limit of ${maxBytes}`, { expected: maxBytes, actual: car.length });
  }

  // Rule 2: a CAR v1 whose only root is the commit.
  let reader: CarBufferReader;
  try {
    reader = CarBufferReader.fromBytes(car);
  } catch (cause) {
    throw invalid(`the proof is not a readable CAR: ${(cause as Error).message}`, { cause });
  }
  if (reader.version !== 1) throw invalid('the proof is not a CAR v1', { expected: 1, actual: reader.version });
  const roots = reader.getRoots();
  if (roots.length !== 1) throw invalid(`the CAR has ${roots.length} roots, expected exactly one (the commit)`, { expected: 1, actual: roots.length });
  const commitCid = roots[0] as CID;
  const blocks = new ProofBlocks(reader.blocks());
  checks.push({ name: 'repo-proof-car', ok: true, detail: `CAR v1 of ${car.length} bytes (limit ${maxBytes}), ${blocks.size} blocks, one root ${commitCid}` });

  // Rule 3: the commit block hashes to the root and has the v3 shape.
  const commit = parseCommit(blocks.read(commitCid, 'commit').value);
  checks.push({ name: 'repo-commit', ok: true, detail: `commit ${commitCid} (hash checked): version 3, rev ${commit.rev}, MST root ${commit.data}` });

  // Rule 4: the commit is the repository's the URI names.
  if (commit.did !== did) throw new EncumberError('RepoDidMismatch', `the commit is for ${commit.did}, not ${did}`, { expected: did, actual: commit.did });
  checks.push({ name: 'repo-commit-did', ok: true, detail: `commit did ${commit.did} equals the at:// URI's repository` });

  // Rule 5: the signature over the commit without `sig` (compact, low-S), by the DID's atproto key.
  const { sig, ...unsigned } = commit;
  const failure = checkSignature(key, encodeCbor(unsigned), sig);
  if (failure !== undefined) {
    throw new EncumberError('RepoCommitSignatureInvalid', `the commit signature does not verify with ${key.did}: ${describeSignatureFailure(failure)}`, {
      expected: key.did,
      actual: failure,
    });
  }
  checks.push({ name: 'repo-commit-signature', ok: true, detail: `commit ${commitCid} rev ${commit.rev} signed by ${key.did} (the DID's atproto key)` });

  // Rule 6: the MST path from commit.data to collection/rkey; every node hashed, sorted, on its layer.
  const leaf = walkMst(blocks, commit.data, mstKey);
  checks.push({ name: 'repo-mst-path', ok: true, detail: `${mstKey} found at depth ${leaf.depth} of MST ${commit.data}, leaf value ${leaf.value}` });

  // Rule 7: the record block is the leaf's (absent: the CAR's record is not the one the commit holds),
  // hashes to the leaf's CID and is a data-model map with a $type.
  if (!blocks.has(leaf.value)) {
    throw new EncumberError('RecordNotInRepo', `the CAR does not carry the record the commit holds at ${mstKey} (${leaf.value})`, { expected: leaf.value.toString() });
  }
  const recordBytes = blocks.read(leaf.value, 'record').bytes;
  let record: Record<string, unknown>;
  try {
    record = parseRecordCbor(recordBytes) as Record<string, unknown>;
  } catch (cause) {
    throw invalid(`the record block is not a data-model record: ${(cause as Error).message}`, { cause });
  }
  if (typeof record.$type !== 'string' || record.$type.length === 0) throw invalid('the record has no $type string', { path: 'record.$type' });
  checks.push({ name: 'repo-record', ok: true, detail: `record ${leaf.value} ($type ${record.$type}) is the MST leaf of ${mstKey} in commit rev ${commit.rev}` });

  return {
    record: ipldToJson(record),
    recordCid: leaf.value.toString(),
    commit: { did: commit.did, rev: commit.rev, data: commit.data.toString(), version: 3, cid: commitCid.toString() },
    checks,
  };
}
