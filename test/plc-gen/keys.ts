/**
 * Rotation keys for generated logs: @atproto/crypto keypairs (k256 or p256)
 * imported from seed-derived private keys, so logs are reproducible. The
 * keypair signs low-S, compact, RFC 6979 (deterministic), which is what a
 * well-behaved PDS or directory client produces. The private key is kept so
 * tests can sign further operations or craft malformed signatures.
 */
import { P256Keypair, Secp256k1Keypair, type Keypair } from '@atproto/crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import type { Rng } from './rng.ts';

export type Curve = 'k256' | 'p256';
export type CurveChoice = Curve | 'mixed';

export interface GenKey {
  readonly curve: Curve;
  /** did:key (compressed point). */
  readonly did: string;
  readonly priv: Uint8Array;
  /** Signs SHA-256(message); what @did-plc/lib's sign helpers take. */
  readonly keypair: Keypair;
  readonly label: string;
}

/** Every key a generated log uses, by did:key. */
export type KeyRing = Map<string, GenKey>;

export const NOBLE = { k256: secp256k1, p256 } as const;
export const ORDER: Record<Curve, bigint> = { k256: secp256k1.Point.CURVE().n, p256: p256.Point.CURVE().n };

export async function keyFromPriv(curve: Curve, priv: Uint8Array, label = 'imported'): Promise<GenKey> {
  const keypair = curve === 'k256' ? await Secp256k1Keypair.import(priv) : await P256Keypair.import(priv);
  return { curve, did: keypair.did(), priv, keypair, label };
}

/** A key derived from the generator's seed and a label; same inputs, same key. */
export async function deriveKey(rng: Rng, curve: Curve, label: string): Promise<GenKey> {
  for (let attempt = 0; ; attempt++) {
    const priv = rng.bytes32(`${curve}/${label}/${attempt}`);
    if (NOBLE[curve].utils.isValidSecretKey(priv)) return keyFromPriv(curve, priv, label);
  }
}

export function pickCurve(rng: Rng, choice: CurveChoice): Curve {
  return choice === 'mixed' ? (rng.chance(0.5) ? 'k256' : 'p256') : choice;
}
