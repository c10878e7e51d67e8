/**
 * DAG-CBOR encode/decode with typed errors. @ipld/dag-cbor is strict by
 * default (canonical map order, no undefined, no indefinite lengths, only tag 42).
 */
import * as dagCbor from '@ipld/dag-cbor';
import { EncumberError } from '../errors.ts';

export function encodeCbor(value: unknown): Uint8Array {
  try {
    return dagCbor.encode(value);
  } catch (cause) {
    throw new EncumberError('InvalidDataModel', `value cannot be encoded as DAG-CBOR: ${(cause as Error).message}`, {
      cause,
    });
  }
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
