/**
 * did:plc derivation: "did:plc:" + the first 24 characters of
 * base32-lower(sha256(DAG-CBOR(signed genesis op))).
 */
import { base32 } from 'multiformats/bases/base32';
import { sha256 } from '@noble/hashes/sha2.js';

export const PLC_DID = /^did:plc:[a-z2-7]{24}$/;

/** From the DAG-CBOR bytes of the signed genesis operation. */
export function didForGenesisBytes(signedGenesisCbor: Uint8Array): string {
  // multibase base32 has a 'b' prefix; the DID uses the bare alphabet.
  return 'did:plc:' + base32.baseEncode(sha256(signedGenesisCbor)).slice(0, 24);
}
