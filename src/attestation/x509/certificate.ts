/**
 * The one X.509 certificate parser of the attestation PKIs: DER in, a typed
 * record out, without trusting anything in it yet. The raw signed bytes,
 * names and keys are cut by our own strict DER reader; validity, names (for
 * display) and extensions are decoded by @peculiar/asn1-x509 (pure JS,
 * browser-safe), each on its own slice (parsing the whole certificate costs
 * about 4× more).
 *
 * What a PKI accepts (signature algorithms, key types, CN and extension
 * requirements) comes from its profile; anything outside it is
 * InvalidEvidence naming the certificate (`path`) and its chain position (`index`).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Extensions, KeyUsage, Name, Validity } from '@peculiar/asn1-x509';
import { p384 } from '@noble/curves/nist.js';
import { reject } from '../checks.ts';
import { bytesEqual, fingerprint } from '../bytes.ts';
import { BIT_STRING, children, DerError, readTlv, SEQUENCE, type Tlv, splitCertificate } from './der.ts';
import { CN_OID, OID_BASIC_CONSTRAINTS, OID_KEY_USAGE, P384_SPKI_ALGORITHM, RSA_SPKI_ALGORITHM, X509_V3 } from './oids.ts';
import type { ChainProfile, PublicKey, SignatureAlgorithm } from './profile.ts';

/** RSA keys of the attestation PKIs are 4096-bit. */
export const RSA_BITS = 4096;

export interface CertificateExtension {
  critical: boolean;
  /** The extnValue OCTET STRING's content. */
  value: Uint8Array;
}

export interface ParsedCertificate {
  der: Uint8Array;
  /** SHA-256 of the DER, lowercase hex. */
  sha256: string;
  /** The exact tbsCertificate bytes the issuer signed. */
  tbs: Uint8Array;
  /** The profile's algorithm the certificate names (outer = inner AlgorithmIdentifier). */
  signatureAlgorithm: SignatureAlgorithm;
  /** signatureValue BIT STRING content (an ECDSA-Sig-Value in DER, or the RSA signature). */
  signature: Uint8Array;
  /** Raw DER of the issuer and subject Names (compared byte for byte). */
  issuer: Uint8Array;
  subject: Uint8Array;
  /** Display forms, most specific first (like RFC 4514). */
  issuerText: string;
  subjectText: string;
  /** The single commonName, when the Name has exactly one (required by some profiles). */
  issuerCn?: string;
  subjectCn?: string;
  /** Validity window, ms since the epoch (X.509 has second precision). */
  notBefore: number;
  notAfter: number;
  key: PublicKey;
  /** The SubjectPublicKeyInfo DER. */
  spki: Uint8Array;
  /** basicConstraints: absent means not a CA. */
  ca: boolean;
  pathLen?: number;
  /** keyUsage bit mask (asn1-x509 KeyUsageFlags), undefined when the extension is absent. */
  keyUsage?: number;
  /** Every extension but basicConstraints and keyUsage, by OID (platform checks read theirs here). */
  extensions: ReadonlyMap<string, CertificateExtension>;
  /** Critical extensions the profile does not understand (refused by the chain rules). */
  unknownCritical: string[];
}

export interface CertPosition {
  /** Position in the chain, root first. */
  index: number;
  /** Where the certificate came from, e.g. 'cabundle[2]' or 'certs.vcek'. */
  path: string;
}

type Bad = (why: string, cause?: unknown) => never;

