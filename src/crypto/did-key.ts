/**
 * did:key for the two atproto curves.
 *
 *   did:key:z<base58btc( varint(multicodec) ‖ compressed point )>
 *
 * Parsing accepts an uncompressed (65-byte) point and normalises it to the
 * compressed form; `format` always writes the compressed form, so the did:key
 * string of a key is unique.
 */
import { base58btc } from 'multiformats/bases/base58';
import { varint } from 'multiformats';
import { EncumberError } from '../errors.ts';
import { curveByMulticodec, type CurveInfo, type CurveName } from './curves.ts';

const DID_KEY_PREFIX = 'did:key:';

export interface PublicKey {
  readonly curve: CurveName;
  /** 33-byte SEC1 compressed point. */
  readonly compressed: Uint8Array;
  /** Canonical did:key (compressed point). */
  readonly did: string;
}

/** Validate a SEC1 point on the curve and return its compressed form. */
export function compressPoint(curve: CurveInfo, point: Uint8Array): Uint8Array {
  if (point.length !== 33 && point.length !== 65) {
    throw new EncumberError('InvalidPublicKey', `${curve.name} public key must be 33 or 65 bytes`, {
      expected: '33 or 65',
      actual: point.length,
    });
  }
  try {
    return curve.noble.Point.fromBytes(point).toBytes(true);
  } catch (cause) {
    throw new EncumberError('InvalidPublicKey', `${curve.name} public key is not a point on the curve`, { cause });
  }
}

export function formatDidKey(curve: CurveInfo, point: Uint8Array): string {
  const compressed = compressPoint(curve, point);
  const prefix = varint.encodeTo(curve.multicodec, new Uint8Array(varint.encodingLength(curve.multicodec)));
  const body = new Uint8Array(prefix.length + compressed.length);
  body.set(prefix, 0);
  body.set(compressed, prefix.length);
  return DID_KEY_PREFIX + base58btc.encode(body);
}

export function parseDidKey(did: string): PublicKey {
  if (typeof did !== 'string' || !did.startsWith(DID_KEY_PREFIX)) {
    throw new EncumberError('MalformedDidKey', `expected a string starting with "did:key:"`, {
      actual: typeof did === 'string' ? did.slice(0, 16) : typeof did,
    });
  }
  const multibase = did.slice(DID_KEY_PREFIX.length);
  if (!multibase.startsWith('z')) {
    throw new EncumberError('MalformedMultibase', `did:key must use base58btc multibase ('z' prefix)`, {
      actual: multibase.slice(0, 1),
    });
  }
  let body: Uint8Array;
  try {
    body = base58btc.decode(multibase);
  } catch (cause) {
    throw new EncumberError('MalformedMultibase', `did:key is not valid base58btc`, { cause });
  }
  let code: number;
  let offset: number;
  try {
    [code, offset] = varint.decode(body);
  } catch (cause) {
    throw new EncumberError('MalformedMultibase', `did:key has no multicodec prefix`, { cause });
  }
  const curve = curveByMulticodec(code);
  if (!curve) {
    throw new EncumberError('UnsupportedKeyType', `unsupported did:key multicodec 0x${code.toString(16)}`, {
      expected: ['0xe7 (secp256k1-pub)', '0x1200 (p256-pub)'],
      actual: `0x${code.toString(16)}`,
    });
  }
  const compressed = compressPoint(curve, body.subarray(offset));
  const canonical = body.length - offset === 33 ? did : formatDidKey(curve, compressed);
  return { curve: curve.name, compressed, did: canonical };
}
