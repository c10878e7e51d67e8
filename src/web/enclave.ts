/**
 * The page's only network calls, each one the user asked for: the enclave's
 * identity and attestation (with a fresh random nonce made here), and a
 * record from a PDS by its at:// URI. All through the project's one
 * JSON-over-HTTP client (bounded, no redirects); `fetch` is a parameter so
 * tests can stand in for it.
 */
import { toHex } from '../crypto/encoding.ts';
import { parseAtUri } from '../data/syntax/index.ts';
import { getJsonObject, type HttpJsonOptions } from '../http/json.ts';
import { evidenceFromAnswer, identityFromAnswer } from '../verifier/inputs.ts';
import type { Identity } from '../verifier/record.ts';
import type { EvidenceSource } from './flow.ts';

type Fetch = typeof fetch;

const options = (f: Fetch, what: string): HttpJsonOptions => ({
  fetch: f,
  what: `${what} (is the URL right, and does the server allow this page's origin?)`,
  init: { cache: 'no-store' },
});

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
  const root = withSlash(new URL(base));
  const identity = identityFromAnswer(await getJsonObject(new URL('xrpc/dev.encumber.getIdentity', root), options(f, 'getIdentity')));
  const answer = await getJsonObject(new URL(`xrpc/dev.encumber.getAttestation?nonce=${toHex(nonce)}`, root), options(f, 'getAttestation'));
  return { identity, evidence: { input: evidenceFromAnswer(answer), origin: { kind: 'live', url: new URL(base).toString(), nonce } } };
}

function withSlash(u: URL): URL {
  const v = new URL(u);
  if (!v.pathname.endsWith('/')) v.pathname += '/';
  v.search = '';
  v.hash = '';
  return v;
}

/** com.atproto.repo.getRecord on the PDS the user named; the record is `value`. */
export async function fetchRecord(uri: string, pds: string, f: Fetch = fetch): Promise<unknown> {
  const { repository, collection, rkey } = parseAtUri(uri.trim());
  const url = new URL('xrpc/com.atproto.repo.getRecord', withSlash(new URL(pds)));
  url.searchParams.set('repo', repository);
  url.searchParams.set('collection', collection);
  url.searchParams.set('rkey', rkey);
  const answer = await getJsonObject(url, options(f, 'getRecord'));
  if (answer.value === undefined) throw new Error('getRecord: the answer has no value');
  return answer.value;
}
