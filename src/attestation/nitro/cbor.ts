/**
 * Strict CBOR decoding for Nitro documents with cbor-x (they are plain CBOR,
 * not DAG-CBOR: integer map keys, a COSE tag, a bstr-wrapped header).
 *
 * One rule gives strictness: the input must be exactly what re-encoding the
 * decoded value gives back. That refuses trailing bytes, indefinite lengths,
 * non-shortest integers and lengths, duplicate map keys, floats standing in
 * for integers, and tags cbor-x would silently interpret (typed arrays, ...),
 * the same way src/crypto/encoding.ts refuses non-canonical base64.
 * Every real AWS document round-trips exactly (test/attestation).
 */
import { Decoder, Encoder } from 'cbor-x';
import { reject } from '../checks.ts';
import { bytesEqual } from '../bytes.ts';

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false, variableMapSize: true });

/** Decode one CBOR item occupying all of `bytes`, in its canonical (shortest) form; `what` names it in errors. */
export function decodeStrict(bytes: Uint8Array, what: string): unknown {
  let value: unknown;
  try {
    // cbor-x caches a DataView on the buffer it reads: give it a copy, never the caller's array.
    value = decoder.decode(bytes.slice());
  } catch (cause) {
    reject('InvalidEvidence', `${what}: not a single well-formed CBOR item: ${(cause as Error)?.message ?? cause}`, { path: what, cause });
  }
  let again: Uint8Array | undefined;
  try {
    again = encoder.encode(value);
  } catch {
    again = undefined;
  }
  if (again === undefined || !bytesEqual(again, bytes)) {
    reject('InvalidEvidence', `${what}: CBOR is not in its shortest definite-length form (or has duplicate keys, tags or trailing bytes)`, {
      path: what,
    });
  }
  return value;
}

/** Encode a value the way decodeStrict expects (used by the dev issuer). */
export function encodeCbor(value: unknown): Uint8Array {
  return new Uint8Array(encoder.encode(value));
}