const slice = (der: Uint8Array, t: Tlv): Uint8Array => der.slice(t.start, t.end);
/** UTF8String, PrintableString, IA5String. */
const NAME_STRING_TAGS = new Set([0x0c, 0x13, 0x16]);
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function parseCertificate(input: Uint8Array, where: CertPosition, profile: ChainProfile): ParsedCertificate {
  const bad: Bad = (why, cause) => reject('InvalidEvidence', `${where.path}: ${why}`, { index: where.index, path: where.path, cause });
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
  // No issuerUniqueID / subjectUniqueID: none of these PKIs uses them.
  const withExtensions = tbsParts.length === 8;
  if (!(withExtensions || (tbsParts.length === 7 && !profile.requireExtensions))) {
    bad(`tbsCertificate must be { version, serial, signature, issuer, validity, subject, key${profile.requireExtensions ? ', [3] extensions' : ' [, [3] extensions]'} }`);
  }
  const [versionTlv, serialTlv, innerAlg, issuerTlv, validityTlv, subjectTlv, spkiTlv, extTlv] = tbsParts as [Tlv, Tlv, Tlv, Tlv, Tlv, Tlv, Tlv, Tlv | undefined];
  if (!bytesEqual(slice(der, versionTlv), X509_V3)) bad('version must be v3 (explicit)');
  if (serialTlv.tag !== 0x02) bad('serialNumber must be an INTEGER');
  if (issuerTlv.tag !== SEQUENCE || validityTlv.tag !== SEQUENCE || subjectTlv.tag !== SEQUENCE || spkiTlv.tag !== SEQUENCE) {
    bad('issuer, validity, subject and key must be SEQUENCEs');
  }
  if (extTlv && extTlv.tag !== 0xa3) bad('expected [3] extensions after the key');

  // Algorithm: one the profile accepts, byte for byte, the same inside and outside.
  const algorithm = slice(der, parts[1]!);
  const signatureAlgorithm = profile.signatureAlgorithms.find((a) => a.encodings.some((e) => bytesEqual(e, algorithm)));
  if (!signatureAlgorithm) bad(`signature algorithm must be ${profile.signatureAlgorithms.map((a) => `${a.name} (${a.oid})`).join(' or ')} with its exact parameters`);
  if (!bytesEqual(algorithm, slice(der, innerAlg))) bad('signatureAlgorithm differs from tbsCertificate.signature');
  const sigTlv = parts[2]!;
  if (sigTlv.end - sigTlv.contentStart < 2 || der[sigTlv.contentStart] !== 0) bad('signatureValue must have 0 unused bits');
  const signature = der.slice(sigTlv.contentStart + 1, sigTlv.end);
  if (profile.signatureBytes !== undefined && signature.length !== profile.signatureBytes) {
    bad(`signature is ${signature.length} bytes, expected ${profile.signatureBytes}`);
  }

  // Validity, names and extensions through asn1-x509, each on its own slice.
  let validity: Validity;
  let extensions: Extensions = new Extensions();
  let issuerText = '';
  let subjectText = '';
  try {
    validity = AsnConvert.parse(slice(der, validityTlv), Validity);
    issuerText = nameText(AsnConvert.parse(slice(der, issuerTlv), Name));
    subjectText = nameText(AsnConvert.parse(slice(der, subjectTlv), Name));
    if (extTlv) {
      const inner = readTlv(der, extTlv.contentStart, extTlv.end);
      if (inner.tag !== SEQUENCE || inner.end !== extTlv.end) throw new DerError('[3] must hold exactly one SEQUENCE of extensions');
      extensions = AsnConvert.parse(slice(der, inner), Extensions);
    }
  } catch (cause) {
    return bad(`not an X.509 certificate: ${(cause as Error).message}`, cause);
  }

  const { key, spki } = publicKey(der, spkiTlv, bad);
  if (!profile.keyTypes.includes(key.type)) bad(`public key must be ${profile.keyTypes.map(keyName).join(' or ')}, got ${keyName(key.type)}`);

  // Extensions: each at most once; basicConstraints and keyUsage decoded, the rest kept raw by OID.
  const others = new Map<string, CertificateExtension>();
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
        others.set(ext.extnID, { critical: ext.critical === true, value: value.slice() });
        if (ext.critical && !profile.understoodCritical.has(ext.extnID)) unknownCritical.push(ext.extnID);
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

  const issuerCn = commonName(der, issuerTlv, 'issuer', bad, profile.requireCommonName);
  const subjectCn = commonName(der, subjectTlv, 'subject', bad, profile.requireCommonName);
  if (profile.requireCommonName && (issuerCn === undefined || subjectCn === undefined)) {
    bad(`${issuerCn === undefined ? 'issuer' : 'subject'} must have exactly one CN`);
  }

  const out: ParsedCertificate = {
    der,
    sha256: fingerprint(der),
    tbs: slice(der, parts[0]!),
    signatureAlgorithm: signatureAlgorithm!,
    signature,
    issuer: slice(der, issuerTlv),
    subject: slice(der, subjectTlv),
    issuerText,
    subjectText,
    notBefore,
    notAfter,
    key,
    spki,
    ca,
    extensions: others,
    unknownCritical,
  };
  if (issuerCn !== undefined) out.issuerCn = issuerCn;
  if (subjectCn !== undefined) out.subjectCn = subjectCn;
  if (pathLen !== undefined) out.pathLen = pathLen;
  if (keyUsage !== undefined) out.keyUsage = keyUsage;
  return out;
}

const keyName = (t: PublicKey['type']): string => (t === 'p384' ? 'EC P-384' : `RSA-${RSA_BITS}`);

/** SubjectPublicKeyInfo: RSA-4096 (rsaEncryption, NULL) or P-384 (id-ecPublicKey, secp384r1, a valid uncompressed point). */
function publicKey(der: Uint8Array, spkiTlv: Tlv, bad: Bad): { key: PublicKey; spki: Uint8Array } {
  try {
    const spki = slice(der, spkiTlv);
    const [algTlv, keyTlv, ...rest] = children(der, spkiTlv);
    if (!algTlv || !keyTlv || rest.length > 0 || keyTlv.tag !== BIT_STRING || keyTlv.end === keyTlv.contentStart || der[keyTlv.contentStart] !== 0) {
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
      if (modulus[0] !== 0 || magnitude.length * 8 !== RSA_BITS || magnitude[0]! < 0x80) {
        throw new DerError(`RSA modulus must be a positive ${RSA_BITS}-bit INTEGER`);
      }
      return { key: { type: 'rsa', spki }, spki };
    }
    if (bytesEqual(alg, P384_SPKI_ALGORITHM)) {
      const point = bits.slice();
      if (point.length !== 97) throw new DerError(`P-384 key of ${point.length} bytes, expected 97 (uncompressed)`);
      p384.Point.fromBytes(point).assertValidity();
      return { key: { type: 'p384', point }, spki };
    }
    throw new DerError('key must be RSA (rsaEncryption) or EC on secp384r1');
  } catch (cause) {
    return bad(`public key: ${(cause as Error).message}`, cause);
  }
}

/**
 * The single CN of a Name, or undefined when it has none or several: Name ::= SEQUENCE OF SET OF { type OID, value
 * string }. A CN that is not a UTF8String, PrintableString or IA5String is malformed when the profile needs the CN,
 * and simply not read otherwise.
 */
function commonName(der: Uint8Array, name: Tlv, which: string, bad: Bad, required: boolean): string | undefined {
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
    return required ? bad(`${which} name is malformed: ${(cause as Error).message}`, cause) : undefined;
  }
  return cns.length === 1 ? cns[0] : undefined;
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
