/**
 * Chain rules for an attestation certificate chain, given as
 * [root, ...intermediates, leaf] (Nitro: [...cabundle, certificate]).
 * Each function is one rule; the verifier calls them in order. Errors carry
 * `index` = the position in that chain and `path` = the document field.
 */
import { KeyUsageFlags } from '@peculiar/asn1-x509';
import { reject } from '../checks.ts';
import { bytesEqual, fingerprint } from '../bytes.ts';
import type { ParsedCertificate } from './certificate.ts';
import { verifyP384 } from './ecdsa.ts';

/** Document field of chain position i (Nitro layout: cabundle then certificate). */
export const chainPath = (i: number, length: number): string => (i === length - 1 ? 'certificate' : `cabundle[${i}]`);

/** Rule: the first certificate is byte-for-byte one of the pinned roots. Returns which. */
export function findTrustedRoot(first: Uint8Array, roots: readonly Uint8Array[]): number {
  const i = roots.findIndex((r) => bytesEqual(r, first));
  if (i < 0) {
    reject('UntrustedRoot', `cabundle[0] (sha256 ${fingerprint(first)}) is not a pinned trust root`, {
      index: 0,
      path: 'cabundle[0]',
      expected: roots.map(fingerprint),
      actual: fingerprint(first),
    });
  }
  return i;
}

// Verified (issuer, certificate) links, keyed by both DERs' fingerprints: a
// verifier sees the same regional/zonal/instance certificates in every document
// of an enclave, so only the COSE signature is new work. Pure memo of successes.
const LINK_MEMO_LIMIT = 256;
const verifiedLinks = new Set<string>();

function verifiedLink(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const id = `${fingerprint(issuer.der)}>${fingerprint(cert.der)}`;
  if (verifiedLinks.has(id)) return true;
  if (!verifyP384(cert.signature, cert.tbs, issuer.publicKey, 'der')) return false;
  if (verifiedLinks.size >= LINK_MEMO_LIMIT) verifiedLinks.delete(verifiedLinks.values().next().value!);
  verifiedLinks.add(id);
  return true;
}

/** Rule: each certificate names the previous one as issuer and carries its valid signature. */
export function checkChainSignatures(chain: readonly ParsedCertificate[]): void {
  for (let i = 1; i < chain.length; i++) {
    const cert = chain[i]!;
    const issuer = chain[i - 1]!;
    const path = chainPath(i, chain.length);
    if (!bytesEqual(cert.issuer, issuer.subject)) {
      reject('CertificateChainInvalid', `${path}: issuer "${cert.issuerText}" is not the subject of the certificate before it`, {
        index: i,
        path,
        expected: issuer.subjectText,
        actual: cert.issuerText,
      });
    }
    if (!verifiedLink(cert, issuer)) {
      reject('CertificateChainInvalid', `${path}: signature does not verify with the key of ${chainPath(i - 1, chain.length)}`, {
        index: i,
        path,
      });
    }
  }
}

/**
 * Rule: CA constraints. Every certificate but the leaf is a CA (basicConstraints cA), may sign certificates
 * (keyUsage keyCertSign when present) and respects its pathLenConstraint; the leaf is not a CA and may sign
 * (keyUsage digitalSignature when present). No certificate has a critical extension we do not understand.
 */
export function checkChainConstraints(chain: readonly ParsedCertificate[]): void {
  const leafIndex = chain.length - 1;
  chain.forEach((cert, i) => {
    const path = chainPath(i, chain.length);
    const fail = (why: string, expected?: unknown, actual?: unknown): never =>
      reject('CertificateChainInvalid', `${path}: ${why}`, { index: i, path, expected, actual });
    if (cert.unknownCritical.length > 0) fail(`unsupported critical extension(s) ${cert.unknownCritical.join(', ')}`);
    if (i < leafIndex) {
      if (!cert.ca) fail('issues a certificate but is not a CA (basicConstraints cA)', true, false);
      if (cert.keyUsage !== undefined && (cert.keyUsage & KeyUsageFlags.keyCertSign) === 0) {
        fail('keyUsage lacks keyCertSign');
      }
      // Intermediate CAs below this one (the leaf does not count).
      const below = leafIndex - 1 - i;
      if (cert.pathLen !== undefined && below > cert.pathLen) {
        fail(`pathLenConstraint ${cert.pathLen} allows ${cert.pathLen} CA certificate(s) below it, found ${below}`, cert.pathLen, below);
      }
    } else {
      if (cert.ca) fail('the signing (leaf) certificate must not be a CA', false, true);
      if (cert.keyUsage !== undefined && (cert.keyUsage & KeyUsageFlags.digitalSignature) === 0) {
        fail('keyUsage lacks digitalSignature');
      }
    }
  });
}

export interface Window {
  notBefore: number;
  notAfter: number;
}

/** Rule: every certificate is valid at `at` (inclusive bounds). Returns the chain's common window. */
export function checkValidityAt(chain: readonly ParsedCertificate[], at: number): Window {
  const window: Window = { notBefore: -Infinity, notAfter: Infinity };
  chain.forEach((cert, i) => {
    const path = chainPath(i, chain.length);
    if (at < cert.notBefore || at > cert.notAfter) {
      const state = at < cert.notBefore ? 'not yet valid' : 'expired';
      reject(
        'CertificateExpired',
        `${path} (${cert.subjectText}) is ${state} at ${iso(at)}: valid ${iso(cert.notBefore)} .. ${iso(cert.notAfter)}`,
        { index: i, path, expected: { notBefore: iso(cert.notBefore), notAfter: iso(cert.notAfter) }, actual: iso(at) },
      );
    }
    window.notBefore = Math.max(window.notBefore, cert.notBefore);
    window.notAfter = Math.min(window.notAfter, cert.notAfter);
  });
  return window;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** For benchmarks and tests: forget verified links. */
export function clearChainMemo(): void {
  verifiedLinks.clear();
}
