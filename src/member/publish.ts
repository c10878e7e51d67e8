/**
 * Publishing a signed record to the organisation's PDS: log in
 * (com.atproto.server.createSession with an app password), then
 * com.atproto.repo.createRecord in the session's repository.
 *
 * Everything that needs no network is checked first, because a PDS accepts
 * some faults silently and stores them wrongly (a malformed `$link` as a plain
 * map, a `$type` that is no NSID) or fails late (a blob never uploaded, an
 * integer above 2^53): the record is atproto data (our data-model rules), it
 * carries no blob, every `$type` is an NSID, and the enclave signed it for
 * this repository and collection (the payload CID in its receipt is rebuilt
 * from the record with that repository). With a DID identifier that is known
 * before any request; with a handle, once the session names the DID, before
 * createRecord. With the enclave's identity, the whole record is verified
 * against its policy as a reader would (src/verifier/record.ts).
 *
 * fetch is injected (default globalThis.fetch) through the one HTTP client.
 */
import { isLoopbackHost } from '../verifier/repository.ts';
import { EncumberError } from '../errors.ts';
import { verifySignature } from '../crypto/verify.ts';
import { ipldToJson } from '../data/json.ts';
import { asCid, isPlainObject } from '../data/kinds.ts';
import { parseRecordJson } from '../data/record.ts';
import { isValidDid } from '../data/syntax/did.ts';
import { isValidHandle } from '../data/syntax/handle.ts';
import { isValidNsid } from '../data/syntax/nsid.ts';
import { parseAtUri } from '../data/syntax/at-uri.ts';
import type { IpldMap } from '../data/types.ts';
import { requestJson, xrpcErrorText, type HttpJsonOptions } from '../http/json.ts';
import { buildPayload } from '../policy/payload.ts';
import { recordFromDocument } from '../verifier/inputs.ts';
import { verifyPublishedRecord, type Identity } from '../verifier/record.ts';

/** How the PDS is reached (tests inject fetch and the timeout signal). */
export type PdsHttpOptions = Pick<HttpJsonOptions, 'fetch' | 'timeoutMs' | 'timeoutSignal'>;

export interface PdsSession {
  did: string;
  handle?: string;
  accessJwt: string;
}

export interface PublishedRecord {
  /** at://did/collection/rkey */
  uri: string;
  /** The CID the PDS computed for the stored record. */
  cid: string;
}

/** The PDS answered an XRPC error (`{ error, message }`): its name and message, as the PDS said them. */
export class PdsRefused extends Error {
  readonly status: number;
  readonly error: string | undefined;
  readonly description: string | undefined;
  readonly method: string;

  constructor(method: string, status: number, body: unknown) {
    const b = body as { error?: unknown; message?: unknown } | undefined;
    super(`${method}: HTTP ${status}${xrpcErrorText(body)}`);
    this.name = 'PdsRefused';
    this.method = method;
    this.status = status;
    this.error = typeof b?.error === 'string' ? b.error : undefined;
    this.description = typeof b?.message === 'string' ? b.message : undefined;
  }
}

/** What was read from a signRecord answer (or a bare signed record): the record as validated, and its collection. */
export interface SignedDocument {
  /** The record as atproto JSON, re-written from the validated data (what is sent). */
  recordJson: Record<string, unknown>;
  record: IpldMap;
  /** The record's $type: the collection it is published in. */
  collection: string;
  /** The answer's `cid` (the payload the enclave signed), when the document is a signRecord answer. */
  answerCid?: string;
}

const invalidData = (message: string, path: string) => new EncumberError('InvalidDataModel', `${message} at ${path}`, { path });

/** A lexicon reference as `$type` of a nested object: an NSID, optionally `#name`. */
const FRAGMENT = /^[a-zA-Z][a-zA-Z0-9]{0,62}$/;
function isTypeRef(s: string): boolean {
  const hash = s.indexOf('#');
  return hash < 0 ? isValidNsid(s) : isValidNsid(s.slice(0, hash)) && FRAGMENT.test(s.slice(hash + 1));
}

/**
 * The rules a PDS applies beyond the data model, on the validated record:
 * no blobs (our records never upload any; the PDS would answer BlobNotFound)
 * and every `$type` an NSID (a reference `nsid#name` inside the record).
 */
function checkPdsRules(value: unknown, path: string, top: boolean): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) checkPdsRules(v, `${path}[${i}]`, false);
    return;
  }
  if (!isPlainObject(value)) return;
  const type = value.$type;
  // A blob, or the legacy blob shape { cid, mimeType } the PDS still turns into one.
  const legacyBlob = typeof value.cid === 'string' && typeof value.mimeType === 'string' && Object.keys(value).length === 2;
  if (type === 'blob' || (asCid(value.ref) !== null && typeof value.mimeType === 'string') || legacyBlob) {
    throw invalidData('a blob cannot be published (encumber records carry no blobs; the PDS has none uploaded)', path);
  }
  if (type !== undefined) {
    if (typeof type !== 'string' || !(top ? isValidNsid(type) : isTypeRef(type))) {
      throw invalidData(`$type ${JSON.stringify(type)} is not an NSID${top ? '' : ' (or nsid#name)'}`, `${path}.$type`);
    }
  }
  for (const [k, v] of Object.entries(value)) checkPdsRules(v, `${path}.${k}`, false);
}

