/**
 * Parse one X.509 certificate of an attestation chain, strictly and without
 * trusting anything in it yet: the raw signed bytes come from our own DER
 * reader, the fields from @peculiar/asn1-x509 (pure JS, browser-safe).
 *
 * Only what the Nitro PKI uses is accepted: v3, ECDSA P-384 keys,
 * ecdsa-with-SHA384 signatures. Anything else is InvalidEvidence naming the
 * certificate (`path`) and its position in the chain (`index`).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, KeyUsage, type Name } from '@peculiar/asn1-x509';
import { p384 } from '@noble/curves/nist.js';
import { reject } from '../checks.ts';
import { bytesEqual, fingerprint } from '../bytes.ts';
import { SEQUENCE, type Tlv, splitCertificate } from './der.ts';
import {
  OID_BASIC_CONSTRAINTS,
  OID_EC_PUBLIC_KEY,
  OID_ECDSA_WITH_SHA384,
  OID_KEY_USAGE,
  OID_SECP384R1,
  SECP384R1_PARAMS,
  UNDERSTOOD_CRITICAL,
} from './oids.ts';

export interface ParsedCertificate {
  der: Uint8Array;
  /** The exact tbsCertificate bytes the issuer signed. */
  tbs: Uint8Array;
  /** ECDSA-Sig-Value (DER) from the signatureValue BIT STRING. */
  signature: Uint8Array;
  /** Raw DER of the issuer and subject Names (compared byte for byte). */
  issuer: Uint8Array;
  subject: Uint8Array;
  issuerText: string;
  subjectText: string;
  /** Validity window, ms since the epoch (X.509 has second precision). */
  notBefore: number;
  notAfter: number;
  /** Uncompressed P-384 point, 97 bytes. */
  publicKey: Uint8Array;
  /** basicConstraints: absent means not a CA. */
  ca: boolean;
  pathLen?: number;
  /** keyUsage bit mask (asn1-x509 KeyUsageFlags), undefined when the extension is absent. */
  keyUsage?: number;
  /** OIDs of critical extensions we do not understand (refused by the chain rules). */
  unknownCritical: string[];
}

export interface CertPosition {
  /** Position in the chain [...cabundle, certificate]. */
  index: number;
  /** Field in the attestation document, e.g. 'cabundle[2]' or 'certificate'. */
  path: string;
}

