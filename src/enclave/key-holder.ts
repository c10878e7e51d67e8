/**
 * The enclave's K-256 key. This is the only module that ever holds the
 * private key: it is generated here from the CSPRNG, copied into a private
 * field (the drawn bytes are wiped), and used only to sign, by libsecp256k1
 * (RFC 6979 nonces, low-S). There is no getter; JSON and util.inspect show
 * the public did:key only, so an accidental log line or response cannot leak it.
 *
 * The key hand-off (./handoff.ts, docs/key-handoff.md) adds exactly two
 * capabilities, neither of which returns the raw key: `sealTo` encrypts it to
 * an attested HPKE public key (RFC 9180 base mode), and `fromSealed` builds a
 * holder from such a ciphertext, checking the key is the one the sender
 * attested.
 */
import { inspect } from 'node:util';
import { formatDidKey } from '../crypto/did-key.ts';
import { K256 } from '../crypto/curves.ts';
import { generateK256PrivateKey } from '../crypto/k256-signer.ts';
import { libsecp256k1PublicKey, signK256Libsecp256k1 } from '../crypto/k256-libsecp256k1.ts';
import { EncumberError } from '../errors.ts';
import { handoffSuite, X25519_PUBLIC_KEY_BYTES } from './hpke.ts';

/** What `sealTo` produces: HPKE's encapsulated key and the AEAD ciphertext of the 32 key bytes. */
export interface SealedKey {
  enc: Uint8Array;
  ciphertext: Uint8Array;
}

const KEY_BYTES = 32;

/** A copy in an ArrayBuffer of its own (the HPKE library reads `.buffer`). */
const own = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

export class KeyHolder {
  /** The key's 32 bytes, a copy only this object holds. */
  readonly #privateKey: Uint8Array;
  /** The public key as did:key (k256, compressed). */
  readonly did: string;
  #wiped = false;

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
    if (this.#wiped) throw new EncumberError('ServiceNotReady', 'the key was wiped');
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

  /**
   * The key, sealed to `recipientPublicKey` (32-byte X25519, the joining
   * instance's attested ephemeral key) with HPKE base mode; `info` and `aad`
   * bind the hand-off transcript. The plaintext copy is wiped afterwards.
   */
  sealTo(recipientPublicKey: Uint8Array, info: Uint8Array, aad: Uint8Array): Promise<SealedKey> {
    return KeyHolder.seal([this], recipientPublicKey, info, aad);
  }

  /**
   * Several keys in one seal (the enclave key, then the DID guard's key): the
   * plaintext is their 32-byte keys in order, so they open together or not at
   * all. The plaintext copy is wiped afterwards.
   */
  static async seal(holders: readonly KeyHolder[], recipientPublicKey: Uint8Array, info: Uint8Array, aad: Uint8Array): Promise<SealedKey> {
    if (!(recipientPublicKey instanceof Uint8Array) || recipientPublicKey.length !== X25519_PUBLIC_KEY_BYTES) {
      throw new EncumberError('HandoffEvidenceInvalid', `the recipient key must be ${X25519_PUBLIC_KEY_BYTES} bytes (X25519)`, {
        actual: recipientPublicKey?.length,
      });
    }
    if (holders.length === 0) throw new Error('nothing to seal');
    const suite = handoffSuite();
    const plaintext = new Uint8Array(KEY_BYTES * holders.length);
    try {
      holders.forEach((h, i) => {
        if (h.#wiped) throw new EncumberError('ServiceNotReady', 'the key was wiped');
        plaintext.set(h.#privateKey, i * KEY_BYTES);
      });
      const recipient = await suite.kem.importKey('raw', own(recipientPublicKey).buffer, true);
      const sealed = await suite.seal({ recipientPublicKey: recipient, info: own(info) }, plaintext, own(aad));
      return { enc: new Uint8Array(sealed.enc), ciphertext: new Uint8Array(sealed.ct) };
    } finally {
      plaintext.fill(0);
    }
  }

  /**
   * A holder from a key sealed by `sealTo`: opened with the joining
   * instance's ephemeral private key and the same transcript, and accepted
   * only if its did:key is `expectedDid` (the key the sender attested). Every
   * buffer holding key bytes here is wiped.
   */
  static async fromSealed(
    recipientPrivateKey: CryptoKey,
    enc: Uint8Array,
    ciphertext: Uint8Array,
    info: Uint8Array,
    aad: Uint8Array,
    expectedDid: string,
  ): Promise<KeyHolder> {
    const [holder] = await KeyHolder.openSealed(recipientPrivateKey, enc, ciphertext, info, aad, [expectedDid]);
    return holder!;
  }

  /**
   * The holders of a seal made by `seal`, in order, each accepted only if its
   * did:key is the one expected at its place (the keys the sender attested);
   * all or none. Every buffer holding key bytes here is wiped.
   */
  static async openSealed(
    recipientPrivateKey: CryptoKey,
    enc: Uint8Array,
    ciphertext: Uint8Array,
    info: Uint8Array,
    aad: Uint8Array,
    expectedDids: readonly string[],
  ): Promise<KeyHolder[]> {
    const suite = handoffSuite();
    let opened: ArrayBuffer;
    try {
      opened = await suite.open({ recipientKey: recipientPrivateKey, enc: own(enc).buffer, info: own(info) }, own(ciphertext), own(aad));
    } catch (cause) {
      throw new EncumberError('HandoffSealInvalid', 'the sealed key does not open with this instance\'s ephemeral key and this transcript', { cause });
    }
    const bytes = new Uint8Array(opened);
    const holders: KeyHolder[] = [];
    try {
      const expected = KEY_BYTES * expectedDids.length;
      if (bytes.length !== expected) {
        throw new EncumberError('HandoffSealInvalid', `the sealed keys are ${bytes.length} bytes, expected ${expected}`);
      }
      for (const [i, expectedDid] of expectedDids.entries()) {
        let holder: KeyHolder;
        try {
          holder = new KeyHolder(bytes.slice(i * KEY_BYTES, (i + 1) * KEY_BYTES));
        } catch (cause) {
          throw new EncumberError('HandoffSealInvalid', 'the sealed bytes are not a k256 private key', { cause });
        }
        holders.push(holder);
        if (holder.did !== expectedDid) {
          throw new EncumberError('HandoffKeyMismatch', `the sealed key is ${holder.did}, the sender attested ${expectedDid}`, {
            expected: expectedDid,
            actual: holder.did,
          });
        }
      }
      return holders;
    } catch (e) {
      for (const h of holders) h.wipe();
      throw e;
    } finally {
      bytes.fill(0);
    }
  }

  /**
   * Overwrite the key with zeros: this holder signs and seals nothing
   * afterwards. For a key that arrived where it is no longer wanted (a joiner
   * that failed or stopped before the hand-off completed).
   */
  wipe(): void {
    this.#privateKey.fill(0);
    this.#wiped = true;
  }

  get wiped(): boolean {
    return this.#wiped;
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