/**
 * Read a signRecord answer `{ cid, record, signature, receipt }` (or a bare
 * signed record) and check that a PDS would store it as it is: atproto data
 * (InvalidDataModel / TooLarge: malformed `$link`/`$bytes`, floats, integers
 * beyond ±(2^53−1)), no blob, `$type` NSIDs. No network.
 */
export function readSignedForPublish(document: unknown): SignedDocument {
  const { record: json } = recordFromDocument(document);
  const record = parseRecordJson(json);
  checkPdsRules(record, '$', true);
  const collection = record.$type;
  if (typeof collection !== 'string') throw invalidData('the record has no $type (its collection)', '$.$type');
  const answerCid = isPlainObject(document) && typeof document.cid === 'string' ? document.cid : undefined;
  return { recordJson: ipldToJson(record) as Record<string, unknown>, record, collection, ...(answerCid ? { answerCid } : {}) };
}

/**
 * Was this record signed for `repository`? The enclave's entry (the last
 * signature) carries a receipt naming the payload CID it signed; the payload
 * rebuilt from the record with this repository and its $type must have that
 * CID, and the enclave's signature must verify over it (with the entry's own
 * key: this catches a wrong target or a damaged file, it is not a trust
 * decision). With the enclave's identity, the record is verified against the
 * identity's policy as a reader would, published in this repository:
 * RepositoryNotAllowed, CollectionNotAllowed, or the verifier's code.
 */
export function checkSignedFor(signed: SignedDocument, repository: string, identity?: Identity): void {
  const { record, collection } = signed;
  const entries = record.signatures;
  const enclave = Array.isArray(entries) ? entries[entries.length - 1] : undefined;
  const receipt = isPlainObject(enclave) ? enclave.receipt : undefined;
  const receiptCid = isPlainObject(receipt) ? asCid(receipt.cid) : null;
  if (!isPlainObject(enclave) || receiptCid === null) {
    throw new EncumberError('MissingEnclaveSignature', 'the record carries no enclave signature with a receipt: submit it to the enclave first');
  }
  const signedCid = receiptCid.toString();
  if (signed.answerCid !== undefined && signed.answerCid !== signedCid) {
    throw new EncumberError('ReceiptInvalid', `the answer's cid ${signed.answerCid} is not the receipt's ${signedCid}`);
  }
  const payload = buildPayload(record, repository, collection);
  if (payload.cid.toString() !== signedCid) {
    throw new EncumberError(
      'RepositoryNotAllowed',
      `the enclave signed payload ${signedCid}, not this record in ${repository}/${collection} (${payload.cid}): it was signed for another repository, or changed since`,
      { expected: signedCid, actual: payload.cid.toString() },
    );
  }
  if (typeof enclave.key !== 'string' || !(enclave.sig instanceof Uint8Array) || !verifySignature(enclave.key, payload.bytes, enclave.sig)) {
    throw new EncumberError('EnclaveSignatureInvalid', 'the enclave signature does not verify over the payload');
  }
  if (identity) checkAgainstIdentity(signed, repository, identity);
}

/** The reader's whole check (no attestation) against the enclave's identity, the record located in `repository`. */
export function checkAgainstIdentity(signed: SignedDocument, repository: string, identity: Identity): void {
  const verdict = verifyPublishedRecord(identity, signed.recordJson, { location: { repository, collection: signed.collection } });
  if (!verdict.ok) throw new EncumberError(verdict.error.code, verdict.error.message);
}

/** A DID or a handle; anything else is a UsageError. */
export function identifierKind(identifier: string): 'did' | 'handle' {
  if (isValidDid(identifier)) return 'did';
  if (isValidHandle(identifier)) return 'handle';
  throw new EncumberError('UsageError', `--identifier ${JSON.stringify(identifier)} is neither a DID nor a handle`);
}

/** Throws the UsageError publishing would (not a URL, not http(s), plain http off loopback), before anything is sent. */
export function checkPdsUrl(pds: string): void {
  xrpcUrl(pds, 'com.atproto.server.createSession');
}

