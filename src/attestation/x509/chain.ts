/**
 * The one chain validator of the attestation PKIs. A chain is given root
 * first: [root, ...intermediates, leaf]. Each function is one rule, read from
 * a profile; a verifier calls them in its own rule order (Nitro: all links,
 * then all constraints; SEV-SNP: position by position, between its own AMD
 * checks), and `validateChain` runs them all for callers that want one
 * verdict. Errors carry `index` = the position in the chain and `path` = where
 * the certificate came from.
 *
 * Signatures are computed apart from the rules (`chainSignatures`, sync or
 * async as the profile's algorithm is) and judged by `checkLink`, so an
 * asynchronous WebCrypto check and a synchronous one share every rule.
 */
import { KeyUsageFlags } from '@peculiar/asn1-x509';
import { EncumberError } from '../../errors.ts';
import { reject } from '../checks.ts';
import { bytesEqual, fingerprint } from '../bytes.ts';
import { parseCertificate, type ParsedCertificate } from './certificate.ts';
import { chainMemo } from './memo.ts';
import type { ChainProfile } from './profile.ts';

export interface Window {
  notBefore: number;
  notAfter: number;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

const fail = (index: number, path: string, why: string, expected?: unknown, actual?: unknown): never =>
  reject('CertificateChainInvalid', `${path}: ${why}`, { index, path, expected, actual });

/** Rule: the root's DER is pinned (SHA-256, lowercase hex). Returns the index of the pin it matches. */
export function checkTrustedRoot(rootDer: Uint8Array, pins: readonly string[], path: string): number {
  const sha = fingerprint(rootDer);
  const i = pins.findIndex((p) => p.toLowerCase() === sha);
  if (i < 0) {
    reject('UntrustedRoot', `${path} (sha256 ${sha}) is not a pinned trust root`, { index: 0, path, expected: [...pins], actual: sha });
  }
  return i;
}

/** Rule: the chain has a length the profile allows (CertificateChainInvalid at the first position past the bounds). */
export function checkChainLength(length: number, profile: ChainProfile, paths: readonly string[]): void {
  if (length < profile.minLength || length > profile.maxLength) {
    const index = Math.min(Math.max(length - 1, 0), profile.maxLength);
    fail(index, paths[index] ?? `[${index}]`, `a ${profile.name} chain has ${profile.minLength}..${profile.maxLength} certificates, got ${length}`, profile.minLength, length);
  }
}

/**
 * Each certificate's signature by its issuer (the one before it; the root by
 * itself when the profile says it is self-signed, else `true`), in chain order.
 * Synchronous when every algorithm is; started together otherwise.
 */
export function chainSignatures(chain: readonly ParsedCertificate[], profile: ChainProfile): Array<boolean | Promise<boolean>> {
  return chain.map((cert, i) => {
    if (i === 0 && !profile.rootSelfSigned) return true;
    const issuer = i === 0 ? cert : chain[i - 1]!;
    if (issuer.key.type !== cert.signatureAlgorithm.keyType) return false;
    return cert.signatureAlgorithm.verify(issuer.key, cert.signature, cert.tbs);
  });
}

/** chainSignatures for a profile whose algorithms are all synchronous (an InternalError otherwise: a programming mistake). */
export function chainSignaturesSync(chain: readonly ParsedCertificate[], profile: ChainProfile): boolean[] {
  return chainSignatures(chain, profile).map((s) => {
    if (typeof s !== 'boolean') throw new EncumberError('InternalError', `profile ${profile.name} has an asynchronous signature algorithm`);
    return s;
  });
}

/**
 * Rule: position i is issued by the certificate before it (its issuer Name is
 * that subject, byte for byte) and `signed` (its signature verified with that
 * key). The root, when the profile requires it, is self-issued and self-signed.
 */
export function checkLink(chain: readonly ParsedCertificate[], i: number, profile: ChainProfile, signed: boolean, paths: readonly string[]): void {
  const cert = chain[i]!;
  const path = paths[i]!;
  if (i === 0) {
    if (!profile.rootSelfSigned) return;
    if (!bytesEqual(cert.issuer, cert.subject)) fail(0, path, 'the root must be self-issued (issuer = subject)', cert.subjectText, cert.issuerText);
    if (!signed) fail(0, path, `${cert.signatureAlgorithm.name} self-signature does not verify`);
    return;
  }
  const issuer = chain[i - 1]!;
  if (!bytesEqual(cert.issuer, issuer.subject)) {
    fail(i, path, `issuer "${cert.issuerText}" is not the subject of ${paths[i - 1]}`, issuer.subjectText, cert.issuerText);
  }
  if (!signed) fail(i, path, `${cert.signatureAlgorithm.name} signature does not verify with the key of ${paths[i - 1]}`);
}

/**
 * Rule: the role constraints of position i. Every certificate but the leaf is
 * a CA (basicConstraints cA) with a CA key type, may sign certificates
 * (keyUsage keyCertSign; keyUsage required when the profile says so) and
 * respects its pathLenConstraint; the leaf has a leaf key type, is not a CA and
 * may sign (keyUsage digitalSignature when present). No certificate has a
 * critical extension the profile does not understand.
 */
export function checkRole(chain: readonly ParsedCertificate[], i: number, profile: ChainProfile, paths: readonly string[]): void {
  const cert = chain[i]!;
  const path = paths[i]!;
  const leafIndex = chain.length - 1;
  if (i < leafIndex) {
    if (!profile.caKeyTypes.includes(cert.key.type)) fail(i, path, `a CA key must be ${profile.caKeyTypes.join(' or ')}`, profile.caKeyTypes, cert.key.type);
    if (!cert.ca) fail(i, path, 'issues a certificate but is not a CA (basicConstraints cA)', true, false);
    if (cert.keyUsage === undefined ? profile.requireCaKeyUsage : (cert.keyUsage & KeyUsageFlags.keyCertSign) === 0) {
      fail(i, path, 'keyUsage lacks keyCertSign');
    }
    // CA certificates below this one (the leaf does not count).
    const below = leafIndex - 1 - i;
    if (cert.pathLen !== undefined && below > cert.pathLen) {
      fail(i, path, `pathLenConstraint ${cert.pathLen} allows ${cert.pathLen} CA certificate(s) below it, found ${below}`, cert.pathLen, below);
    }
  } else {
    if (!profile.leafKeyTypes.includes(cert.key.type)) fail(i, path, `the leaf key must be ${profile.leafKeyTypes.join(' or ')}`, profile.leafKeyTypes, cert.key.type);
    if (cert.ca) fail(i, path, 'the leaf certificate must not be a CA', false, true);
    if (cert.keyUsage !== undefined && (cert.keyUsage & KeyUsageFlags.digitalSignature) === 0) fail(i, path, 'keyUsage lacks digitalSignature');
  }
  if (cert.unknownCritical.length > 0) fail(i, path, `unsupported critical extension(s) ${cert.unknownCritical.join(', ')}`);
}

/** Rule: every certificate is valid at `at` (inclusive bounds). Returns the chain's common window. */
export function checkValidityAt(chain: readonly ParsedCertificate[], at: number, paths: readonly string[]): Window {
  const window: Window = { notBefore: -Infinity, notAfter: Infinity };
  chain.forEach((cert, i) => {
    const path = paths[i]!;
    if (at < cert.notBefore || at > cert.notAfter) {
      const state = at < cert.notBefore ? 'not yet valid' : 'expired';
      reject('CertificateExpired', `${path} (${cert.subjectText}) is ${state} at ${iso(at)}: valid ${iso(cert.notBefore)} .. ${iso(cert.notAfter)}`, {
        index: i,
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

export interface ValidChain {
  chain: readonly ParsedCertificate[];
  /** When every certificate of the chain is valid. */
  validity: Window;
}

/**
 * Every rule, in this order: length → the root is pinned → each certificate
 * parses → position by position, its role and its link → validity at `at`.
 * Resolves to the parsed chain, or rejects with the first broken rule's
 * EncumberError. A chain verified before under the same profile, at a time
 * inside its window, comes from the memo.
 */
export async function validateChain(
  ders: readonly Uint8Array[],
  profile: ChainProfile,
  opts: { at: Date | number; pins: readonly string[]; paths?: readonly string[] },
): Promise<ValidChain> {
  const at = typeof opts.at === 'number' ? opts.at : opts.at.getTime();
  const paths = opts.paths ?? ders.map((_, i) => `chain[${i}]`);
  const hit = chainMemo.get(ders, profile, at);
  if (hit) {
    checkTrustedRoot(ders[0]!, opts.pins, paths[0]!);
    return { chain: hit, validity: checkValidityAt(hit, at, paths) };
  }
  checkChainLength(ders.length, profile, paths);
  checkTrustedRoot(ders[0]!, opts.pins, paths[0]!);
  const chain = ders.map((der, index) => parseCertificate(der, { index, path: paths[index]! }, profile));
  const signatures = chainSignatures(chain, profile);
  for (let i = 0; i < chain.length; i++) {
    checkRole(chain, i, profile, paths);
    checkLink(chain, i, profile, await signatures[i]!, paths);
  }
  const validity = checkValidityAt(chain, at, paths);
  chainMemo.set(ders, profile, chain);
  return { chain, validity };
}
