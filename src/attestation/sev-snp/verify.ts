/**
 * Verify an AMD SEV-SNP attestation report and its AMD certificate chain.
 *
 * Pure: takes the report bytes, the certificates, the pinned ARK fingerprints
 * and the time `at`; no I/O, no clock. Async only because RSASSA-PSS and
 * ECDSA run through WebCrypto. Never rejects on bad evidence: resolves to
 * { ok: false, error, checks } with a typed attestation code (invalid options
 * reject with UsageError; a missing WebCrypto with InternalError). The rules
 * run in this fixed order, structure before signatures before policy:
 *
 *   size → report-structure → certificate-set → trusted-root → certificates →
 *   ark-signature → intermediate-signature → endorsement-key-signature →
 *   validity → report-signature → product → tcb → tcb-floor → chip-id → debug →
 *   migration-agent → vmpl → measurement → report-data
 */
import { CheckLog, reject } from '../checks.ts';
import { fingerprint, toHex } from '../bytes.ts';
import type { AttestationCheck, AttestationFailure } from '../types.ts';
import { chainSignatures, checkLink, checkRole, checkTrustedRoot, checkValidityAt, iso, type Window } from '../x509/chain.ts';
import { parseCertificate } from '../x509/certificate.ts';
import { chainMemo } from '../x509/memo.ts';
import { subtle, verifyEcdsaP384 } from '../x509/webcrypto.ts';
import type { SnpGuestPolicy, SnpKeyType } from './bits.ts';
import { checkChipId, checkProduct, checkTcb } from './identity.ts';
import { SNP_REPORT_BYTES } from './layout.ts';
import { normalizeSnpOptions, type SnpCertificates, type SnpCertSlot, type SnpVerifyOptions } from './options.ts';
import { checkDebug, checkMeasurement, checkMigrationAgent, checkReportData, checkVmpl } from './policy.ts';
import { tcbText, type SnpProduct, type TcbParts } from './products.ts';
import { checkArkName, checkEndorsementKeyName, checkIntermediateName, SNP_PROFILE, withAmdExtensions, type SnpCertificate } from './profile.ts';
import { checkTcbFloor } from './tcb-floor.ts';
import { parseSnpReport, type SnpReport } from './report.ts';

export interface SnpAttestation {
  platform: 'sev-snp';
  version: number;
  product: SnpProduct;
  keyType: SnpKeyType;
  /** The launch measurement (48 bytes): encumber's program hash. */
  measurement: Uint8Array;
  reportData: Uint8Array;
  /** All zero for VLEK-signed reports on masked chips; otherwise the chip's identity. */
  chipId: Uint8Array;
  /** The TCB the endorsement key was issued for (checked against the certificate). */
  reportedTcb: TcbParts;
  policy: SnpGuestPolicy;
  vmpl: number;
  /** Every parsed field of the report. */
  report: SnpReport;
  /** The pinned ARK the chain starts at. */
  root: { sha256: string };
  endorsementKey: { subject: string; sha256: string; productName: string; notBefore: number; notAfter: number; cspId?: string };
  /** When every certificate of the chain is valid: the report verifies only inside this window. */
  validity: Window;
  checks: AttestationCheck[];
}

export type SnpVerdict = ({ ok: true } & SnpAttestation) | AttestationFailure;

/** CheckLog.step for a rule that awaits: the rule's outcome is recorded exactly as a synchronous one would be. */
async function stepAsync<T>(log: CheckLog, name: string, rule: () => Promise<T>, detail: (v: T) => string): Promise<T> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await rule() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  return log.step(name, () => {
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }, detail);
}

type Picked = { ark: Uint8Array; intermediate: [SnpCertSlot, Uint8Array]; leaf: [SnpCertSlot, Uint8Array] };

/** Rule: the evidence holds an ARK, an ASK or ASVK, and a VCEK or VLEK. With both of a pair, the report's signing_key picks. */
function pickCertificates(certs: SnpCertificates, keyType: SnpKeyType): Picked {
  const other: SnpKeyType = keyType === 'vcek' ? 'vlek' : 'vcek';
  const interOrder: SnpCertSlot[] = keyType === 'vcek' ? ['ask', 'asvk'] : ['asvk', 'ask'];
  const inter = interOrder.find((s) => certs[s] !== undefined);
  const leaf = ([keyType, other] as SnpCertSlot[]).find((s) => certs[s] !== undefined);
  const missing = (path: string, what: string): never => reject('InvalidEvidence', `${path}: no ${what} certificate given`, { path });
  if (!certs.ark) missing('certs.ark', 'AMD Root Key (ARK)');
  if (!inter) missing(`certs.${interOrder[0]}`, keyType === 'vcek' ? 'ASK' : 'ASVK');
  if (!leaf) missing(`certs.${keyType}`, `${keyType.toUpperCase()} (the report's signing_key)`);
  return { ark: certs.ark!, intermediate: [inter!, certs[inter!]!], leaf: [leaf!, certs[leaf!]!] };
}

