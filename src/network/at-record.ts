/**
 * A record by its at:// URI, from the network, with its proof: the
 * repository DID resolved (did:plc: its audit log from the PLC directory,
 * verified; did:web: its DID document), the PDS it names asked for the record
 * with `com.atproto.sync.getRecord` (a CAR holding the signed commit and the
 * MST path), and the commit signature and the record's inclusion checked
 * (src/verifier/repo-proof.ts). The co-signers' audit logs come from the same
 * directory, so the record verifier can re-derive every co-signer's key.
 *
 * The verifier's network edge, shared by `encumber record verify at://…` and
 * the page: every request is bounded in time and size, follows no redirect,
 * and goes only to the directory and the PDS (both shown as rows). `fetch` is
 * a parameter.
 */
import { EncumberError } from '../errors.ts';
import { parseRecordAddress, type AtUri } from '../data/syntax/index.ts';
import { getJsonObject, requestBytes, xrpcErrorText } from '../http/json.ts';
import { fetchAuditLog } from '../plc/directory/client.ts';
import type { AttestationCheck } from '../attestation/types.ts';
import { didWebDocumentUrl, repositoryFromDidDocument, repositoryFromPlcLog, type RepositoryHome } from '../verifier/repository.ts';
import { verifyRecordProof, type RecordProof } from '../verifier/repo-proof.ts';

export const DEFAULT_PLC_DIRECTORY = 'https://plc.directory';
/** Where a handle in a URI or bsky.app URL is resolved when no resolver is given. */
export const DEFAULT_HANDLE_RESOLVER = 'https://public.api.bsky.app';
/** A getRecord proof is a commit, a few MST nodes and one record: far below this. */
export const MAX_PROOF_BYTES = 2 * 1024 * 1024;

export interface NetworkOptions {
  /** The PLC directory for did:plc (default https://plc.directory). */
  plc?: string;
  /** Read the record from this PDS instead of the one the DID names (a row says so). */
  pds?: string;
  /**
   * The service whose com.atproto.identity.resolveHandle turns a handle into a DID (default public.api.bsky.app).
   * Never the `pds` override: a mirror of records is not an authority on names.
   */
  handleResolver?: string;
  fetch?: typeof fetch;
  timeoutSignal?: (ms: number) => AbortSignal;
  /** The verifier's clock (PLC operation times are checked against it). */
  now: Date;
  init?: Pick<RequestInit, 'cache'>;
}

export interface NetworkRecord {
  location: AtUri;
  record: unknown;
  home: RepositoryHome;
  proof: RecordProof;
  /** Where each request went (directory, PDS). */
  contacted: string[];
  /** Rows, in order: the repository DID, the PDS read, then the proof's own rows. */
  checks: AttestationCheck[];
}

/** Resolve a repository DID to its PDS and signing key. */
export async function resolveRepository(did: string, opts: NetworkOptions): Promise<{ home: RepositoryHome; contacted: string }> {
  if (did.startsWith('did:plc:')) {
    const directory = opts.plc ?? DEFAULT_PLC_DIRECTORY;
    const log = await fetchAuditLog(directory, did, http(opts));
    return { home: repositoryFromPlcLog(did, log, opts.now, new URL(directory).origin), contacted: new URL(directory).origin };
  }
  if (did.startsWith('did:web:')) {
    const url = didWebDocumentUrl(did);
    const doc = await getJsonObject(url, { ...http(opts), what: `the DID document of ${did}` });
    return { home: repositoryFromDidDocument(did, doc, url), contacted: new URL(url).origin };
  }
  throw new EncumberError('DidResolutionFailed', `${did}: only did:plc and did:web repositories can be resolved`);
}

/** The record and its proof, or the rows so far and the typed failure (a network failure included). */
export type NetworkRecordResult = ({ ok: true } & NetworkRecord) | { ok: false; checks: AttestationCheck[]; contacted: string[]; error: EncumberError };

