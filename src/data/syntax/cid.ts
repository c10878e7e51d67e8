/**
 * CID strings, in three strengths:
 *
 * - `isValidCidSyntax`: atproto's string syntax (8–256 of `A-Za-z0-9+=`, no
 *   CIDv0 "Qm..."), what the interop fixtures test; any multibase passes.
 * - `assertCidString`: also decodes (base32, base58btc or base36) as a CIDv1
 *   of any codec and hash, e.g. for `string` fields of format `cid`.
 * - `parseLinkCid`: a `$link`: additionally one of atproto's blessed CIDs
 *   (dag-cbor or raw codec) written in canonical base32, so that a link has
 *   exactly one JSON spelling.
 */
import type { CID } from 'multiformats/cid';
import { DAG_CBOR_CODEC, RAW_CODEC, parseCid } from '../cid.ts';
import { syntaxError } from './fail.ts';

const CID_CHARS = /^[a-zA-Z0-9+=]{8,256}$/;

export function isValidCidSyntax(s: unknown): s is string {
  return typeof s === 'string' && CID_CHARS.test(s) && !s.startsWith('Qm');
}

export function assertCidString(s: unknown): CID {
  if (!isValidCidSyntax(s)) throw syntaxError('CID', s, 'expected 8-256 of A-Za-z0-9+= and not CIDv0');
  let cid: CID;
  try {
    cid = parseCid(s, { strictDagCbor: false });
  } catch (cause) {
    throw syntaxError('CID', s, 'does not decode as a CID', cause);
  }
  if (cid.version !== 1) throw syntaxError('CID', s, 'only CIDv1 is allowed');
  return cid;
}

/** Why a CID may not be used as an atproto link, or undefined if it may. */
export function linkCidProblem(cid: CID): string | undefined {
  if (cid.version !== 1) return 'link must be a CIDv1';
  if (cid.code !== DAG_CBOR_CODEC && cid.code !== RAW_CODEC) return 'link codec must be dag-cbor or raw';
  return undefined;
}

export function parseLinkCid(s: unknown): CID {
  const cid = assertCidString(s);
  const problem = linkCidProblem(cid);
  if (problem !== undefined) throw syntaxError('CID link', s, problem);
  if (cid.toString() !== s) throw syntaxError('CID link', s, 'not in canonical base32 form');
  return cid;
}