function xrpcUrl(pds: string, method: string): URL {
  let base: URL;
  try {
    base = new URL(pds);
  } catch {
    throw new EncumberError('UsageError', `the PDS URL ${JSON.stringify(pds)} is not a URL`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new EncumberError('UsageError', `the PDS URL must be http(s), got ${base.protocol}`);
  // The app password goes in the first request: plain http only to a loopback PDS (development).
  if (base.protocol === 'http:' && !isLoopbackHost(base.hostname)) {
    throw new EncumberError('UsageError', `the PDS URL ${base.origin} is plain http: the app password would cross the network in the clear (https, or a loopback PDS)`);
  }
  return new URL(`/xrpc/${method}`, base);
}

/** com.atproto.server.createSession: the session's DID and access token; an XRPC error is a PdsRefused. */
export async function createSession(pds: string, identifier: string, password: string, opts: PdsHttpOptions = {}): Promise<PdsSession> {
  const method = 'com.atproto.server.createSession';
  const url = xrpcUrl(pds, method);
  const res = await requestJson(url, { ...opts, method: 'POST', body: { identifier, password }, what: `the PDS at ${url.origin}` });
  if (res.status !== 200) throw new PdsRefused(method, res.status, res.body);
  const b = res.body as Record<string, unknown> | undefined;
  if (!isPlainObject(b) || typeof b.accessJwt !== 'string' || !isValidDid(b.did)) {
    throw new EncumberError('RemoteUnavailable', `the PDS at ${url.origin}: ${method} answered without accessJwt and did`);
  }
  return { did: b.did, accessJwt: b.accessJwt, ...(typeof b.handle === 'string' ? { handle: b.handle } : {}) };
}

/** Collections whose lexicons a PDS knows (validate: true); others are sent without `validate` so unknown lexicons are accepted. */
export function pdsValidates(collection: string): boolean {
  return collection.startsWith('app.bsky.');
}

/** com.atproto.repo.createRecord in the session's repository; an XRPC error is a PdsRefused. */
export async function createRecord(
  pds: string,
  session: PdsSession,
  collection: string,
  recordJson: Record<string, unknown>,
  opts: PdsHttpOptions = {},
): Promise<PublishedRecord> {
  const method = 'com.atproto.repo.createRecord';
  const url = xrpcUrl(pds, method);
  const body = { repo: session.did, collection, record: recordJson, ...(pdsValidates(collection) ? { validate: true } : {}) };
  const res = await requestJson(url, {
    ...opts,
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${session.accessJwt}` },
    what: `the PDS at ${url.origin}`,
  });
  if (res.status !== 200) throw new PdsRefused(method, res.status, res.body);
  const b = res.body as Record<string, unknown> | undefined;
  if (!isPlainObject(b) || typeof b.uri !== 'string' || typeof b.cid !== 'string') {
    throw new EncumberError('RemoteUnavailable', `the PDS at ${url.origin}: ${method} answered without uri and cid`);
  }
  let where: { repository: string; collection: string } | undefined;
  try {
    where = parseAtUri(b.uri);
  } catch {
    where = undefined;
  }
  if (!where || where.repository !== session.did || where.collection !== collection) {
    throw new EncumberError('RemoteUnavailable', `the PDS at ${url.origin} stored the record at ${b.uri}, not in ${session.did}/${collection}`);
  }
  return { uri: b.uri, cid: b.cid };
}

export interface PublishInput {
  /** The parsed signRecord answer (or bare signed record). */
  signed: unknown;
  pds: string;
  /** The organisation's handle or DID. */
  identifier: string;
  /** An app password. */
  password: string;
  /**
   * The enclave's getIdentity answer: verify the record against its policy before publishing. A function is
   * called once the checks that need nothing are done (fetching it from the enclave is a request too).
   */
  identity?: Identity | (() => Promise<Identity>);
  /** Progress lines (for the CLI's stderr). */
  log?: (line: string) => void;
}

/**
 * Check, log in, check the session's repository, create the record. Throws
 * EncumberError (our checks, typed; RemoteUnavailable for transport) or
 * PdsRefused (the PDS's XRPC error).
 */
export async function publishSigned(input: PublishInput, opts: PdsHttpOptions = {}): Promise<PublishedRecord & { repository: string; collection: string }> {
  const log = input.log ?? (() => {});
  const signed = readSignedForPublish(input.signed);
  const kind = identifierKind(input.identifier);
  const origin = xrpcUrl(input.pds, '').origin;
  // A DID names the repository: check before anything is sent.
  if (kind === 'did') checkSignedFor(signed, input.identifier);
  const identity = typeof input.identity === 'function' ? await input.identity() : input.identity;
  if (kind === 'did' && identity) checkAgainstIdentity(signed, input.identifier, identity);
  log(`logging in to ${origin} as ${input.identifier} …`);
  const session = await createSession(input.pds, input.identifier, input.password, opts);
  if (kind === 'did' && session.did !== input.identifier) {
    throw new EncumberError('RepositoryNotAllowed', `the PDS opened a session for ${session.did}, not ${input.identifier}`, { expected: input.identifier, actual: session.did });
  }
  // A handle: the session names the repository; check before the record is created.
  if (kind === 'handle') checkSignedFor(signed, session.did, identity);
  log(`creating the record in ${session.did}/${signed.collection} …`);
  const created = await createRecord(input.pds, session, signed.collection, signed.recordJson, opts);
  return { ...created, repository: session.did, collection: signed.collection };
}
