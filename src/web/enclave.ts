/**
 * The page's only network calls, each one the user asked for: the enclave's
 * identity and attestation (with a fresh random nonce made here), and a
 * record from a PDS by its at:// URI. `fetch` is a parameter so tests can
 * stand in for it.
 */
import { toHex } from '../crypto/encoding.ts';
import type { Identity } from '../verifier/record.ts';
import { classifyJson } from './inputs.ts';
import type { EvidenceSource } from './flow.ts';

type Fetch = typeof fetch;

export class FetchProblem extends Error {}

async function getJson(f: Fetch, url: URL): Promise<unknown> {
  let res: Response;
  try {
    res = await f(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
  } catch (e) {
    throw new FetchProblem(`cannot reach ${url.origin}: ${(e as Error).message} (is the URL right, and does the server allow this page's origin?)`);
  }
  const text = await res.text();
  if (!res.ok) throw new FetchProblem(`${url.pathname}: HTTP ${res.status} ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new FetchProblem(`${url.pathname}: the answer is not JSON`);
  }
}

/** 32 random bytes from the browser's CSPRNG. */
export function freshNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

export interface LiveCheck {
  identity: Identity;
  evidence: EvidenceSource;
}

/** getIdentity, then getAttestation with a nonce nobody has seen before. */
export async function fetchEnclave(base: string, f: Fetch = fetch, nonce = freshNonce()): Promise<LiveCheck> {
  const root = new URL(base);
  const identity = (await getJson(f, new URL('xrpc/dev.encumber.getIdentity', withSlash(root)))) as Identity;
  if (typeof identity?.key !== 'string') throw new FetchProblem('getIdentity: not an identity (no key)');
  const att = classifyJson(await getJson(f, new URL(`xrpc/dev.encumber.getAttestation?nonce=${toHex(nonce)}`, withSlash(root))));
  if (att.kind !== 'evidence') throw new FetchProblem('getAttestation: the answer carries no evidence');
  return { identity, evidence: { input: att.input, origin: { kind: 'live', url: root.toString(), nonce } } };
}

function withSlash(u: URL): URL {
  const v = new URL(u);
  if (!v.pathname.endsWith('/')) v.pathname += '/';
  v.search = '';
  v.hash = '';
  return v;
}

/** at://<repo>/<collection>/<rkey> → its parts (no handle resolution: give the DID). */
export function parseAtUri(uri: string): { repo: string; collection: string; rkey: string } {
  const m = /^at:\/\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)$/.exec(uri.trim());
  if (!m) throw new FetchProblem('an at:// URI is at://<did>/<collection>/<rkey>');
  return { repo: decodeURIComponent(m[1]!), collection: decodeURIComponent(m[2]!), rkey: decodeURIComponent(m[3]!) };
}

/** com.atproto.repo.getRecord on the PDS the user named; the record is `value`. */
export async function fetchRecord(uri: string, pds: string, f: Fetch = fetch): Promise<unknown> {
  const { repo, collection, rkey } = parseAtUri(uri);
  const url = new URL('xrpc/com.atproto.repo.getRecord', withSlash(new URL(pds)));
  url.searchParams.set('repo', repo);
  url.searchParams.set('collection', collection);
  url.searchParams.set('rkey', rkey);
  const answer = (await getJson(f, url)) as { value?: unknown };
  if (answer?.value === undefined) throw new FetchProblem('getRecord: the answer has no value');
  return answer.value;
}
