/**
 * Chain rules for the AMD SEV-SNP PKI: ARK (pinned, self-signed) → ASK or
 * ASVK → VCEK or VLEK. Each function is one rule's structural part; the
 * signatures themselves are awaited by the verifier right after (structure
 * before signature). Errors carry `index` (0 ARK, 1 ASK/ASVK, 2 VCEK/VLEK)
 * and `path` (the `certs` slot the certificate came from).
 */
import { KeyUsageFlags } from '@peculiar/asn1-x509';
import { reject } from '../checks.ts';
import { bytesEqual, fingerprint } from '../bytes.ts';
import { iso, type Window } from '../x509/chain.ts';
import type { SnpKeyType } from './bits.ts';
import type { SnpCertificate } from './certificate.ts';
import { isProduct, type SnpProduct } from './products.ts';

export interface SnpChain {
  ark: SnpCertificate;
  intermediate: SnpCertificate;
  leaf: SnpCertificate;
  /** The `certs` slots they came from, e.g. ['certs.ark', 'certs.ask', 'certs.vcek']. */
  paths: readonly [string, string, string];
}

const fail = (code: 'CertificateChainInvalid', index: number, path: string, why: string, expected?: unknown, actual?: unknown): never =>
  reject(code, `${path}: ${why}`, { index, path, expected, actual });

/** Rule: the ARK's SHA-256 is one of the pinned fingerprints. Returns the fingerprint. */
export function checkPinnedArk(arkDer: Uint8Array, pins: readonly string[]): string {
  const sha = fingerprint(arkDer);
  if (!pins.includes(sha)) {
    reject('UntrustedRoot', `certs.ark (sha256 ${sha}) is not a pinned AMD root key`, { index: 0, path: 'certs.ark', expected: pins, actual: sha });
  }
  return sha;
}

/** Rule (structure): the ARK is a self-issued RSA CA named ARK-<product>. Returns the product. */
export function checkArk(ark: SnpCertificate): SnpProduct {
  const path = 'certs.ark';
  const product = ark.subjectCn.startsWith('ARK-') ? ark.subjectCn.slice(4) : '';
  if (!isProduct(product)) fail('CertificateChainInvalid', 0, path, `subject CN "${ark.subjectCn}" is not ARK-Milan, ARK-Genoa or ARK-Turin`);
  if (!bytesEqual(ark.issuer, ark.subject)) fail('CertificateChainInvalid', 0, path, 'the root must be self-issued (issuer = subject)');
  caConstraints(ark, 0, path);
  return product as SnpProduct;
}

/** Rule (structure): the ASK (for a VCEK) or ASVK (for a VLEK) is an RSA CA issued by the ARK, named for the product. */
export function checkIntermediate(cert: SnpCertificate, ark: SnpCertificate, product: SnpProduct, keyType: SnpKeyType, path: string): 'ask' | 'asvk' {
  const role = cert.subjectCn === `SEV-${product}` ? 'ask' : cert.subjectCn === `SEV-VLEK-${product}` ? 'asvk' : undefined;
  if (!role) fail('CertificateChainInvalid', 1, path, `subject CN "${cert.subjectCn}" is neither SEV-${product} nor SEV-VLEK-${product}`);
  const wanted = keyType === 'vcek' ? 'ask' : 'asvk';
  if (role !== wanted) {
    fail('CertificateChainInvalid', 1, path, `the report is signed by a ${keyType.toUpperCase()}, which only the ${wanted.toUpperCase()} issues; this is the ${role!.toUpperCase()}`, wanted, role);
  }
  if (!bytesEqual(cert.issuer, ark.subject)) fail('CertificateChainInvalid', 1, path, `issuer "${cert.issuerCn}" is not the ARK`, ark.subjectCn, cert.issuerCn);
  caConstraints(cert, 1, path);
  return role!;
}

/** Rule (structure): the VCEK/VLEK is a P-384, non-CA certificate named SEV-VCEK/SEV-VLEK, issued by the ASK/ASVK. */
export function checkEndorsementKey(cert: SnpCertificate, issuer: SnpCertificate, keyType: SnpKeyType, path: string): void {
  const cn = `SEV-${keyType.toUpperCase()}`;
  if (cert.subjectCn !== cn) fail('CertificateChainInvalid', 2, path, `the report is signed by its ${keyType.toUpperCase()}, but this certificate is "${cert.subjectCn}"`, cn, cert.subjectCn);
  if (!bytesEqual(cert.issuer, issuer.subject)) fail('CertificateChainInvalid', 2, path, `issuer "${cert.issuerCn}" is not ${issuer.subjectCn}`, issuer.subjectCn, cert.issuerCn);
  if (cert.key.type !== 'p384') fail('CertificateChainInvalid', 2, path, 'an endorsement key must be EC P-384');
  if (cert.ca) fail('CertificateChainInvalid', 2, path, 'an endorsement key certificate must not be a CA', false, true);
  if (cert.keyUsage !== undefined && (cert.keyUsage & KeyUsageFlags.digitalSignature) === 0) fail('CertificateChainInvalid', 2, path, 'keyUsage lacks digitalSignature');
  if (cert.unknownCritical.length > 0) fail('CertificateChainInvalid', 2, path, `unsupported critical extension(s) ${cert.unknownCritical.join(', ')}`);
}

function caConstraints(cert: SnpCertificate, index: number, path: string): void {
  if (cert.key.type !== 'rsa') fail('CertificateChainInvalid', index, path, 'an AMD CA key must be RSA-4096');
  if (!cert.ca) fail('CertificateChainInvalid', index, path, 'issues certificates but is not a CA (basicConstraints cA)', true, false);
  if (cert.keyUsage === undefined || (cert.keyUsage & KeyUsageFlags.keyCertSign) === 0) fail('CertificateChainInvalid', index, path, 'keyUsage lacks keyCertSign');
  // Below the ARK sits one CA (the ASK/ASVK), below that only the leaf.
  const below = 1 - index;
  if (cert.pathLen !== undefined && cert.pathLen < below) fail('CertificateChainInvalid', index, path, `pathLenConstraint ${cert.pathLen} forbids the ${below} CA below it`);
  if (cert.unknownCritical.length > 0) fail('CertificateChainInvalid', index, path, `unsupported critical extension(s) ${cert.unknownCritical.join(', ')}`);
}

/** Rule: each certificate's signature verified (awaited by the caller). */
export function requireSignature(ok: boolean, index: number, path: string, signer: string): void {
  if (!ok) fail('CertificateChainInvalid', index, path, `RSASSA-PSS signature does not verify with the key of ${signer}`);
}

/** Rule: every certificate is valid at `at` (inclusive bounds). Returns the chain's common window. */
export function checkValidity(chain: SnpChain, at: number): Window {
  const window: Window = { notBefore: -Infinity, notAfter: Infinity };
  [chain.ark, chain.intermediate, chain.leaf].forEach((cert, index) => {
    const path = chain.paths[index]!;
    if (at < cert.notBefore || at > cert.notAfter) {
      const state = at < cert.notBefore ? 'not yet valid' : 'expired';
      reject('CertificateExpired', `${path} (${cert.subjectCn}) is ${state} at ${iso(at)}: valid ${iso(cert.notBefore)} .. ${iso(cert.notAfter)}`, {
        index,
        path,
        expected: { notBefore: iso(cert.notBefore), notAfter: iso(cert.notAfter) },
        actual: iso(at),
      });
    }
    window.notBefore = Math.max(window.notBefore, cert.notBefore);
    window.notAfter = Math.min(window.notAfter, cert.notAfter);
  });
  return window;
}
