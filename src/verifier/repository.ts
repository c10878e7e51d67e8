/**
 * Where a repository lives and which key signs its commits, from the
 * repository DID's verified PLC state (did:plc: the audit log is checked by
 * the strict verifier, so the answer rests on the DID's own signatures, not on
 * the directory) or from its DID document (did:web: as trustworthy as the
 * web host that serves it).
 *
 * Pure and browser-safe: the caller fetched the log or the document.
 */
import { EncumberError } from '../errors.ts';
import { parseDidKey } from '../crypto/did-key.ts';
import { isValidHandle } from '../data/syntax/index.ts';
import { verifyAuditLog } from '../plc/verify.ts';
import type { AttestationCheck } from '../attestation/types.ts';

export interface RepositoryHome {
  did: string;
  /** The repository's atproto signing key (#atproto), as a did:key. */
  signingKey: string;
  /** The PDS endpoint (#atproto_pds), an http(s) origin. */
  pds: string;
  /** Handles the DID claims (alsoKnownAs at://…); a claim, not verified both ways. */
  handles: string[];
  /** The row that says what the resolution compared. */
  check: AttestationCheck;
}

const fail = (message: string): never => {
  throw new EncumberError('DidResolutionFailed', message);
};

function pdsEndpoint(endpoint: unknown, did: string): string {
  if (typeof endpoint !== 'string') return fail(`${did} names no #atproto_pds service endpoint`);
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return fail(`${did}: the #atproto_pds endpoint ${JSON.stringify(endpoint.slice(0, 200))} is not a URL`);
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password || u.search || u.hash) {
    fail(`${did}: the #atproto_pds endpoint ${JSON.stringify(endpoint.slice(0, 200))} is not a plain http(s) origin`);
  }
  // Plain http only on loopback (development): anywhere else anyone on the path could answer for the PDS.
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) fail(`${did}: the #atproto_pds endpoint ${u.origin} is plain http on a non-loopback host`);
  return u.origin + u.pathname.replace(/\/+$/, '');
}

function signingKey(key: unknown, did: string): string {
  if (typeof key !== 'string') return fail(`${did} names no #atproto signing key`);
  try {
    parseDidKey(key);
  } catch (e) {
    fail(`${did}: the #atproto key is not a supported did:key (${(e as Error).message})`);
  }
  return key;
}

const handlesOf = (aka: readonly unknown[]): string[] =>
  aka.flatMap((a) => (typeof a === 'string' && a.startsWith('at://') && isValidHandle(a.slice(5)) ? [a.slice(5)] : []));

/** A did:plc's home from its audit log, verified by the strict PLC verifier at `now`. */
export function repositoryFromPlcLog(did: string, log: unknown, now: Date, directory: string): RepositoryHome {
  const v = verifyAuditLog(did, log, { now });
  if (!v.ok) throw new EncumberError(v.error.code, `the audit log of ${did} from ${directory} is invalid: ${v.error.message}`, { cause: v.error });
  const s = v.state;
  if (s.tombstoned) fail(`${did} is tombstoned (deactivated) in ${directory}`);
  const service = s.services.atproto_pds;
  if (service && service.type !== 'AtprotoPersonalDataServer') fail(`${did}: #atproto_pds has type ${service.type}, not AtprotoPersonalDataServer`);
  const home = { did, signingKey: signingKey(s.verificationMethods.atproto, did), pds: pdsEndpoint(service?.endpoint, did), handles: handlesOf(s.alsoKnownAs) };
  return {
    ...home,
    check: {
      name: 'repository-did',
      ok: true,
      detail: `${did}: audit log from ${directory} verified (${s.entryCids.length} operation(s), head ${s.head.cid} of ${s.head.createdAt}); #atproto key ${home.signingKey}, PDS ${home.pds}`,
    },
  };
}

/** localhost, 127.0.0.0/8 or [::1]: the only hosts reached over plain http. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** The URL of a did:web's document (the host only: paths and ports are not used by atproto). */
export function didWebDocumentUrl(did: string): string {
  const m = /^did:web:([a-zA-Z0-9.-]+(?:%3[aA]\d{1,5})?)$/.exec(did);
  if (!m) return fail(`${did}: only host-level did:web identifiers are resolvable`);
  const host = m[1]!.replace(/%3[aA]/, ':');
  // Plain http only for a loopback host (development); everything else over https.
  const scheme = isLoopbackHost(host.replace(/:\d+$/, '')) ? 'http' : 'https';
  return `${scheme}://${host}/.well-known/did.json`;
}

/** A did:web's home from its DID document (W3C DID core, atproto's Multikey / #atproto / #atproto_pds). */
export function repositoryFromDidDocument(did: string, doc: unknown, from: string): RepositoryHome {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return fail(`${from}: the DID document is not a JSON object`);
  const d = doc as Record<string, unknown>;
  if (d.id !== did) fail(`${from}: the DID document is for ${String(d.id)}, not ${did}`);
  const local = (id: unknown, frag: string) => id === `#${frag}` || id === `${did}#${frag}`;
  const methods = Array.isArray(d.verificationMethod) ? (d.verificationMethod as Record<string, unknown>[]) : [];
  const method = methods.find((m) => m && typeof m === 'object' && local(m.id, 'atproto'));
  if (method && method.type !== 'Multikey') fail(`${did}: #atproto is a ${String(method.type)}, only Multikey keys are supported`);
  const multibase = method?.publicKeyMultibase;
  const key = signingKey(typeof multibase === 'string' ? `did:key:${multibase}` : undefined, did);
  const services = Array.isArray(d.service) ? (d.service as Record<string, unknown>[]) : [];
  const service = services.find((s) => s && typeof s === 'object' && local(s.id, 'atproto_pds'));
  if (service && service.type !== 'AtprotoPersonalDataServer') fail(`${did}: #atproto_pds has type ${String(service.type)}, not AtprotoPersonalDataServer`);
  const home = { did, signingKey: key, pds: pdsEndpoint(service?.serviceEndpoint, did), handles: handlesOf(Array.isArray(d.alsoKnownAs) ? d.alsoKnownAs : []) };
  return {
    ...home,
    check: {
      name: 'repository-did',
      ok: true,
      detail: `${did}: DID document from ${from} (did:web: trusted as far as that host is); #atproto key ${home.signingKey}, PDS ${home.pds}`,
    },
  };
}
