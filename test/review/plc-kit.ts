/**
 * Review kit: hand-signed PLC operations (noble, low-S, RFC 6979), so a test
 * can put any did:key spelling into rotationKeys and sign with any key.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base58btc } from 'multiformats/bases/base58';
import { encodeCbor } from '../../src/data/cbor.ts';
import { cidForValue } from '../../src/data/cid.ts';
import { didForGenesisBytes } from '../../src/plc/did.ts';
import { encodeBase64Url } from '../../src/crypto/encoding.ts';
import type { PlcAuditEntry } from '../../src/plc/types.ts';

export interface RKey {
  priv: Uint8Array;
  /** Compressed did:key (canonical). */
  did: string;
  /** The same key as an uncompressed (65-byte point) did:key. */
  didUncompressed: string;
}

function didKeyOf(point: Uint8Array): string {
  const body = new Uint8Array(2 + point.length);
  body.set([0xe7, 0x01], 0);
  body.set(point, 2);
  return 'did:key:' + base58btc.encode(body);
}

export function rkey(seed: number): RKey {
  const priv = sha256(new TextEncoder().encode(`review-key-${seed}`));
  return {
    priv,
    did: didKeyOf(secp256k1.getPublicKey(priv, true)),
    didUncompressed: didKeyOf(secp256k1.getPublicKey(priv, false)),
  };
}

export type Op = Record<string, unknown>;

export function signOp(unsigned: Op, key: RKey): Op {
  const sig = secp256k1.sign(sha256(encodeCbor(unsigned)), key.priv, { prehash: false, lowS: true, format: 'compact' });
  return { ...unsigned, sig: encodeBase64Url(sig) };
}

export function plcOp(rotationKeys: string[], prev: string | null, atproto: string, extra: Partial<Op> = {}): Op {
  return {
    type: 'plc_operation',
    rotationKeys,
    verificationMethods: { atproto },
    alsoKnownAs: ['at://review.test'],
    services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://pds.example' } },
    prev,
    ...extra,
  };
}

export const cidOf = (op: Op) => cidForValue(op).toString();
export const didOf = (genesis: Op) => didForGenesisBytes(encodeCbor(genesis));

export function entry(did: string, op: Op, atMs: number, nullified = false): PlcAuditEntry {
  return { did, operation: op as never, cid: cidOf(op), nullified, createdAt: new Date(atMs).toISOString() };
}
