/**
 * Parse one certificate of the AMD SEV-SNP PKI, strictly and without trusting
 * it yet: the raw signed bytes and names come from our own DER reader, the
 * fields from @peculiar/asn1-x509 (pure JS, browser-safe).
 *
 * Accepted: X.509 v3, signed with RSASSA-PSS/SHA-384/salt 48 (both the outer
 * and the inner algorithm, byte-identical), a 512-byte signature, and either
 * an RSA-4096 key (ARK, ASK, ASVK) or a P-384 key (VCEK, VLEK). Anything else
 * is InvalidEvidence naming the certificate (`path`) and its chain position (`index`).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Extensions, KeyUsage, Validity } from '@peculiar/asn1-x509';
import { p384 } from '@noble/curves/nist.js';
import { reject } from '../checks.ts';
import { bytesEqual, fingerprint } from '../bytes.ts';
import { BIT_STRING, children, DerError, readTlv, SEQUENCE, type Tlv, splitCertificate } from '../x509/der.ts';
import { decodeAmdExtension, type AmdExtensions } from './amd-extensions.ts';
import {
  AMD_RSA_BITS,
  CN_OID,
  OID_BASIC_CONSTRAINTS,
  OID_KEY_USAGE,
  OID_RSASSA_PSS,
  P384_SPKI_ALGORITHM,
  PSS_SHA384_ALGORITHMS,
  RSA_SPKI_ALGORITHM,
  UNDERSTOOD_CRITICAL,
  X509_V3,
} from './oids.ts';

export type SnpPublicKey = { type: 'rsa'; spki: Uint8Array } | { type: 'p384'; point: Uint8Array };

export interface SnpCertificate {
  der: Uint8Array;
  /** SHA-256 of the DER, lowercase hex. */
  sha256: string;
  /** The exact tbsCertificate bytes the issuer signed. */
  tbs: Uint8Array;
  /** The RSASSA-PSS signature, 512 bytes. */
  signature: Uint8Array;
  /** Raw DER of the issuer and subject Names (compared byte for byte). */
  issuer: Uint8Array;
  subject: Uint8Array;
  issuerCn: string;
  subjectCn: string;
  /** ms since the epoch. */
  notBefore: number;
  notAfter: number;
  key: SnpPublicKey;
  ca: boolean;
  pathLen?: number;
  /** keyUsage bit mask (asn1-x509 KeyUsageFlags), undefined when absent. */
  keyUsage?: number;
  unknownCritical: string[];
  amd: AmdExtensions;
}

export interface CertPosition {
  /** 0 ARK, 1 ASK/ASVK, 2 VCEK/VLEK. */
  index: number;
  /** e.g. 'certs.ark'. */
  path: string;
}

