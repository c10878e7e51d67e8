/**
 * The dev platform's local CA: a self-signed P-384 root that signs one fresh
 * leaf per dev attestation document. A verifier trusts it only when it is
 * passed explicitly (never by default), like any pinned root.
 *
 * The private key lives in a #private field: JSON.stringify, console.log and
 * structuredClone never show it. The caller persists a root explicitly with
 * exportWithPrivateKey() (PEM certificate + PKCS#8 PEM key) and reloads it
 * with DevRoot.import(), which checks the key matches the certificate.
 */
import { p384 } from '@noble/curves/nist.js';
import { KeyUsageFlags } from '@peculiar/asn1-x509';
import { EncumberError } from '../../errors.ts';
import { decodePem, encodePem } from '../../crypto/encoding.ts';
import { bytesEqual, certificatePem, fingerprint, pemCertificates } from '../bytes.ts';
import { parseCertificate, type ParsedCertificate } from '../x509/certificate.ts';
import { NITRO_PROFILE } from '../nitro/profile.ts';
import { buildCertificate, keyIdentifier, simpleName } from './x509-build.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEV_ROOT_COMMON_NAME = 'encumber dev root (not for production)';

// PKCS#8 PrivateKeyInfo for a P-384 key without the optional public key:
// SEQ { INTEGER 0, SEQ { id-ecPublicKey, secp384r1 }, OCTET STRING { SEQ { INTEGER 1, OCTET STRING(48) d } } }
const PKCS8_P384_PREFIX = new Uint8Array([
  0x30, 0x4e, 0x02, 0x01, 0x00, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81,
  0x04, 0x00, 0x22, 0x04, 0x37, 0x30, 0x35, 0x02, 0x01, 0x01, 0x04, 0x30,
]);

function usage(message: string, cause?: unknown): never {
  throw new EncumberError('UsageError', message, { cause });
}

export interface DevRootOptions {
  now: Date;
  validityDays: number;
  commonName?: string;
}

export interface PersistedDevRoot {
  /** PEM certificate. */
  certificate: string;
  /** PKCS#8 PEM private key: keep it secret. */
  privateKey: string;
}

export class DevRoot {
  /** DER of the self-signed root certificate: the value a verifier pins. */
  readonly certificate: Uint8Array;
  readonly #secretKey: Uint8Array;
  readonly #parsed: ParsedCertificate;
  /** The root's P-384 public key, uncompressed. */
  readonly #point: Uint8Array;

  private constructor(certificate: Uint8Array, secretKey: Uint8Array) {
    let parsed: ParsedCertificate;
    try {
      parsed = parseCertificate(certificate, { index: 0, path: 'devRoot' }, NITRO_PROFILE);
    } catch (cause) {
      usage(`dev root certificate does not parse: ${(cause as Error).message}`, cause);
    }
    if (!parsed.ca) usage('dev root certificate is not a CA');
    let publicKey: Uint8Array;
    try {
      publicKey = p384.getPublicKey(secretKey, false);
    } catch (cause) {
      usage('dev root private key is not a valid P-384 scalar', cause);
    }
    if (parsed.key.type !== 'p384' || !bytesEqual(publicKey, parsed.key.point)) usage('dev root private key does not match its certificate');
    this.certificate = certificate;
    this.#secretKey = secretKey;
    this.#parsed = parsed;
    this.#point = publicKey;
  }

  /** A new self-signed root valid from `now` (to the second) for `validityDays`. */
  static create(opts: DevRootOptions): DevRoot {
    if (!(opts?.now instanceof Date) || !Number.isFinite(opts.now.getTime())) usage('createDevRoot: now must be a valid Date');
    if (!Number.isFinite(opts.validityDays) || opts.validityDays <= 0) usage('createDevRoot: validityDays must be > 0');
    const secretKey = p384.utils.randomSecretKey();
    const publicKey = p384.getPublicKey(secretKey, false);
    const notBefore = new Date(Math.floor(opts.now.getTime() / 1000) * 1000);
    const name = simpleName(opts.commonName ?? DEV_ROOT_COMMON_NAME);
    const der = buildCertificate({
      subject: name,
      issuer: name,
      notBefore,
      notAfter: new Date(notBefore.getTime() + Math.round(opts.validityDays * DAY_MS)),
      publicKey,
      ca: {},
      keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
      sign: (tbs) => p384.sign(tbs, secretKey, { prehash: true, format: 'der' }),
    });
    return new DevRoot(der, secretKey);
  }

  /** Reload a persisted root; the key must match the certificate (UsageError otherwise). */
  static import(persisted: PersistedDevRoot): DevRoot {
    const [der, ...rest] = pemCertificates(persisted.certificate);
    if (!der || rest.length > 0) usage('dev root: expected exactly one certificate');
    const [pkcs8, ...others] = decodePem(persisted.privateKey ?? '', 'PRIVATE KEY');
    if (!pkcs8 || others.length > 0) usage('dev root: expected exactly one PKCS#8 "PRIVATE KEY" PEM block');
    const prefix = pkcs8.subarray(0, PKCS8_P384_PREFIX.length);
    if (pkcs8.length !== PKCS8_P384_PREFIX.length + 48 || !bytesEqual(prefix, PKCS8_P384_PREFIX)) {
      usage('dev root: the private key is not a P-384 PKCS#8 key in the form exportWithPrivateKey writes');
    }
    return new DevRoot(der, pkcs8.slice(PKCS8_P384_PREFIX.length));
  }

  get pem(): string {
    return certificatePem(this.certificate);
  }
  get sha256(): string {
    return fingerprint(this.certificate);
  }
  get subject(): string {
    return this.#parsed.subjectText;
  }
  get notBefore(): number {
    return this.#parsed.notBefore;
  }
  get notAfter(): number {
    return this.#parsed.notAfter;
  }
  /** Uncompressed P-384 public key of the root. */
  get publicKey(): Uint8Array {
    return this.#point.slice();
  }
  get keyIdentifier(): Uint8Array {
    return keyIdentifier(this.#point);
  }

  /** Sign a certificate's tbs bytes (ECDSA P-384 / SHA-384, DER): what the issuer needs, nothing more. */
  signCertificate(tbs: Uint8Array): Uint8Array {
    return p384.sign(tbs, this.#secretKey, { prehash: true, format: 'der' });
  }

  /** The one way the private key leaves this object: explicitly, for the caller to persist. */
  exportWithPrivateKey(): PersistedDevRoot {
    const pkcs8 = new Uint8Array(PKCS8_P384_PREFIX.length + 48);
    pkcs8.set(PKCS8_P384_PREFIX, 0);
    pkcs8.set(this.#secretKey, PKCS8_P384_PREFIX.length);
    return { certificate: this.pem, privateKey: encodePem(pkcs8, 'PRIVATE KEY') };
  }

  toJSON(): { certificate: string; sha256: string } {
    return { certificate: this.pem, sha256: this.sha256 };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `DevRoot { ${this.subject}, sha256 ${this.sha256}, private key hidden }`;
  }
}

/** createDevRoot({ now, validityDays }) — see DevRoot.create. */
export const createDevRoot = (opts: DevRootOptions): DevRoot => DevRoot.create(opts);
