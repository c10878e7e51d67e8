/**
 * The AMD SEV-SNP PKI as a chain profile, plus what only AMD's PKI has: the
 * VCEK/VLEK extensions and the certificate names that say which role a
 * certificate plays. ARK (pinned, self-signed RSA-4096) → ASK (for a VCEK) or
 * ASVK (for a VLEK), RSA-4096 → VCEK or VLEK, P-384. Every certificate is
 * signed with RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48 (512 bytes).
 */
import { reject } from '../checks.ts';
import { parseCertificate, RSA_BITS, type CertPosition, type ParsedCertificate } from '../x509/certificate.ts';
import { OID_BASIC_CONSTRAINTS, OID_KEY_USAGE } from '../x509/oids.ts';
import { RSA_PSS_SHA384, type ChainProfile } from '../x509/profile.ts';
import { decodeAmdExtension, type AmdExtensions } from './amd-extensions.ts';
import type { SnpKeyType } from './bits.ts';
import { isProduct, type SnpProduct } from './products.ts';

export const SNP_PROFILE: ChainProfile = Object.freeze<ChainProfile>({
  name: 'sev-snp',
  signatureAlgorithms: [RSA_PSS_SHA384],
  keyTypes: ['rsa', 'p384'],
  caKeyTypes: ['rsa'],
  leafKeyTypes: ['p384'],
  signatureBytes: RSA_BITS / 8,
  requireCommonName: true,
  requireExtensions: true,
  requireCaKeyUsage: true,
  rootSelfSigned: true,
  minLength: 3,
  maxLength: 3,
  understoodCritical: new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE]),
});

/** A certificate of AMD's PKI: the one parser's record, its single CNs, and its AMD extensions decoded. */
export type SnpCertificate = ParsedCertificate & { subjectCn: string; issuerCn: string; amd: AmdExtensions };

/** The AMD extensions of a parsed certificate (malformed → InvalidEvidence at its position). */
export function withAmdExtensions(cert: ParsedCertificate, where: CertPosition): SnpCertificate {
  const amd: AmdExtensions = { tcb: {} };
  for (const [oid, ext] of cert.extensions) {
    try {
      decodeAmdExtension(oid, ext.value, amd);
    } catch (cause) {
      reject('InvalidEvidence', `${where.path}: extension ${oid} is malformed: ${(cause as Error).message}`, { index: where.index, path: where.path, cause });
    }
  }
  return { ...cert, subjectCn: cert.subjectCn!, issuerCn: cert.issuerCn!, amd };
}

/** Parse one certificate of AMD's PKI: the one X.509 parser under SNP_PROFILE, then its AMD extensions. */
export function parseSnpCertificate(der: Uint8Array, where: CertPosition): SnpCertificate {
  return withAmdExtensions(parseCertificate(der, where, SNP_PROFILE), where);
}

const fail = (index: number, path: string, why: string, expected?: unknown, actual?: unknown): never =>
  reject('CertificateChainInvalid', `${path}: ${why}`, { index, path, expected, actual });

/** Rule (AMD names): the ARK is named ARK-<product>. Returns the product. */
export function checkArkName(ark: SnpCertificate, path: string): SnpProduct {
  const product = ark.subjectCn.startsWith('ARK-') ? ark.subjectCn.slice(4) : '';
  if (!isProduct(product)) fail(0, path, `subject CN "${ark.subjectCn}" is not ARK-Milan, ARK-Genoa or ARK-Turin`);
  return product as SnpProduct;
}

/** Rule (AMD names): the intermediate is the ASK (SEV-<product>, issues VCEKs) or the ASVK (SEV-VLEK-<product>, issues VLEKs), whichever the report's key needs. */
export function checkIntermediateName(cert: SnpCertificate, product: SnpProduct, keyType: SnpKeyType, path: string): 'ask' | 'asvk' {
  const role = cert.subjectCn === `SEV-${product}` ? 'ask' : cert.subjectCn === `SEV-VLEK-${product}` ? 'asvk' : undefined;
  if (!role) fail(1, path, `subject CN "${cert.subjectCn}" is neither SEV-${product} nor SEV-VLEK-${product}`);
  const wanted = keyType === 'vcek' ? 'ask' : 'asvk';
  if (role !== wanted) {
    fail(1, path, `the report is signed by a ${keyType.toUpperCase()}, which only the ${wanted.toUpperCase()} issues; this is the ${role!.toUpperCase()}`, wanted, role);
  }
  return role!;
}

/** Rule (AMD names): the leaf is the report's signing key, SEV-VCEK or SEV-VLEK. */
export function checkEndorsementKeyName(cert: SnpCertificate, keyType: SnpKeyType, path: string): void {
  const cn = `SEV-${keyType.toUpperCase()}`;
  if (cert.subjectCn !== cn) fail(2, path, `the report is signed by its ${keyType.toUpperCase()}, but this certificate is "${cert.subjectCn}"`, cn, cert.subjectCn);
}