const slice = (der: Uint8Array, t: Tlv): Uint8Array => der.slice(t.start, t.end);
/** UTF8String, PrintableString, IA5String. */
const NAME_STRING_TAGS = new Set([0x0c, 0x13, 0x16]);
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function parseSnpCertificate(input: Uint8Array, where: CertPosition): SnpCertificate {
  const bad = (why: string, cause?: unknown): never =>
    reject('InvalidEvidence', `${where.path}: ${why}`, { index: where.index, path: where.path, cause });
  const der = new Uint8Array(input);

  // Structure: SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }, nothing after.
  let parts: Tlv[] = [];
  let tbsParts: Tlv[] = [];
  try {
    ({ parts, tbsParts } = splitCertificate(der));
  } catch (cause) {
    bad((cause as Error).message, cause);
  }
  // tbsCertificate: [0] version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, [3] extensions.
  if (tbsParts.length !== 8) bad('tbsCertificate must be { version, serial, signature, issuer, validity, subject, key, [3] extensions }');
  const [versionTlv, serialTlv, innerAlg, issuerTlv, validityTlv, subjectTlv, spkiTlv, extTlv] = tbsParts as [Tlv, Tlv, Tlv, Tlv, Tlv, Tlv, Tlv, Tlv];
  if (!bytesEqual(slice(der, versionTlv), X509_V3)) bad('version must be v3');
  if (serialTlv.tag !== 0x02) bad('serialNumber must be an INTEGER');
  if (issuerTlv.tag !== SEQUENCE || validityTlv.tag !== SEQUENCE || subjectTlv.tag !== SEQUENCE || spkiTlv.tag !== SEQUENCE) {
    bad('issuer, validity, subject and key must be SEQUENCEs');
  }
  if (extTlv.tag !== 0xa3) bad('expected [3] extensions after the key');

  // Algorithm: RSASSA-PSS with exactly AMD's SHA-384 parameters, the same inside and outside.
  const algorithm = slice(der, parts[1]!);
  if (!PSS_SHA384_ALGORITHMS.some((a) => bytesEqual(a, algorithm))) bad(`signature algorithm must be RSASSA-PSS (${OID_RSASSA_PSS}) with SHA-384, MGF1-SHA-384, salt 48`);
  if (!bytesEqual(algorithm, slice(der, innerAlg))) bad('signatureAlgorithm differs from tbsCertificate.signature');
  const sigTlv = parts[2]!;
  if (der[sigTlv.contentStart] !== 0) bad('signatureValue must have 0 unused bits');
  const signature = der.slice(sigTlv.contentStart + 1, sigTlv.end);
  if (signature.length !== AMD_RSA_BITS / 8) bad(`signature is ${signature.length} bytes, an RSA-${AMD_RSA_BITS} signature is ${AMD_RSA_BITS / 8}`);

  // Validity and extensions through asn1-x509 (only these parts: parsing the whole certificate costs 4× more).
  let validity: Validity;
  let extensions: Extensions;
  try {
    validity = AsnConvert.parse(slice(der, validityTlv), Validity);
    const inner = readTlv(der, extTlv.contentStart, extTlv.end);
    if (inner.tag !== SEQUENCE || inner.end !== extTlv.end) throw new DerError('[3] must hold exactly one SEQUENCE of extensions');
    extensions = AsnConvert.parse(slice(der, inner), Extensions);
  } catch (cause) {
    return bad(`not an X.509 certificate: ${(cause as Error).message}`, cause);
  }

  const key = publicKey(der, spkiTlv, bad);
  const amd: AmdExtensions = { tcb: {} };
  const seen = new Set<string>();
  const unknownCritical: string[] = [];
  let ca = false;
  let pathLen: number | undefined;
  let keyUsage: number | undefined;
  for (const ext of extensions) {
    if (seen.has(ext.extnID)) bad(`extension ${ext.extnID} appears twice`);
    seen.add(ext.extnID);
    try {
      const value = new Uint8Array(ext.extnValue.buffer);
      if (ext.extnID === OID_BASIC_CONSTRAINTS) {
        const bc = AsnConvert.parse(value, BasicConstraints);
        ca = bc.cA === true;
        pathLen = bc.pathLenConstraint;
      } else if (ext.extnID === OID_KEY_USAGE) {
        keyUsage = AsnConvert.parse(value, KeyUsage).toNumber();
      } else {
        decodeAmdExtension(ext.extnID, value, amd);
        if (ext.critical && !UNDERSTOOD_CRITICAL.has(ext.extnID)) unknownCritical.push(ext.extnID);
      }
    } catch (cause) {
      bad(`extension ${ext.extnID} is malformed: ${(cause as Error).message}`, cause);
    }
  }

  let notBefore = NaN;
  let notAfter = NaN;
  try {
    notBefore = validity.notBefore.getTime().getTime();
    notAfter = validity.notAfter.getTime().getTime();
  } catch (cause) {
    bad('validity times are malformed', cause);
  }
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter) || notBefore > notAfter) bad('validity window is empty or unreadable');

  const out: SnpCertificate = {
    der,
    sha256: fingerprint(der),
    tbs: slice(der, parts[0]!),
    signature,
    issuer: slice(der, issuerTlv),
    subject: slice(der, subjectTlv),
    issuerCn: commonName(der, issuerTlv, 'issuer', bad),
    subjectCn: commonName(der, subjectTlv, 'subject', bad),
    notBefore,
    notAfter,
    key,
    ca,
    unknownCritical,
    amd,
  };
  if (pathLen !== undefined) out.pathLen = pathLen;
  if (keyUsage !== undefined) out.keyUsage = keyUsage;
  return out;
}