export async function verifySnpReport(report: Uint8Array, options: SnpVerifyOptions): Promise<SnpVerdict> {
  const opts = normalizeSnpOptions(options);
  subtle();
  const log = new CheckLog();
  try {
    // 1. Size, before any parsing.
    log.step(
      'size',
      () => {
        if (!(report instanceof Uint8Array) || report.length !== SNP_REPORT_BYTES) {
          reject('InvalidEvidence', `a report is exactly ${SNP_REPORT_BYTES} bytes, got ${report instanceof Uint8Array ? report.length : typeof report}`, {
            path: 'size',
            expected: SNP_REPORT_BYTES,
            actual: report instanceof Uint8Array ? report.length : typeof report,
          });
        }
        return report.length;
      },
      (n) => `${n} bytes`,
    );

    // 2. Every field: known version, ECDSA P-384, a real signing key, reserved bits and bytes zero.
    const r = log.step('report-structure', () => parseSnpReport(report), (r) => `version ${r.version}, signed by its ${r.signingKey.toUpperCase()}, policy ${r.policy.raw}, VMPL ${r.vmpl}`);

    // 3. Which certificates the evidence brought.
    const picked = log.step('certificate-set', () => pickCertificates(opts.certs, r.signingKey), (p) => `certs.ark, certs.${p.intermediate[0]}, certs.${p.leaf[0]}`);
    const paths = ['certs.ark', `certs.${picked.intermediate[0]}`, `certs.${picked.leaf[0]}`] as const;

    // 4. The ARK is one of the pinned AMD roots (SHA-256 of its DER).
    const arkSha = log.step(
      'trusted-root',
      () => {
        checkTrustedRoot(picked.ark, opts.trustedArks, paths[0]);
        return fingerprint(picked.ark);
      },
      (sha) => `certs.ark is the pinned AMD root sha256 ${sha}`,
    );

    // A chain that passed SNP_PROFILE's rules before, unchanged and still inside its validity window, is not checked again.
    const ders = [picked.ark, picked.intermediate[1], picked.leaf[1]];
    const known = chainMemo.get(ders, SNP_PROFILE, opts.at);

    // 5. Each certificate parses: v3, RSASSA-PSS/SHA-384, RSA-4096 or P-384 key, one CN, well-formed AMD extensions.
    const chain = log.step(
      'certificates',
      (): SnpCertificate[] =>
        (known ?? ders.map((der, index) => parseCertificate(der, { index, path: paths[index]! }, SNP_PROFILE))).map((c, index) =>
          withAmdExtensions(c, { index, path: paths[index]! }),
        ),
      (c) => c.map((x) => x.subjectCn).join(' → '),
    );
    const [ark, intermediate, leaf] = chain as [SnpCertificate, SnpCertificate, SnpCertificate];

    // The four signatures are independent computations: start them together, judge them in rule order.
    const signed = known ? [true, true, true] : chainSignatures(chain, SNP_PROFILE);
    const reportSigned = leaf.key.type === 'p384' ? verifyEcdsaP384(leaf.key.point, r.signature, r.signed) : Promise.resolve(false);

    /** SNP_PROFILE's rules for position i (role, then issuer and signature), unless the chain is known. */
    const position = async (i: number): Promise<void> => {
      if (known) return;
      checkRole(chain, i, SNP_PROFILE, paths);
      checkLink(chain, i, SNP_PROFILE, await signed[i]!, paths);
    };

    // 6. The ARK: a self-issued RSA CA named ARK-<product>, self-signed.
    const product = await stepAsync(
      log,
      'ark-signature',
      async () => {
        const p = checkArkName(ark, paths[0]);
        await position(0);
        return p;
      },
      (p) => `ARK-${p} is self-signed (RSASSA-PSS, SHA-384)`,
    );

    // 7. The ASK (for a VCEK) or ASVK (for a VLEK), issued and signed by the ARK.
    const role = await stepAsync(
      log,
      'intermediate-signature',
      async () => {
        const role = checkIntermediateName(intermediate, product, r.signingKey, paths[1]);
        await position(1);
        return role;
      },
      (role) => `${intermediate.subjectCn} (${role.toUpperCase()}) is signed by ARK-${product}`,
    );

    // 8. The VCEK or VLEK, issued and signed by that ASK or ASVK.
    await stepAsync(
      log,
      'endorsement-key-signature',
      async () => {
        checkEndorsementKeyName(leaf, r.signingKey, paths[2]);
        await position(2);
      },
      () => `${leaf.subjectCn} is signed by ${intermediate.subjectCn} (${role.toUpperCase()})`,
    );

    // 9. Every certificate is valid at `at`.
    const validity = log.step(
      'validity',
      () => {
        const w = checkValidityAt(chain, opts.at, paths);
        if (!known) chainMemo.set(ders, SNP_PROFILE, chain);
        return w;
      },
      (w) => `all certificates valid at ${iso(opts.at)} (chain valid ${iso(w.notBefore)} .. ${iso(w.notAfter)})`,
    );

    // 10. The report signature: ECDSA P-384 / SHA-384 over bytes 0x000..0x29F, by the VCEK/VLEK key.
    await stepAsync(
      log,
      'report-signature',
      async () => {
        if (!(await reportSigned)) {
          reject('EvidenceSignatureInvalid', `the report signature does not verify with the key of ${paths[2]}`, { path: 'signature' });
        }
      },
      () => `ECDSA P-384 signature by the ${r.signingKey.toUpperCase()} verifies`,
    );

    // 11–13. The certificate describes this report: product line, TCB, chip.
    log.step('product', () => checkProduct(r, leaf, paths[2], product), (d) => d);
    const reportedTcb = log.step('tcb', () => checkTcb(r, leaf, paths[2], product), (t) => `reported_tcb (${tcbText(t)}) is the TCB ${paths[2]} certifies`);
    // 12b. That TCB is at or above the floors in force at `at` (AMD bulletins, or the caller's --min-tcb).
    log.step('tcb-floor', () => checkTcbFloor(reportedTcb, product, r.cpuid, opts.minTcb, opts.at), (d) => d);
    checkChipIdRow(log, r, leaf, paths[2], product);

    // 14–16. The guest policy and privilege level.
    log.step('debug', () => checkDebug(r, opts.allowDebug), (d) => d);
    log.step('migration-agent', () => checkMigrationAgent(r, opts.allowMigrationAgent), (d) => d);
    log.step('vmpl', () => checkVmpl(r, opts.expectedVmpl), (d) => d);

    // 17–18. What the caller expects: the program's measurement, the binding and nonce.
    if (opts.expectedMeasurements.length > 0) log.step('measurement', () => checkMeasurement(r, opts.expectedMeasurements), (d) => d);
    else log.skip('measurement', 'no expected measurement given');
    if (opts.expectedReportData) log.step('report-data', () => checkReportData(r, opts.expectedReportData!), (d) => d);
    else log.skip('report-data', 'no expected report_data given');

    const endorsementKey: SnpAttestation['endorsementKey'] = {
      subject: leaf.subjectCn,
      sha256: leaf.sha256,
      productName: leaf.amd.productName!,
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
    };
    if (leaf.amd.cspId !== undefined) endorsementKey.cspId = leaf.amd.cspId;
    return {
      ok: true,
      platform: 'sev-snp',
      version: r.version,
      product,
      keyType: r.signingKey,
      measurement: r.measurement,
      reportData: r.reportData,
      chipId: r.chipId,
      reportedTcb,
      policy: r.policy,
      vmpl: r.vmpl,
      report: r,
      root: { sha256: arkSha },
      endorsementKey,
      validity,
      checks: log.rows,
    };
  } catch (e) {
    return log.failure(e);
  }
}

/** 13. chip-id: a VCEK's row; a VLEK's is recorded as not applicable. */
function checkChipIdRow(log: CheckLog, r: SnpReport, leaf: SnpCertificate, path: string, product: SnpProduct): void {
  if (r.signingKey === 'vlek') {
    log.skip('chip-id', `signed by a VLEK${leaf.amd.cspId ? ` (${leaf.amd.cspId})` : ''}: bound to a cloud provider, not to a chip`);
    return;
  }
  log.step('chip-id', () => checkChipId(r, leaf, path, product), (d) => d);
}

/** Measurement and report_data as hex, for display and JSON output. */
export const snpHex = (v: { measurement: Uint8Array; reportData: Uint8Array; chipId: Uint8Array }) => ({
  measurement: toHex(v.measurement),
  reportData: toHex(v.reportData),
  chipId: toHex(v.chipId),
});