export function parseCertificate(der: Uint8Array, where: CertPosition): ParsedCertificate {
  const bad = (why: string, cause?: unknown): never =>
    reject('InvalidEvidence', `${where.path}: ${why}`, { index: where.index, path: where.path, cause });

  // Structure: SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }, nothing after.
  let parts: Tlv[] = [];
  let tbsParts: Tlv[] = [];
  try {
    ({ parts, tbsParts } = splitCertificate(der));
  } catch (cause) {
    bad((cause as Error).message, cause);
  }
  // tbsCertificate: [0] version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
  if (tbsParts.length < 7 || tbsParts[0]!.tag !== 0xa0) bad('tbsCertificate must start with an explicit version (v3)');
  const issuerTlv = tbsParts[3]!;
  const subjectTlv = tbsParts[5]!;
  if (issuerTlv.tag !== SEQUENCE || subjectTlv.tag !== SEQUENCE) bad('issuer and subject must be Names');
  const sigTlv = parts[2]!;
  if (sigTlv.end - sigTlv.contentStart < 2 || der[sigTlv.contentStart] !== 0) bad('signatureValue must have 0 unused bits');

  // Fields, through asn1-x509.
  let parsed: Certificate;
  try {
    parsed = AsnConvert.parse(der, Certificate);
  } catch (cause) {
    return bad(`not an X.509 certificate: ${(cause as Error).message}`, cause);
  }
  const tbs = parsed.tbsCertificate;
  if (tbs.version !== 2) bad(`version must be v3, got v${tbs.version + 1}`);

  // Algorithms: ecdsa-with-SHA384 outside and inside, no parameters.
  for (const [name, alg] of [['signatureAlgorithm', parsed.signatureAlgorithm], ['tbsCertificate.signature', tbs.signature]] as const) {
    if (alg.algorithm !== OID_ECDSA_WITH_SHA384 || (alg.parameters !== undefined && alg.parameters !== null)) {
      bad(`${name} must be ecdsa-with-SHA384 (${OID_ECDSA_WITH_SHA384}), got ${alg.algorithm}`);
    }
  }

  // Public key: id-ecPublicKey on secp384r1, a valid uncompressed point.
  const spki = tbs.subjectPublicKeyInfo;
  const params = spki.algorithm.parameters ? new Uint8Array(spki.algorithm.parameters) : undefined;
  if (spki.algorithm.algorithm !== OID_EC_PUBLIC_KEY || !params || !bytesEqual(params, SECP384R1_PARAMS)) {
    bad(`public key must be EC on secp384r1 (${OID_SECP384R1})`);
  }
  const publicKey = new Uint8Array(spki.subjectPublicKey);
  try {
    if (publicKey.length !== 97) throw new Error(`${publicKey.length} bytes, expected 97 (uncompressed)`);
    p384.Point.fromBytes(publicKey).assertValidity();
  } catch (cause) {
    bad(`public key is not a valid P-384 point: ${(cause as Error).message}`, cause);
  }

  // Extensions: each at most once; basicConstraints and keyUsage decoded.
  const seen = new Set<string>();
  const unknownCritical: string[] = [];
  let ca = false;
  let pathLen: number | undefined;
  let keyUsage: number | undefined;
  for (const ext of tbs.extensions ?? []) {
    if (seen.has(ext.extnID)) bad(`extension ${ext.extnID} appears twice`);
    seen.add(ext.extnID);
    try {
      if (ext.extnID === OID_BASIC_CONSTRAINTS) {
        const bc = AsnConvert.parse(ext.extnValue, BasicConstraints);
        ca = bc.cA === true;
        pathLen = bc.pathLenConstraint;
      } else if (ext.extnID === OID_KEY_USAGE) {
        keyUsage = AsnConvert.parse(ext.extnValue, KeyUsage).toNumber();
      } else if (ext.critical && !UNDERSTOOD_CRITICAL.has(ext.extnID)) {
        unknownCritical.push(ext.extnID);
      }
    } catch (cause) {
      bad(`extension ${ext.extnID} is malformed: ${(cause as Error).message}`, cause);
    }
  }

  let notBefore: number, notAfter: number;
  try {
    notBefore = tbs.validity.notBefore.getTime().getTime();
    notAfter = tbs.validity.notAfter.getTime().getTime();
  } catch (cause) {
    return bad('validity times are malformed', cause);
  }
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter) || notBefore > notAfter) {
    bad('validity window is empty or unreadable');
  }

  const out: ParsedCertificate = {
    der,
    tbs: der.slice(parts[0]!.start, parts[0]!.end),
    signature: der.slice(sigTlv.contentStart + 1, sigTlv.end),
    issuer: der.slice(issuerTlv.start, issuerTlv.end),
    subject: der.slice(subjectTlv.start, subjectTlv.end),
    issuerText: nameText(tbs.issuer),
    subjectText: nameText(tbs.subject),
    notBefore,
    notAfter,
    publicKey,
    ca,
    unknownCritical,
  };
  if (pathLen !== undefined) out.pathLen = pathLen;
  if (keyUsage !== undefined) out.keyUsage = keyUsage;
  return out;
}

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

/** A display form of a Name, most specific first (like RFC 4514). */
function nameText(name: Name): string {
  const rdns: string[] = [];
  for (const rdn of name) {
    rdns.push(rdn.map((atv) => `${SHORT_NAMES[atv.type] ?? atv.type}=${atv.value.toString()}`).join('+'));
  }
  return rdns.reverse().join(', ');
}

// Parsed certificates by DER fingerprint: the chain certificates repeat across
// an enclave's documents, and parsing is most of a verification's pure-JS time.
// Only successful parses are kept; a parse holds no position, so reuse is exact.
const PARSE_MEMO_LIMIT = 256;
const parsedByFingerprint = new Map<string, ParsedCertificate>();

export function parseCertificateMemo(der: Uint8Array, where: { index: number; path: string }): ParsedCertificate {
  const id = fingerprint(der);
  const hit = parsedByFingerprint.get(id);
  if (hit && bytesEqual(hit.der, der)) return hit;
  const parsed = parseCertificate(der, where);
  if (parsedByFingerprint.size >= PARSE_MEMO_LIMIT) parsedByFingerprint.delete(parsedByFingerprint.keys().next().value!);
  parsedByFingerprint.set(id, Object.freeze(parsed));
  return parsed;
}

/** For benchmarks and tests: forget parsed certificates. */
export function clearCertificateMemo(): void {
  parsedByFingerprint.clear();
}
