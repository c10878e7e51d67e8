/**
 * The page's only network calls, each one the user asked for: the enclave's
 * identity and attestation (with a fresh random nonce made here), its
 * published DID guard log and approved upgrades, and a
 * record by its at:// URI with its proof: the PLC directory, the PDS its DID
 * names, and the co-signers' audit logs. All through the project's one
 * JSON-over-HTTP client (bounded, no redirects); `fetch` is a parameter so
 * tests can stand in for it.
 */
import { toHex } from '../crypto/encoding.ts';
import { getJsonObject, type HttpJsonOptions } from '../http/json.ts';
import { evidenceFromAnswer, identityFromAnswer } from '../verifier/inputs.ts';
import type { Identity } from '../verifier/record.ts';
import type { EvidenceSource } from './flow.ts';
import type { EndpointAnswer } from './published.ts';
import type { AttestationCheck } from '../attestation/types.ts';
import { EncumberError, type ErrorCode } from '../errors.ts';
import { fetchCosignerLogs, fetchRecordFromNetwork, type NetworkOptions } from '../network/at-record.ts';

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
  /** The getGuardLog answer, asked only when the identity names a guard key. */
  guardLog?: EndpointAnswer;
  /** The getUpgrades answer. */
  upgrades: EndpointAnswer;
}

/**
 * getIdentity, then getAttestation with a nonce nobody has seen before, and beside it the enclave's published
 * guard log (when its identity names a guard key) and approved upgrades. Identity and attestation must answer
 * (they are what the record rests on); the other two never throw: a failure is their answer, shown as a row.
 */
export async function fetchEnclave(base: string, f: Fetch = fetch, nonce = freshNonce()): Promise<LiveCheck> {
  const root = withSlash(new URL(base));
  const identity = identityFromAnswer(await getJsonObject(new URL('xrpc/dev.encumber.getIdentity', root), options(f, 'getIdentity')));
  const [answer, guardLog, upgrades] = await Promise.all([
    getJsonObject(new URL(`xrpc/dev.encumber.getAttestation?nonce=${toHex(nonce)}`, root), options(f, 'getAttestation')),
    identity.guardKey === undefined ? undefined : published(new URL('xrpc/dev.encumber.getGuardLog', root), f, 'getGuardLog'),
    published(new URL('xrpc/dev.encumber.getUpgrades', root), f, 'getUpgrades'),
  ]);
  return {
    identity,
    evidence: { input: evidenceFromAnswer(answer), origin: { kind: 'live', url: new URL(base).toString(), nonce } },
    ...(guardLog ? { guardLog } : {}),
    upgrades,
  };
}

/** A public GET whose failure is an answer (its code and message), not an exception. */
async function published(url: URL, f: Fetch, what: string): Promise<EndpointAnswer> {
  try {
    return { ok: true, value: await getJsonObject(url, options(f, what)) };
  } catch (e) {
    const code: ErrorCode = e instanceof EncumberError ? e.code : 'RemoteUnavailable';
    return { ok: false, error: { code, message: (e as Error)?.message ?? String(e) } };
  }
}

function withSlash(u: URL): URL {
  const v = new URL(u);
  if (!v.pathname.endsWith('/')) v.pathname += '/';
  v.search = '';
  v.hash = '';
  return v;
}

export interface PageNetworkRecord {
  /** The record's at:// URI (DID form), once resolved. */
  uri?: string;
  record?: unknown;
  plcLogs?: Record<string, unknown>;
  /** The rows for the page's "Record from the network" section, and the failure if any. */
  source: { checks: AttestationCheck[]; error?: { code: ErrorCode; message: string } };
  /** The origins asked (PLC directory, handle resolver, PDS). */
  contacted: string[];
}

/**
 * A record by at:// URI or bsky.app URL, from the PDS its DID names, with the commit signature and the
 * inclusion proof checked (src/network/at-record.ts, as `encumber record verify at://…`), and the logs of the
 * co-signers who are `members` of the enclave's policy from the same directory. Never throws: a failure is the
 * source section's failed row, so the page never falls back to a record fetched before.
 */
export async function fetchNetworkRecord(
  input: string,
  where: { plc?: string | undefined; pds?: string | undefined; handleResolver?: string | undefined; at: Date; members: readonly string[] },
  f: Fetch = fetch,
): Promise<PageNetworkRecord> {
  const opts: NetworkOptions = {
    now: where.at,
    fetch: f,
    init: { cache: 'no-store' },
    ...(where.plc ? { plc: where.plc } : {}),
    ...(where.pds ? { pds: where.pds } : {}),
    ...(where.handleResolver ? { handleResolver: where.handleResolver } : {}),
  };
  try {
    const got = await fetchRecordFromNetwork(input, opts);
    if (!got.ok) return { source: { checks: got.checks, error: { code: got.error.code, message: got.error.message } }, contacted: got.contacted };
    const plcLogs = await fetchCosignerLogs(got.record, where.members, opts);
    return { uri: got.location.uri, record: got.record, plcLogs, source: { checks: got.checks }, contacted: [...new Set(got.contacted)] };
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    return { source: { checks: [{ name: 'source', ok: false, detail: message }], error: { code: 'InternalError', message } }, contacted: [] };
  }
}