export async function fetchRecordFromNetwork(input: string, opts: NetworkOptions): Promise<NetworkRecordResult> {
  const checks: AttestationCheck[] = [];
  const contacted: string[] = [];
  let row = 'at-uri';
  try {
    const address = parseRecordAddress(input);
    // The URLs the reader gave, checked before any request.
    const given = opts.pds ? origin(opts.pds, 'PDS') : undefined;
    if (opts.plc) origin(opts.plc, 'PLC directory');
    if (opts.handleResolver) origin(opts.handleResolver, 'handle resolver');
    let handle: string | undefined;
    if (!address.isDid) {
      row = 'handle';
      handle = address.authority.toLowerCase();
      const resolver = origin(opts.handleResolver ?? DEFAULT_HANDLE_RESOLVER, 'handle resolver');
      contacted.push(resolver);
      const did = await resolveHandle(resolver, handle, opts);
      checks.push({
        name: 'handle',
        ok: true,
        detail: `${handle} → ${did} (com.atproto.identity.resolveHandle at ${resolver}; the DID must claim the handle back, below — a claim its owner makes: pin the policy's repository to be sure whose post this is)`,
      });
      address.authority = did;
    }
    // The parts as parsed (decoded once): a did:web's %3A stays part of the DID.
    const location: AtUri = { repository: address.authority, collection: address.collection, rkey: address.rkey, uri: `at://${address.authority}/${address.collection}/${address.rkey}` };
    row = 'repository-did';
    const { home, contacted: directory } = await resolveRepository(location.repository, opts);
    contacted.push(directory);
    checks.push(home.check);
    // Rule: a handle counts only if the DID claims it back (a resolver alone can name any DID); handles are case-insensitive.
    if (handle !== undefined && !home.handles.some((h) => h.toLowerCase() === handle)) {
      throw new EncumberError('DidResolutionFailed', `${location.repository} does not claim the handle ${handle} (its handles: ${home.handles.join(', ') || 'none'})`);
    }
    row = 'repository-pds';
    const pds = given ?? home.pds;
    contacted.push(new URL(pds).origin);
    const bytes = await getRecordProof(pds, location, opts);
    checks.push({
      name: 'repository-pds',
      ok: true,
      detail: given && given !== home.pds
        ? `com.atproto.sync.getRecord from ${pds} (given; the DID names ${home.pds}): ${bytes.length}-byte proof`
        : `com.atproto.sync.getRecord from ${pds}, the PDS the DID names: ${bytes.length}-byte proof`,
    });
    row = 'repository-proof';
    const proof = verifyRecordProof({ car: bytes, did: location.repository, collection: location.collection, rkey: location.rkey, signingKey: home.signingKey });
    checks.push(...proof.checks);
    // Rule: a proof from anywhere but the DID's own PDS must be of the repository's latest commit there; an old
    // proof replayed by a mirror would show a record since edited or deleted.
    if (given && given !== home.pds) {
      row = 'repo-commit-latest';
      contacted.push(new URL(home.pds).origin);
      const latest = await getLatestCommit(home.pds, location.repository, opts);
      if (latest.rev !== proof.commit.rev || latest.cid !== proof.commit.cid) {
        throw new EncumberError('RepoCommitStale', `the proof's commit ${proof.commit.cid} (rev ${proof.commit.rev}) is not the repository's latest at ${home.pds}: ${latest.cid} (rev ${latest.rev})`);
      }
      checks.push({ name: 'repo-commit-latest', ok: true, detail: `commit ${latest.cid} (rev ${latest.rev}) is the latest at ${home.pds}, the PDS the DID names` });
    }
    return { ok: true, location, record: proof.record, home, proof, contacted, checks };
  } catch (e) {
    if (!(e instanceof EncumberError)) throw e;
    checks.push({ name: row, ok: false, detail: `${e.code}: ${e.message}` });
    return { ok: false, checks, contacted, error: e };
  }
}

