/** The object identifiers the Nitro PKI (and our dev CA) use. Anything else is refused. */
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_SECP384R1 = '1.3.132.0.34';
export const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_KEY_USAGE = '2.5.29.15';

/** DER of the secp384r1 OID, as it appears in SubjectPublicKeyInfo parameters. */
export const SECP384R1_PARAMS = new Uint8Array([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]);

/** Extensions a certificate may mark critical; any other critical extension is refused (RFC 5280 §4.2). */
export const UNDERSTOOD_CRITICAL = new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE]);
