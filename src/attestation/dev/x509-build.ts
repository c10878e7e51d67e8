/**
 * Build the dev platform's X.509 certificates with @peculiar/asn1-x509 and
 * sign them with noble P-384: the same profile as the Nitro PKI (v3, P-384,
 * ecdsa-with-SHA384, critical basicConstraints and keyUsage), synchronous and
 * without WebCrypto or a Reflect polyfill.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  KeyIdentifier,
  KeyUsage,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { OID_EC_PUBLIC_KEY, OID_ECDSA_WITH_SHA384, SECP384R1_PARAMS } from '../x509/oids.ts';

export interface CertificateSpec {
  subject: Name;
  issuer: Name;
  notBefore: Date;
  notAfter: Date;
  /** Uncompressed P-384 point (97 bytes). */
  publicKey: Uint8Array;
  /** CA with an optional path length, or a signing (leaf) certificate. */
  ca: { pathLen?: number } | false;
  /** asn1-x509 KeyUsageFlags. */
  keyUsage: number;
  /** The issuer's subject key identifier (omitted for a self-signed root). */
  authorityKeyId?: Uint8Array;
  /** Extra extensions (tests use this to build certificates the verifier must refuse). */
  extraExtensions?: Extension[];
  /** ECDSA P-384 over SHA-384(tbs), DER-encoded, by the issuer's key. */
  sign: (tbs: Uint8Array) => Uint8Array;
}

const ab = (b: Uint8Array): ArrayBuffer => b.slice().buffer;

/** O=…, CN=… as UTF8Strings. */
export function simpleName(commonName: string, organization = 'encumber dev'): Name {
  const rdn = (type: string, value: string) =>
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  return new Name([rdn('2.5.4.10', organization), rdn('2.5.4.3', commonName)]);
}

/** Key identifier: the first 20 bytes of SHA-256 of the public key point. */
export const keyIdentifier = (publicKey: Uint8Array): Uint8Array => sha256(publicKey).slice(0, 20);

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** A positive 16-byte serial with its top bits set so its DER INTEGER is minimal and non-negative. */
function serialNumber(): ArrayBuffer {
  const s = randomBytes(16);
  s[0] = (s[0]! & 0x3f) | 0x40;
  return ab(s);
}

export function buildCertificate(spec: CertificateSpec): Uint8Array {
  const sigAlg = new AlgorithmIdentifier({ algorithm: OID_ECDSA_WITH_SHA384 });
  const extensions = [
    extension(
      id_ce_basicConstraints,
      true,
      new BasicConstraints(spec.ca ? { cA: true, ...(spec.ca.pathLen !== undefined ? { pathLenConstraint: spec.ca.pathLen } : {}) } : {}),
    ),
    extension(id_ce_keyUsage, true, new KeyUsage(spec.keyUsage)),
    extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(ab(keyIdentifier(spec.publicKey)))),
  ];
  if (spec.authorityKeyId) {
    extensions.push(
      extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(ab(spec.authorityKeyId)) })),
    );
  }
  extensions.push(...(spec.extraExtensions ?? []));
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialNumber(),
    signature: sigAlg,
    issuer: spec.issuer,
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject: spec.subject,
    subjectPublicKeyInfo: new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({ algorithm: OID_EC_PUBLIC_KEY, parameters: ab(SECP384R1_PARAMS) }),
      subjectPublicKey: ab(spec.publicKey),
    }),
    extensions: new Extensions(extensions),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = spec.sign(tbsDer);
  return new Uint8Array(
    AsnConvert.serialize(new Certificate({ tbsCertificate: tbs, signatureAlgorithm: sigAlg, signatureValue: ab(signature) })),
  );
}

/** The subject Name of a DER certificate, to use as the issuer of the certificates it signs. */
export function subjectOf(der: Uint8Array): Name {
  return AsnConvert.parse(der, Certificate).tbsCertificate.subject;
}
