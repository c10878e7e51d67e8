/**
 * The payload everyone signs (DESIGN.md): the record minus "signatures", plus
 * "$sig" naming the repository and collection, so a co-signature for one org
 * or collection cannot be replayed into another.
 */
import { EncumberError } from '../errors.ts';
import { encodeCbor } from '../data/cbor.ts';
import { cidForCborBytes, type CID } from '../data/cid.ts';

export const PAYLOAD_TYPE = 'dev.encumber.payload';

export type IpldRecord = { [key: string]: unknown };

export interface Payload {
  value: IpldRecord;
  /** DAG-CBOR bytes: what is hashed (SHA-256) and signed. */
  bytes: Uint8Array;
  cid: CID;
}

export function buildPayload(record: IpldRecord, repository: string, collection: string): Payload {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new EncumberError('InvalidRequest', 'record must be an object');
  }
  // A client-supplied $sig would be overwritten here and then be ambiguous to
  // anyone re-deriving the payload from the published record, so refuse it.
  if (Object.hasOwn(record, '$sig')) {
    throw new EncumberError('InvalidRequest', 'record must not contain "$sig"; it is added when the payload is built');
  }
  if (record.$type !== collection) {
    throw new EncumberError('InvalidRequest', `record $type must equal the collection ${collection}`, {
      expected: collection,
      actual: record.$type,
    });
  }
  const { signatures: _ignored, ...rest } = record;
  const value: IpldRecord = { ...rest, $sig: { $type: PAYLOAD_TYPE, repository, collection } };
  const bytes = encodeCbor(value);
  return { value, bytes, cid: cidForCborBytes(bytes) };
}
