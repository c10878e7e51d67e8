/**
 * The two curves atproto allows, in one table: multicodec for did:key, the
 * noble implementation, the OpenSSL name, and the SPKI prefix that wraps a
 * 33-byte compressed point so node:crypto can import it.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';

export type CurveName = 'k256' | 'p256';

export interface CurveInfo {
  readonly name: CurveName;
  /** Multicodec code: secp256k1-pub 0xe7, p256-pub 0x1200. */
  readonly multicodec: number;
  readonly jwtAlg: 'ES256K' | 'ES256';
  readonly noble: typeof secp256k1 | typeof p256;
  /** Group order n. */
  readonly n: bigint;
  /** n and ⌊n/2⌋ as 32 big-endian bytes, for the range and low-S checks without building numbers. */
  readonly nBytes: Uint8Array;
  readonly halfNBytes: Uint8Array;
  /** DER SubjectPublicKeyInfo header for a compressed point (BIT STRING of 34 bytes). */
  readonly spkiCompressedPrefix: Uint8Array;
}

const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
const be32 = (v: bigint) => hex(v.toString(16).padStart(64, '0'));

export const K256: CurveInfo = {
  name: 'k256',
  multicodec: 0xe7,
  jwtAlg: 'ES256K',
  noble: secp256k1,
  n: secp256k1.Point.CURVE().n,
  nBytes: be32(secp256k1.Point.CURVE().n),
  halfNBytes: be32(secp256k1.Point.CURVE().n >> 1n),
  // SEQ { SEQ { id-ecPublicKey, secp256k1 }, BIT STRING (0 unused bits) }
  spkiCompressedPrefix: hex('3036301006072a8648ce3d020106052b8104000a032200'),
};

export const P256: CurveInfo = {
  name: 'p256',
  multicodec: 0x1200,
  jwtAlg: 'ES256',
  noble: p256,
  n: p256.Point.CURVE().n,
  nBytes: be32(p256.Point.CURVE().n),
  halfNBytes: be32(p256.Point.CURVE().n >> 1n),
  // SEQ { SEQ { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) }
  spkiCompressedPrefix: hex('3039301306072a8648ce3d020106082a8648ce3d030107032200'),
};

export const CURVES: readonly CurveInfo[] = [K256, P256];

export function curveByMulticodec(code: number): CurveInfo | undefined {
  return CURVES.find((c) => c.multicodec === code);
}

export function curveByName(name: CurveName): CurveInfo {
  return name === 'k256' ? K256 : P256;
}
