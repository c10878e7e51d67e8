/**
 * The enclave's K-256 key. This is the only module that ever holds the
 * private key: it is generated here from the CSPRNG, kept in a private field,
 * and used only to sign. There is no getter; JSON and util.inspect show the
 * public did:key only, so an accidental log line or response cannot leak it.
 */
import { inspect } from 'node:util';
import { generateK256PrivateKey, k256DidKey, signK256 } from '../crypto/k256-signer.ts';

export class KeyHolder {
  readonly #privateKey: Uint8Array;
  /** The public key as did:key (k256, compressed). */
  readonly did: string;

  private constructor(privateKey: Uint8Array) {
    this.#privateKey = privateKey;
    this.did = k256DidKey(privateKey);
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

  /** Sign SHA-256(message): 64-byte compact, low-S. */
  sign(message: Uint8Array): Uint8Array {
    return signK256(this.#privateKey, message);
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
