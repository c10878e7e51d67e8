/**
 * DAG-CBOR encode/decode with typed errors. Encoding is canonical. Decoding
 * refuses indefinite lengths, non-minimal integers, duplicate keys and tags
 * other than 42, but NOT unsorted maps, floats of other widths or invalid
 * UTF-8: untrusted bytes go through `parseRecordCbor`, which also requires
 * that they re-encode to themselves.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { EncumberError } from '../errors.ts';

export function encodeCbor(value: unknown): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = dagCbor.encode(value);
  } catch (cause) {
    throw new EncumberError('InvalidDataModel', `value cannot be encoded as DAG-CBOR: ${(cause as Error).message}`, {
      cause,
    });
  }
  // cborg hands back a Node Buffer; callers get a plain Uint8Array view (no copy).
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeCbor(bytes: Uint8Array, maxBytes = Number.POSITIVE_INFINITY): unknown {
  if (!(bytes instanceof Uint8Array)) throw new EncumberError('InvalidCbor', 'expected bytes');
  if (bytes.length > maxBytes) {
    throw new EncumberError('TooLarge', `CBOR input of ${bytes.length} bytes exceeds ${maxBytes}`, {
      expected: maxBytes,
      actual: bytes.length,
    });
  }
  try {
    return dagCbor.decode(bytes);
  } catch (cause) {
    throw new EncumberError('InvalidCbor', `not valid DAG-CBOR: ${(cause as Error).message}`, { cause });
  }
}
