/**
 * K-256 signing in OpenSSL (node:crypto), ~1.6× faster than noble here.
 * OpenSSL does not enforce low-S, so the result is normalised (s → n − s),
 * which is the same signature in atproto's canonical form. Nonces are random
 * (OpenSSL's default), not RFC 6979; both are sound ECDSA.
 */
import { createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { K256 } from './curves.ts';
import { encodeBase64Url } from './encoding.ts';
import { assertK256PrivateKey } from './k256-signer.ts';
import { negateS, readScalar } from './scalar.ts';

export function k256KeyObject(priv: Uint8Array): KeyObject {
  assertK256PrivateKey(priv);
  const pub = secp256k1.getPublicKey(priv, false);
  return createPrivateKey({
    key: { kty: 'EC', crv: 'secp256k1', d: encodeBase64Url(priv), x: encodeBase64Url(pub.subarray(1, 33)), y: encodeBase64Url(pub.subarray(33)) },
    format: 'jwk',
  });
}

const HALF_N = K256.n >> 1n;

/** Sign SHA-256(message) with an OpenSSL k256 key: 64-byte compact r‖s, low-S. */
export function signK256Native(key: KeyObject, message: Uint8Array): Uint8Array {
  return toLowS(new Uint8Array(nodeSign('sha256', message, { key, dsaEncoding: 'ieee-p1363' })));
}

/** The same on libuv's thread pool (parallel, off the event loop). */
export function signK256NativeAsync(key: KeyObject, message: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    nodeSign('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, (err, sig) => {
      if (err) reject(err);
      else resolve(toLowS(new Uint8Array(sig)));
    });
  });
}

function toLowS(sig: Uint8Array): Uint8Array {
  return readScalar(sig, 32) > HALF_N ? negateS(sig, K256.n) : sig;
}
