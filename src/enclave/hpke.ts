/**
 * The one HPKE suite of the key hand-off (RFC 9180, base mode):
 * DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, all from @hpke/core
 * on WebCrypto (Node's X25519, HKDF and AES-GCM: bench/handoff.ts measured it
 * several times faster than a pure-JavaScript X25519 KEM).
 * test/enclave/hpke-vectors.test.ts checks it against the CFRG test vector
 * for this suite.
 */
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';

export const HANDOFF_HPKE_SUITE_NAME = 'DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM';
/** An X25519 public key is 32 bytes. */
export const X25519_PUBLIC_KEY_BYTES = 32;

export function handoffSuite(): CipherSuite {
  return new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
}

/** A fresh ephemeral recipient key pair; the public half as its 32 raw bytes. */
export async function generateRecipientKey(): Promise<{ privateKey: CryptoKey; publicKey: Uint8Array }> {
  const suite = handoffSuite();
  const pair = await suite.kem.generateKeyPair();
  return { privateKey: pair.privateKey, publicKey: new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey)) };
}