async function resolveHandle(resolver: string, handle: string, opts: NetworkOptions): Promise<string> {
  const url = new URL('/xrpc/com.atproto.identity.resolveHandle', resolver);
  url.searchParams.set('handle', handle);
  const answer = await getJsonObject(url, { ...http(opts), what: `handle resolver ${resolver}` });
  if (typeof answer.did !== 'string' || !/^did:(plc|web):/.test(answer.did)) {
    throw new EncumberError('DidResolutionFailed', `${resolver} resolved ${handle} to ${JSON.stringify(answer.did)}, not a did:plc or did:web`);
  }
  return answer.did;
}

async function getLatestCommit(pds: string, did: string, opts: NetworkOptions): Promise<{ cid: string; rev: string }> {
  const url = new URL('/xrpc/com.atproto.sync.getLatestCommit', pds);
  url.searchParams.set('did', did);
  const answer = await getJsonObject(url, { ...http(opts), what: `PDS ${pds}` });
  if (typeof answer.cid !== 'string' || typeof answer.rev !== 'string') throw new EncumberError('RemoteUnavailable', `PDS ${pds}: getLatestCommit answered no cid and rev`);
  return { cid: answer.cid, rev: answer.rev };
}

/** The origin of a URL the reader gave; anything else is their usage error, typed. */
function origin(url: string, what: string): string {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
    return u.origin;
  } catch {
    throw new EncumberError('UsageError', `the ${what} URL ${JSON.stringify(url.slice(0, 200))} is not an http(s) URL`);
  }
}

async function getRecordProof(pds: string, location: AtUri, opts: NetworkOptions): Promise<Uint8Array> {
  const url = new URL('/xrpc/com.atproto.sync.getRecord', pds);
  url.searchParams.set('did', location.repository);
  url.searchParams.set('collection', location.collection);
  url.searchParams.set('rkey', location.rkey);
  const answer = await requestBytes(url, { ...http(opts), maxBytes: MAX_PROOF_BYTES, accept: 'application/vnd.ipld.car', what: `PDS ${pds}` });
  if (answer.status === 200) return answer.bytes;
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(answer.bytes));
  } catch {
    body = undefined;
  }
  const notFound = answer.status === 404 || (body as { error?: string } | undefined)?.error === 'RecordNotFound';
  throw new EncumberError(notFound ? 'RecordNotInRepo' : 'RemoteUnavailable', `PDS ${pds}: com.atproto.sync.getRecord answered HTTP ${answer.status}${xrpcErrorText(body)}`);
}

/**
 * The co-signers' audit logs, from the directory: one request per distinct
 * issuer of the record's co-signature entries that is a member of the policy
 * (`members`, the enclave's policy the verifier checks against), so a record
 * cannot make the verifier ask for more logs than the policy has members. A
 * log the directory does not give is left out: the record verifier then
 * answers `MissingPlcLog` as its verdict.
 */
export async function fetchCosignerLogs(record: unknown, members: readonly string[], opts: NetworkOptions): Promise<Record<string, unknown>> {
  const entries = (record as { signatures?: unknown })?.signatures;
  if (!Array.isArray(entries) || entries.length < 2) return {};
  const policy = new Set(members);
  const dids = [...new Set(entries.slice(0, -1).map((e) => (e as { issuer?: unknown })?.issuer).filter((d): d is string => typeof d === 'string' && policy.has(d)))];
  const directory = opts.plc ?? DEFAULT_PLC_DIRECTORY;
  const logs = await Promise.all(dids.map((d) => fetchAuditLog(directory, d, http(opts)).catch((e: unknown) => {
    if (e instanceof EncumberError) return undefined;
    throw e;
  })));
  return Object.fromEntries(dids.flatMap((d, i) => (logs[i] === undefined ? [] : [[d, logs[i]]])));
}

function http(opts: NetworkOptions) {
  return {
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.timeoutSignal ? { timeoutSignal: opts.timeoutSignal } : {}),
    ...(opts.init ? { init: opts.init } : {}),
  };
}
