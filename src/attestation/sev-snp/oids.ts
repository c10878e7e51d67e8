/**
 * Object identifiers and fixed encodings of the AMD SEV-SNP PKI (AMD pub.
 * 57230, "VCEK Certificate and KDS Interface Specification"). Every AMD
 * certificate (ARK, ASK, ASVK, VCEK, VLEK) is signed with RSASSA-PSS,
 * SHA-384, MGF1-SHA-384, salt 48; anything else is refused.
 */
export const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_KEY_USAGE = '2.5.29.15';

const fromHex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16));

/**
 * RSASSA-PSS-params { sha384, mgf1(sha384), saltLength 48 } as AMD encodes them:
 * with the (default) trailerField 1 spelled out (ARK, ASK, ASVK, older VCEKs) or omitted (newer VCEKs, VLEKs).
 * Compared byte for byte, so no other parameter set can slip through.
 */
export const PSS_SHA384_PARAMS: readonly Uint8Array[] = [
  fromHex('3039a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130a303020101'),
  fromHex('3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130'),
];
export const PSS_SALT_BYTES = 48;
/** The whole AlgorithmIdentifier { id-RSASSA-PSS, params } for each accepted parameter encoding. */
export const PSS_SHA384_ALGORITHMS: readonly Uint8Array[] = PSS_SHA384_PARAMS.map((p) => {
  const oid = fromHex('06092a864886f70d01010a');
  const out = new Uint8Array(2 + oid.length + p.length);
  out.set([0x30, oid.length + p.length]);
  out.set(oid, 2);
  out.set(p, 2 + oid.length);
  return out;
});

/** [0] EXPLICIT INTEGER 2: X.509 v3. */
export const X509_V3 = fromHex('a003020102');
/** DER content of the OID 2.5.4.3 (commonName). */
export const CN_OID = fromHex('550403');

/** AlgorithmIdentifier { rsaEncryption, NULL } of an RSA SubjectPublicKeyInfo. */
export const RSA_SPKI_ALGORITHM = fromHex('300d06092a864886f70d0101010500');
/** AlgorithmIdentifier { id-ecPublicKey, secp384r1 }. */
export const P384_SPKI_ALGORITHM = fromHex('301006072a8648ce3d020106052b81040022');
/** ARK, ASK and ASVK keys are RSA-4096. */
export const AMD_RSA_BITS = 4096;

/** AMD VCEK/VLEK extensions, under 1.3.6.1.4.1.3704.1. */
const AMD = '1.3.6.1.4.1.3704.1';
export const OID_AMD = {
  structVersion: `${AMD}.1`,
  productName: `${AMD}.2`,
  blSpl: `${AMD}.3.1`,
  teeSpl: `${AMD}.3.2`,
  snpSpl: `${AMD}.3.3`,
  ucodeSpl: `${AMD}.3.8`,
  fmcSpl: `${AMD}.3.9`,
  hwId: `${AMD}.4`,
  cspId: `${AMD}.5`,
} as const;

/** Extensions a certificate may mark critical; any other critical extension is refused (RFC 5280 §4.2). */
export const UNDERSTOOD_CRITICAL = new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE]);
