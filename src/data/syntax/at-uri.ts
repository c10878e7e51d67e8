/**
 * at://<did>/<collection>/<rkey>, the address of one record. Only the DID
 * form: a verifier compares the repository with a policy's DID, so a handle
 * (which can be re-pointed) is not accepted here. Pure.
 */
import { EncumberError } from '../../errors.ts';
import { isValidDid } from './did.ts';
import { isValidHandle } from './handle.ts';
import { isValidNsid } from './nsid.ts';
import { isValidRecordKey } from './record-key.ts';

export interface AtUri {
  repository: string;
  collection: string;
  rkey: string;
  uri: string;
}

export function parseAtUri(uri: string): AtUri {
  const m = /^at:\/\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)$/.exec(uri);
  let parts: string[] = [];
  try {
    parts = m ? m.slice(1).map(decodeURIComponent) : [];
  } catch {
    // a malformed %-escape: not a URI of this form
  }
  const [repository, collection, rkey] = parts;
  if (!repository || !collection || !rkey || !isValidDid(repository) || !isValidNsid(collection) || !isValidRecordKey(rkey)) {
    throw new EncumberError('InvalidSyntax', `not an at://<did>/<collection>/<rkey> URI: ${uri}`);
  }
  return { repository, collection, rkey, uri };
}

/**
 * What a reader pastes to point at a record, before any handle is resolved:
 * an at:// URI whose authority is a DID or a handle, or a bsky.app post URL
 * (https://bsky.app/profile/<did|handle>/post/<rkey>, an app.bsky.feed.post).
 */
export interface RecordAddress {
  /** The DID, or the handle still to resolve. */
  authority: string;
  isDid: boolean;
  collection: string;
  rkey: string;
}

export function parseRecordAddress(input: string): RecordAddress {
  const text = input.trim();
  const post = /^https:\/\/bsky\.app\/profile\/([^/?#]+)\/post\/([^/?#]+)\/?(?:[?#].*)?$/.exec(text);
  const at = /^at:\/\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)$/.exec(text);
  // The authority is taken as written (a did:web's %3A is part of the DID; handles and other DIDs have no
  // escapes); collection and record key are decoded once.
  let parts: string[] = [];
  try {
    parts = post ? [post[1]!, 'app.bsky.feed.post', decodeURIComponent(post[2]!)] : at ? [at[1]!, decodeURIComponent(at[2]!), decodeURIComponent(at[3]!)] : [];
  } catch {
    // a malformed %-escape: not an address
  }
  const [authority, collection, rkey] = parts;
  const isDid = authority !== undefined && isValidDid(authority);
  if (!authority || !collection || !rkey || !(isDid || isValidHandle(authority)) || !isValidNsid(collection) || !isValidRecordKey(rkey)) {
    throw new EncumberError('InvalidSyntax', `not an at://<did or handle>/<collection>/<rkey> URI or a https://bsky.app/profile/…/post/… URL: ${text.slice(0, 300)}`);
  }
  return { authority, isDid, collection, rkey };
}
