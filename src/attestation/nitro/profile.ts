/**
 * The AWS Nitro PKI as a chain profile: [root, ...intermediates, leaf], every
 * certificate an ECDSA P-384 key signed with ecdsa-with-SHA384. The root is
 * pinned (SHA-256 of its DER; its self-signature is not what makes it trusted); CA
 * keyUsage is checked when present; the root, the cabundle and the leaf make
 * 2..9 certificates. Our dev CA issues the same shape.
 */
import { OID_BASIC_CONSTRAINTS, OID_KEY_USAGE } from '../x509/oids.ts';
import { ECDSA_P384_SHA384, type ChainProfile } from '../x509/profile.ts';
import { NITRO_LIMITS } from './limits.ts';

export const NITRO_PROFILE: ChainProfile = Object.freeze<ChainProfile>({
  name: 'nitro',
  signatureAlgorithms: [ECDSA_P384_SHA384],
  keyTypes: ['p384'],
  caKeyTypes: ['p384'],
  leafKeyTypes: ['p384'],
  requireCommonName: false,
  requireExtensions: false,
  requireCaKeyUsage: false,
  rootSelfSigned: false,
  minLength: 2,
  maxLength: NITRO_LIMITS.maxCabundle + 1,
  understoodCritical: new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE]),
});

/** Document field of chain position i (Nitro layout: cabundle then certificate). */
export const chainPath = (i: number, length: number): string => (i === length - 1 ? 'certificate' : `cabundle[${i}]`);
export const chainPaths = (length: number): string[] => Array.from({ length }, (_, i) => chainPath(i, length));
