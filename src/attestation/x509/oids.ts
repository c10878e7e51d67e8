/**
 * Object identifiers and fixed DER encodings of the attestation PKIs (the AWS
 * Nitro PKI, AMD's SEV-SNP PKI and our dev CA). Algorithm identifiers and key
 * algorithms are compared byte for byte, so no other parameter set can slip
 * through.
 */
import { fromHex } from '../../crypto/encoding.ts';

export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_SECP384R1 = '1.3.132.0.34';
export const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_KEY_USAGE = '2.5.29.15';

/** DER of the secp384r1 OID, as it appears in SubjectPublicKeyInfo parameters. */
export const SECP384R1_PARAMS = fromHex('06052b81040022');

/** [0] EXPLICIT INTEGER 2: X.509 v3. */
export const X509_V3 = fromHex('a003020102');
/** DER content of the OID 2.5.4.3 (commonName). */
export const CN_OID = fromHex('550403');

/** AlgorithmIdentifier { id-ecPublicKey, secp384r1 } of a P-384 SubjectPublicKeyInfo. */
export const P384_SPKI_ALGORITHM = fromHex('301006072a8648ce3d020106052b81040022');
/** AlgorithmIdentifier { rsaEncryption, NULL } of an RSA SubjectPublicKeyInfo. */
export const RSA_SPKI_ALGORITHM = fromHex('300d06092a864886f70d0101010500');

/** AlgorithmIdentifier { ecdsa-with-SHA384 } (no parameters, RFC 5758). */
export const ECDSA_SHA384_ALGORITHM = fromHex('300a06082a8648ce3d040303');

/**
 * AlgorithmIdentifier { id-RSASSA-PSS, { sha384, mgf1(sha384), saltLength 48 } } as AMD encodes it:
 * with the (default) trailerField 1 spelled out (ARK, ASK, ASVK, older VCEKs) or omitted (newer VCEKs, VLEKs).
 */
export const PSS_SHA384_ALGORITHMS: readonly Uint8Array[] = [
  fromHex('304606092a864886f70d01010a3039a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130a303020101'),
  fromHex('304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130'),
];
export const PSS_SALT_BYTES = 48;
