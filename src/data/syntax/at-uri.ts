/**
 * at://<did>/<collection>/<rkey>, the address of one record. Only the DID
 * form: a verifier compares the repository with a policy's DID, so a handle
 * (which can be re-pointed) is not accepted here. Pure.
 */
import { EncumberError } from '../../errors.ts';
import { isValidDid } from './did.ts';
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
