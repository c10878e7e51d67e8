/**
 * Verify a Nitro attestation document (COSE_Sign1, ES384, AWS Nitro PKI).
 *
 * Pure: takes the bytes, the pinned roots and the time `at`; no I/O, no clock.
 * Never throws on bad evidence: returns { ok: false, error, checks } with a
 * typed attestation code (only invalid options throw UsageError). The rules
 * run in this fixed order, structure before signatures before policy:
 *
 *   size → cose-structure → document-structure → trusted-root → certificates →
 *   chain-signatures → chain-constraints → cose-signature → validity →
 *   debug-mode → pcrs → nonce → public-key → user-data → freshness
 *
 * A dev document (src/attestation/dev) has the same shape and verifies here
 * when its dev root is passed in `trustRoots`; verifyDevDocument labels it.
 */
import { CheckLog, reject } from '../checks.ts';
import { fingerprint, toHex } from '../bytes.ts';
import type { AttestationCheck, AttestationFailure } from '../types.ts';
import { parseCertificate, type ParsedCertificate } from '../x509/certificate.ts';
import { chainSignaturesSync, checkChainLength, checkLink, checkRole, checkTrustedRoot, checkValidityAt, iso, type Window } from '../x509/chain.ts';
import { chainMemo } from '../x509/memo.ts';
import { parseCoseSign1, verifyCoseSignature } from './cose.ts';
import { parseAttestationDocument } from './document.ts';
import { normalizeOptions, type NitroVerifyOptions } from './options.ts';
import { chainPaths, NITRO_PROFILE } from './profile.ts';
import { checkDebug, checkField, checkFreshness, checkPcrs, isDebug } from './policy.ts';

export interface NitroAttestation {
  platform: 'nitro' | 'dev';
  moduleId: string;
  /** ms since the epoch, as the NSM wrote it. */
  timestamp: number;
  digest: 'SHA384';
  /** PCR index → 48 bytes. */
  pcrs: Record<number, Uint8Array>;
  publicKey: Uint8Array | null;
  userData: Uint8Array | null;
  nonce: Uint8Array | null;
  /** PCR0 was all zero (only possible with allowDebug). */
  debug: boolean;
  /** Which of the supplied trust roots the chain starts at. */
  root: { index: number; sha256: string };
  leaf: { subject: string; notBefore: number; notAfter: number };
  /** When every certificate of the chain is valid: the evidence verifies only inside this window. */
  validity: Window;
  checks: AttestationCheck[];
}

export type NitroVerdict = ({ ok: true } & NitroAttestation) | AttestationFailure;

export function verifyNitroDocument(bytes: Uint8Array, options: NitroVerifyOptions): NitroVerdict {
  return verifyNitroShaped(bytes, options, 'nitro');
}