/** SubjectPublicKeyInfo: RSA-4096 (rsaEncryption, NULL) or P-384 (id-ecPublicKey, secp384r1, uncompressed valid point). */
function publicKey(der: Uint8Array, spkiTlv: Tlv, bad: (why: string, cause?: unknown) => never): SnpPublicKey {
  try {
    const [algTlv, keyTlv, ...rest] = children(der, spkiTlv);
    if (!algTlv || !keyTlv || rest.length > 0 || keyTlv.tag !== BIT_STRING || der[keyTlv.contentStart] !== 0) {
      throw new DerError('SubjectPublicKeyInfo must be { AlgorithmIdentifier, BIT STRING }');
    }
    const alg = slice(der, algTlv);
    const bits = der.subarray(keyTlv.contentStart + 1, keyTlv.end);
    if (bytesEqual(alg, RSA_SPKI_ALGORITHM)) {
      // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
      const seq = readTlv(bits, 0);
      const [n, e, ...more] = seq.tag === SEQUENCE && seq.end === bits.length ? children(bits, seq) : [];
      if (!n || !e || more.length > 0 || n.tag !== 0x02 || e.tag !== 0x02) throw new DerError('RSAPublicKey must be SEQUENCE { INTEGER, INTEGER }');
      // A positive, minimal INTEGER: one 0x00 before a top byte ≥ 0x80, then exactly 4096 bits.
      const modulus = bits.subarray(n.contentStart, n.end);
      const magnitude = modulus[0] === 0 ? modulus.subarray(1) : modulus;
      if (modulus[0] !== 0 || magnitude.length * 8 !== AMD_RSA_BITS || magnitude[0]! < 0x80) {
        throw new DerError(`RSA modulus must be a positive ${AMD_RSA_BITS}-bit INTEGER`);
      }
      return { type: 'rsa', spki: slice(der, spkiTlv) };
    }
    if (bytesEqual(alg, P384_SPKI_ALGORITHM)) {
      const point = bits.slice();
      if (point.length !== 97) throw new DerError(`P-384 key of ${point.length} bytes, expected 97 (uncompressed)`);
      p384.Point.fromBytes(point).assertValidity();
      return { type: 'p384', point };
    }
    throw new DerError('key must be RSA (rsaEncryption) or EC P-384');
  } catch (cause) {
    return bad(`public key: ${(cause as Error).message}`, cause);
  }
}

/** The single CN of a Name (AMD names carry exactly one): Name ::= SEQUENCE OF SET OF { type OID, value string }. */
function commonName(der: Uint8Array, name: Tlv, which: string, bad: (why: string, cause?: unknown) => never): string {
  const cns: string[] = [];
  try {
    for (const rdn of children(der, name)) {
      if (rdn.tag !== 0x31) throw new DerError('a relative name must be a SET');
      for (const atv of children(der, rdn)) {
        const [type, value, ...rest] = atv.tag === SEQUENCE ? children(der, atv) : [];
        if (!type || !value || rest.length > 0 || type.tag !== 0x06) throw new DerError('an attribute must be SEQUENCE { OID, value }');
        if (!bytesEqual(der.subarray(type.contentStart, type.end), CN_OID)) continue;
        if (!NAME_STRING_TAGS.has(value.tag)) throw new DerError(`CN has string tag 0x${value.tag.toString(16)}`);
        cns.push(UTF8.decode(der.subarray(value.contentStart, value.end)));
      }
    }
  } catch (cause) {
    return bad(`${which} name is malformed: ${(cause as Error).message}`, cause);
  }
  if (cns.length !== 1) bad(`${which} must have exactly one CN, found ${cns.length}`);
  return cns[0]!;
}
