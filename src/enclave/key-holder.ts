/**
 * The enclave's K-256 key. This is the only module that ever holds the
 * private key: it is generated here from the CSPRNG, kept in a private field,
 * and used only to sign. There is no getter; JSON and util.inspect show the
 * public did:key only, so an accidental log line or response cannot leak it.
 */
import { inspect } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { generateK256PrivateKey, k256DidKey } from '../crypto/k256-signer.ts';
import { k256KeyObject, signK256Native, signK256NativeAsync } from '../crypto/k256-native-signer.ts';

export class KeyHolder {
  /** The key inside OpenSSL (faster signing); the raw bytes are wiped after import. */
  readonly #privateKey: KeyObject;
  /** The public key as did:key (k256, compressed). */
  readonly did: string;

  private constructor(privateKey: Uint8Array) {
    this.did = k256DidKey(privateKey);
    this.#privateKey = k256KeyObject(privateKey);
    privateKey.fill(0);
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
    return signK256Native(this.#privateKey, message);
  }

  /** The same, on the thread pool (the service signs payload and receipt in parallel). */
  signAsync(message: Uint8Array): Promise<Uint8Array> {
    return signK256NativeAsync(this.#privateKey, message);
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