/** @internal Shared by verifyNitroDocument and verifyDevDocument (same format, different label). */
export function verifyNitroShaped(bytes: Uint8Array, options: NitroVerifyOptions, platform: 'nitro' | 'dev'): NitroVerdict {
  const opts = normalizeOptions(options);
  const log = new CheckLog();
  try {
    // 1. Size, before any parsing.
    log.step(
      'size',
      () => {
        if (!(bytes instanceof Uint8Array)) reject('InvalidEvidence', 'evidence must be bytes');
        if (bytes.length === 0 || bytes.length > opts.maxBytes) {
          reject('InvalidEvidence', `evidence is ${bytes.length} bytes, allowed 1..${opts.maxBytes}`, {
            expected: opts.maxBytes,
            actual: bytes.length,
          });
        }
        return bytes.length;
      },
      (n) => `${n} bytes (limit ${opts.maxBytes})`,
    );

    // 2. COSE_Sign1 envelope: ES384 protected header, attached payload, 96-byte signature.
    const cose = log.step(
      'cose-structure',
      () => parseCoseSign1(bytes),
      (c) => `COSE_Sign1${c.tagged ? ' (tag 18)' : ''}, alg ES384, payload ${c.payload.length} bytes`,
    );

    // 3. The attestation document: every field typed and bounded, no unknown fields.
    const doc = log.step(
      'document-structure',
      () => parseAttestationDocument(cose.payload),
      (d) => `module ${d.moduleId}, ${iso(d.timestamp)}, ${d.pcrs.size} PCRs, ${d.cabundle.length + 1} certificates`,
    );

    // 4. The chain starts at a pinned root (SHA-256 of its DER).
    const ders = [...doc.cabundle, doc.certificate];
    const paths = chainPaths(ders.length);
    const pins = opts.roots.map(fingerprint);
    const rootIndex = log.step(
      'trusted-root',
      () => checkTrustedRoot(ders[0]!, pins, paths[0]!),
      (i) => `cabundle[0] is the pinned root sha256 ${pins[i]}`,
    );

    // A chain that passed rules 5–7 before, unchanged and still inside its validity window, is not checked again.
    const known = chainMemo.get(ders, NITRO_PROFILE, opts.at);

    // 5. Every certificate parses: v3, P-384 key, ecdsa-with-SHA384.
    const chain = log.step(
      'certificates',
      (): readonly ParsedCertificate[] => {
        if (known) return known;
        checkChainLength(ders.length, NITRO_PROFILE, paths);
        return ders.map((der, index) => parseCertificate(der, { index, path: paths[index]! }, NITRO_PROFILE));
      },
      (c) => `${c.length} certificates, leaf ${c[c.length - 1]!.subjectText}`,
    );
    const leaf = chain[chain.length - 1]!;

    // 6. Each certificate is issued and signed by the one before it.
    log.step(
      'chain-signatures',
      () => {
        if (known) return;
        const signed = chainSignaturesSync(chain, NITRO_PROFILE);
        for (let i = 1; i < chain.length; i++) checkLink(chain, i, NITRO_PROFILE, signed[i]!, paths);
      },
      () => `${chain.length - 1} signature(s) verify from the root down to the leaf`,
    );

    // 7. CA flags, key usage, path length, no unknown critical extensions.
    log.step(
      'chain-constraints',
      () => {
        if (known) return;
        for (let i = 0; i < chain.length; i++) checkRole(chain, i, NITRO_PROFILE, paths);
        chainMemo.set(ders, NITRO_PROFILE, chain);
      },
      () => 'CA constraints hold; the leaf is not a CA',
    );

    // 8. The COSE signature, by the leaf's key.
    log.step(
      'cose-signature',
      () => {
        if (leaf.key.type !== 'p384' || !verifyCoseSignature(cose, leaf.key.point)) {
          reject('EvidenceSignatureInvalid', 'the COSE_Sign1 signature does not verify with the leaf certificate key', {
            path: 'signature',
          });
        }
      },
      () => `ES384 signature by ${leaf.subjectText} verifies`,
    );

    // 9. Every certificate is valid at `at`, and the document's own timestamp lies inside the chain's window.
    const validity = log.step(
      'validity',
      () => {
        const window = checkValidityAt(chain, opts.at, paths);
        if (doc.timestamp < window.notBefore || doc.timestamp > window.notAfter) {
          reject('InvalidEvidence', `document timestamp ${iso(doc.timestamp)} lies outside its chain's validity`, {
            path: 'timestamp',
            expected: { notBefore: iso(window.notBefore), notAfter: iso(window.notAfter) },
            actual: iso(doc.timestamp),
          });
        }
        return window;
      },
      (w) => `all certificates valid at ${iso(opts.at)} (chain valid ${iso(w.notBefore)} .. ${iso(w.notAfter)})`,
    );

    // 10. Not a debug enclave (unless allowed).
    log.step('debug-mode', () => checkDebug(doc, opts.allowDebug), (d) => d);

    // 11–14. What the caller expects: PCRs, nonce, public_key, user_data.
    if (opts.expectedPcrs.size > 0) log.step('pcrs', () => checkPcrs(doc, opts.expectedPcrs), (d) => d);
    else log.skip('pcrs', 'no expected PCR values given');
    const fields = [
      ['nonce', 'NonceMismatch', 'nonce', doc.nonce, opts.expectedNonce],
      ['public-key', 'PublicKeyMismatch', 'public_key', doc.publicKey, opts.expectedPublicKey],
      ['user-data', 'BindingMismatch', 'user_data', doc.userData, opts.expectedUserData],
    ] as const;
    for (const [name, code, path, actual, expected] of fields) {
      if (expected) log.step(name, () => checkField(code, path, actual, expected), (d) => d);
      else log.skip(name, `no expected ${path} given`);
    }

    // 15. Freshness relative to `at`.
    if (opts.maxAgeMs !== undefined) log.step('freshness', () => checkFreshness(doc, opts.at, opts.maxAgeMs!), (d) => d);
    else log.skip('freshness', 'no maximum age given');

    return {
      ok: true,
      platform,
      moduleId: doc.moduleId,
      timestamp: doc.timestamp,
      digest: doc.digest,
      pcrs: Object.fromEntries(doc.pcrs),
      publicKey: doc.publicKey,
      userData: doc.userData,
      nonce: doc.nonce,
      debug: isDebug(doc),
      root: { index: rootIndex, sha256: fingerprint(opts.roots[rootIndex]!) },
      leaf: { subject: leaf.subjectText, notBefore: leaf.notBefore, notAfter: leaf.notAfter },
      validity,
      checks: log.rows,
    };
  } catch (e) {
    return log.failure(e);
  }
}

/** PCRs as hex, for display and JSON output. */
export const pcrsHex = (pcrs: Record<number, Uint8Array>): Record<number, string> =>
  Object.fromEntries(Object.entries(pcrs).map(([i, v]) => [i, toHex(v)]));
