/**
 * What a PKI allows, as data: the one certificate parser and the one chain
 * validator read a profile instead of hard-coding a platform. A platform is a
 * profile object (nitro/profile.ts, sev-snp/profile.ts) plus the checks only
 * it makes (AMD product names and TCB extensions, for example).
 */
import { ECDSA_SHA384_ALGORITHM, OID_ECDSA_WITH_SHA384, OID_RSASSA_PSS, PSS_SHA384_ALGORITHMS } from './oids.ts';
import { verifyP384 } from './ecdsa.ts';
import { verifyRsaPss } from './webcrypto.ts';

/** A subject key: an uncompressed P-384 point, or a 4096-bit RSA key (kept as its SubjectPublicKeyInfo). */
export type PublicKey = { type: 'p384'; point: Uint8Array } | { type: 'rsa'; spki: Uint8Array };
export type KeyType = PublicKey['type'];

export interface SignatureAlgorithm {
  /** Display name, e.g. 'ecdsa-with-SHA384'. */
  name: string;
  oid: string;
  /** The accepted DER encodings of its AlgorithmIdentifier (compared byte for byte). */
  encodings: readonly Uint8Array[];
  /** The issuer key type it verifies with. */
  keyType: KeyType;
  /** Does `signature` over `message` verify under `key`? Never throws. */
  verify(key: PublicKey, signature: Uint8Array, message: Uint8Array): boolean | Promise<boolean>;
}

export interface ChainProfile {
  /** Part of the memo key: two profiles never share a verified chain. */
  name: string;
  /** Accepted signature algorithms (outer and inner AlgorithmIdentifier byte-identical). Else InvalidEvidence. */
  signatureAlgorithms: readonly SignatureAlgorithm[];
  /** Keys a certificate may carry at all. Else InvalidEvidence. */
  keyTypes: readonly KeyType[];
  /** Keys a CA certificate (every position but the last) must carry. Else CertificateChainInvalid. */
  caKeyTypes: readonly KeyType[];
  /** Keys the leaf must carry. Else CertificateChainInvalid. */
  leafKeyTypes: readonly KeyType[];
  /** Exact signature length in bytes, when the PKI fixes it (RSA-4096: 512). */
  signatureBytes?: number;
  /** Subject and issuer each carry exactly one CN. */
  requireCommonName: boolean;
  /** The [3] extensions field must be present. */
  requireExtensions: boolean;
  /** CA certificates must carry keyUsage (with keyCertSign); otherwise keyCertSign is required only when keyUsage is present. */
  requireCaKeyUsage: boolean;
  /** The first certificate must be self-issued and carry a valid self-signature (beyond being pinned). */
  rootSelfSigned: boolean;
  /** Chain length bounds, root and leaf included. */
  minLength: number;
  maxLength: number;
  /** Extensions besides basicConstraints and keyUsage that may be marked critical (RFC 5280 §4.2). */
  understoodCritical: ReadonlySet<string>;
}

/** ecdsa-with-SHA384 by a P-384 key (the Nitro PKI, our dev CA). Synchronous: OpenSSL in Node, noble elsewhere. */
export const ECDSA_P384_SHA384: SignatureAlgorithm = {
  name: 'ecdsa-with-SHA384',
  oid: OID_ECDSA_WITH_SHA384,
  encodings: [ECDSA_SHA384_ALGORITHM],
  keyType: 'p384',
  verify: (key, signature, message) => key.type === 'p384' && verifyP384(signature, message, key.point, 'der'),
};

/** RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48, by an RSA-4096 key (AMD's PKI). Asynchronous: WebCrypto. */
export const RSA_PSS_SHA384: SignatureAlgorithm = {
  name: 'RSASSA-PSS/SHA-384',
  oid: OID_RSASSA_PSS,
  encodings: PSS_SHA384_ALGORITHMS,
  keyType: 'rsa',
  verify: (key, signature, message) => (key.type === 'rsa' ? verifyRsaPss(key.spki, signature, message) : false),
};
