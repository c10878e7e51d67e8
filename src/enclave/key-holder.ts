/**
 * The enclave's K-256 key. This is the only module that ever holds the
 * private key: it is generated here from the CSPRNG, copied into a private
 * field (the drawn bytes are wiped), and used only to sign, by libsecp256k1
 * (RFC 6979 nonces, low-S). There is no getter; JSON and util.inspect show
 * the public did:key only, so an accidental log line or response cannot leak it.
 */
import { inspect } from 'node:util';
import { formatDidKey } from '../crypto/did-key.ts';
import { K256 } from '../crypto/curves.ts';
import { generateK256PrivateKey } from '../crypto/k256-signer.ts';
import { libsecp256k1PublicKey, signK256Libsecp256k1 } from '../crypto/k256-libsecp256k1.ts';

export class KeyHolder {
  /** The key's 32 bytes, a copy only this object holds. */
  readonly #privateKey: Uint8Array;
  /** The public key as did:key (k256, compressed). */
  readonly did: string;

  private constructor(privateKey: Uint8Array) {
    try {
      this.did = formatDidKey(K256, libsecp256k1PublicKey(privateKey));
      this.#privateKey = privateKey.slice();
    } finally {
      privateKey.fill(0);
    }
    Object.freeze(this);
  }

  /**
   * A fresh key from the CSPRNG. Never loaded from anywhere. `draw` exists so
   * the key-leak test can know what to search for; the composition root never
   * passes it.
   */
  static generate(draw: () => Uint8Array = generateK256PrivateKey): KeyHolder {
    return new KeyHolder(draw());
  }

  /** Sign SHA-256(message): 64-byte compact, low-S, deterministic (RFC 6979). */
  sign(message: Uint8Array): Uint8Array {
    return signK256Libsecp256k1(this.#privateKey, message);
  }

  /**
   * The same as a promise (callers sign payload and receipt together). A
   * libsecp256k1 signature costs less than a hop to the thread pool, so it is
   * made here, synchronously.
   */
  signAsync(message: Uint8Array): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.sign(message));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  toJSON(): { did: string } {
    return { did: this.did };
  }

  toString(): string {
    return `KeyHolder(${this.did})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
