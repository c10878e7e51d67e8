/**
 * Checking an enclave's attestation response as a verifier would, for any of
 * the three platforms (detected from the evidence bytes):
 *  - the binding document hashes to its CID and names a k256 key;
 *  - Nitro/dev (COSE_Sign1): the chain reaches a root the verifier chose (AWS
 *    Nitro root by default; a dev root only when given explicitly), the
 *    document echoes the nonce, carries the key as public_key and the binding
 *    CID as user_data;
 *  - SEV-SNP (report ‖ certificate table): the chain reaches a pinned AMD ARK,
 *    report_data = SHA-256(binding) ‖ SHA-256(nonce);
 *  - the binding's platform is the one the evidence proves, and the
 *    measurement is one the verifier pinned;
 *  - when asked (`policyPin`): the policy the binding names is the one the
 *    verifier trusts (CID and/or repository), or a warning row says it was
 *    not pinned.
 * A check the caller asked for but the inputs do not allow is a failure, never
 * a skip; without a binding the verdict says that only the platform and the
 * measurement were checked.
 * Pure and browser-safe: roots, time, nonce and measurements are parameters.
 */
import { EncumberError, type ErrorCode } from '../errors.ts';
import { parseDidKey } from '../crypto/did-key.ts';
import { toHex } from '../crypto/encoding.ts';
import { cidForValue, CID } from '../data/cid.ts';
import { jsonToIpld } from '../data/json.ts';
import { verifyNitroDocument, AWS_NITRO_ROOT_G1_DER, AWS_NITRO_ROOT_G1_SHA256 } from '../attestation/nitro/index.ts';
import type { AttestationCheck } from '../attestation/types.ts';
import { checkPcrs, checkSnpMeasurement, type MeasurementPin } from './measurements.ts';
import { encodeCbor } from '../data/cbor.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { verifySnpReport } from '../attestation/sev-snp/index.ts';
import type { SnpMinTcb } from '../attestation/sev-snp/tcb-floor.ts';
import { detectEvidence } from '../attestation/evidence/detect.ts';
import { splitSnpEvidence, type SnpCerts } from '../attestation/evidence/snp-cert-table.ts';
import { bytesEqual } from '../crypto/encoding.ts';
import { parsePolicy } from '../policy/policy.ts';
import type { Policy } from '../policy/schema.ts';
import { checkPolicyPin, describePolicy, type PolicyPin } from './policy-pin.ts';

export interface EvidenceInput {
  evidence: Uint8Array;
  /** The binding document as data-model JSON, and its CID string (from getAttestation/getIdentity). */
  binding?: unknown;
  bindingCid?: string;
  /** The policy document the binding names (from getIdentity), to show it and check a pinned repository. */
  policy?: unknown;
}

export interface EvidenceOptions {
  /** PEM text or DER certificates; default: the AWS Nitro root only. */
  roots?: string | Uint8Array[];
  at: Date;
  nonce?: Uint8Array;
  allowDebug?: boolean;
  /** Published measurements to accept, or 'any' (explicit). Absent: the evidence fails as not pinned. */
  measurements?: MeasurementPin;
  maxAgeMs?: number;
  /** SEV-SNP: certificates to use when the evidence carries none (from files next to a report, or --certs). */
  snpCerts?: SnpCerts;
  /** SEV-SNP: the TCB floor (default: the AMD bulletins in force at `at`; 'none' disables it). */
  snpMinTcb?: SnpMinTcb;
  /** SEV-SNP: the VMPL the report must come from (default 0), or 'any'. */
  snpVmpl?: number | 'any';
  /**
   * Check which policy the enclave enforces: `{}` (nothing pinned) adds a
   * warning row; a CID and/or repository must match. Absent: no policy rows
   * (a caller that checks the policy elsewhere, e.g. the record verifier).
   */
  policyPin?: PolicyPin;
}

export type EvidencePlatform = 'nitro' | 'dev' | 'sev-snp';

export type EvidenceVerdict =
  | {
      ok: true;
      platform: EvidencePlatform;
      checks: AttestationCheck[];
      pcrs?: Record<number, string>;
      measurement?: string;
      key?: string;
      bindingCid?: string;
      /** 'binding': key, binding (and so policy) attested; 'platform-and-measurement': no binding was given, nothing else was checked. */
      scope: 'binding' | 'platform-and-measurement';
    }
  | { ok: false; platform?: EvidencePlatform; checks: AttestationCheck[]; error: { code: ErrorCode; message: string } };

export async function verifyEvidence(input: EvidenceInput, opts: EvidenceOptions): Promise<EvidenceVerdict> {
  const checks: AttestationCheck[] = [];
  let key: string | undefined;
  let bindingCid: CID | undefined;
  let bindingPlatform: unknown;
  let bindingBytes: Uint8Array | undefined;
  let bindingPolicy: string | undefined;

  // 1. The binding document (when given): hashes to its CID, names a k256 key.
  if (input.binding !== undefined) {
    try {
      const b = jsonToIpld(input.binding) as Record<string, unknown>;
      bindingCid = cidForValue(b);
      if (input.bindingCid !== undefined && bindingCid.toString() !== input.bindingCid) {
        throw new EncumberError('BindingMismatch', `binding hashes to ${bindingCid}, the response says ${input.bindingCid}`);
      }
      if (b.$type !== 'dev.encumber.binding' || b.version !== 1 || typeof b.key !== 'string') {
        throw new EncumberError('BindingMismatch', 'not a dev.encumber.binding v1 document');
      }
      const k = parseDidKey(b.key);
      if (k.curve !== 'k256') throw new EncumberError('BindingMismatch', 'binding key is not k256');
      key = b.key;
      bindingPlatform = b.platform;
      bindingBytes = encodeCbor(b);
      if (b.policy instanceof CID) bindingPolicy = b.policy.toString();
      checks.push({ name: 'binding', ok: true, detail: `binding ${bindingCid} names key ${key}, platform ${String(b.platform)}` });
    } catch (e) {
      const error = e instanceof EncumberError ? e : new EncumberError('BindingMismatch', (e as Error).message);
      checks.push({ name: 'binding', ok: false, detail: error.message });
      return { ok: false, checks, error: { code: error.code, message: error.message } };
    }
  }

  const kind = detectEvidence(input.evidence);
  const finish = (v: EvidenceVerdict): EvidenceVerdict => (v.ok ? finishWithPolicy(v, input, opts, bindingPolicy) : v);
  if (kind === 'sev-snp') return finish(await verifySnp(input.evidence, opts, checks, { key, bindingCid, bindingBytes, bindingPlatform }));
  if (kind === 'unknown') {
    const message = 'evidence is neither a COSE_Sign1 document (Nitro/dev) nor an SEV-SNP report';
    checks.push({ name: 'format', ok: false, detail: message });
    return { ok: false, checks, error: { code: 'UnknownEvidenceFormat', message } };
  }

  // 2. The evidence, with key, binding CID and nonce as expectations.
  const verdict = verifyNitroDocument(input.evidence, {
    trustRoots: opts.roots ?? [AWS_NITRO_ROOT_G1_DER],
    at: opts.at,
    ...(opts.allowDebug ? { allowDebug: true } : {}),
    ...(opts.nonce ? { expectedNonce: opts.nonce } : {}),
    ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
    ...(key ? { expectedPublicKey: parseDidKey(key).compressed } : {}),
    ...(bindingCid ? { expectedUserData: bindingCid.bytes } : {}),
  });
  checks.push(...verdict.checks);
  if (!verdict.ok) return { ok: false, checks, error: { code: verdict.error.code, message: verdict.error.message } };

  // 3. Which root proved it decides the platform; the binding must claim the same.
  const platform = verdict.root.sha256.toLowerCase() === AWS_NITRO_ROOT_G1_SHA256.toLowerCase() ? 'nitro' : 'dev';
  if (bindingPlatform !== undefined && bindingPlatform !== platform) {
    const message = `binding says platform ${String(bindingPlatform)}, but the evidence chains to a ${platform === 'nitro' ? 'AWS Nitro' : 'non-AWS (dev)'} root`;
    checks.push({ name: 'platform', ok: false, detail: message });
    return { ok: false, platform, checks, error: { code: 'BindingMismatch', message } };
  }
  checks.push({
    name: 'platform',
    ok: true,
    detail: platform === 'nitro' ? 'AWS Nitro hardware root' : 'DEV ROOT: not hardware-backed, trusted only because you passed it',
  });
  const pcrs: Record<number, string> = {};
  for (const [i, v] of Object.entries(verdict.pcrs)) pcrs[Number(i)] = toHex(v);

  // 4. The measurement is one a reproducible build published (or the caller said any will do).
  const m = checkPcrs(platform, pcrs, opts.measurements);
  checks.push({ name: 'published-measurement', ok: m.ok, detail: m.detail });
  if (!m.ok) return { ok: false, platform, checks, error: { code: m.code, message: m.detail } };
  return finish({
    ok: true,
    platform,
    checks,
    pcrs,
    ...(key ? { key } : {}),
    ...(bindingCid ? { bindingCid: bindingCid.toString() } : {}),
    scope: bindingCid ? 'binding' : 'platform-and-measurement',
  });
}

/**
 * After the evidence passed: say plainly when no binding was checked, and,
 * when asked, which policy the binding names and whether it is the pinned one.
 */
function finishWithPolicy(v: EvidenceVerdict & { ok: true }, input: EvidenceInput, opts: EvidenceOptions, bindingPolicy: string | undefined): EvidenceVerdict {
  const { checks } = v;
  const failed = (name: string, code: ErrorCode, message: string): EvidenceVerdict => {
    checks.push({ name, ok: false, detail: message });
    return { ok: false, platform: v.platform, checks, error: { code, message } };
  };
  if (v.scope === 'platform-and-measurement') {
    checks.push({
      name: 'binding',
      ok: true,
      skipped: true,
      detail: 'NOT CHECKED: no binding given, so only the platform and the measurement were checked (no enclave key, no binding, no policy)',
    });
  }
  if (opts.policyPin === undefined) return v;
  // The policy document, when given, must be the one the binding names.
  let policy: Policy | undefined;
  if (input.policy !== undefined && bindingPolicy !== undefined) {
    try {
      const p = parsePolicy(input.policy);
      if (p.cid.toString() !== bindingPolicy) return failed('policy', 'BindingMismatch', `the policy document hashes to ${p.cid}, the binding names ${bindingPolicy}`);
      policy = p.policy;
      checks.push({ name: 'policy', ok: true, detail: describePolicy(bindingPolicy, policy) });
    } catch (e) {
      return failed('policy', 'BindingMismatch', `the policy document is not a valid policy: ${(e as Error).message}`);
    }
  }
  const pin = checkPolicyPin(opts.policyPin, { ...(bindingPolicy ? { policyCid: bindingPolicy } : {}), ...(policy ? { policy } : {}) });
  checks.push(pin.check);
  if (pin.error) return { ok: false, platform: v.platform, checks, error: pin.error };
  return v;
}

interface BindingFacts {
  key: string | undefined;
  bindingCid: CID | undefined;
  bindingBytes: Uint8Array | undefined;
  bindingPlatform: unknown;
}

/** SEV-SNP evidence: report ‖ certificate table (or certificates given separately). */
async function verifySnp(evidence: Uint8Array, opts: EvidenceOptions, checks: AttestationCheck[], b: BindingFacts): Promise<EvidenceVerdict> {
  const fail = (name: string, code: ErrorCode, message: string): EvidenceVerdict => {
    checks.push({ name, ok: false, detail: message });
    return { ok: false, platform: 'sev-snp', checks, error: { code, message } };
  };
  let split: ReturnType<typeof splitSnpEvidence>;
  try {
    split = splitSnpEvidence(evidence);
  } catch (e) {
    return fail('certificate-table', 'InvalidEvidence', (e as Error).message);
  }
  const certs = Object.keys(split.certs).length > 0 ? split.certs : (opts.snpCerts ?? {});
  const verdict = await verifySnpReport(split.report, {
    certs,
    at: opts.at,
    ...(opts.allowDebug ? { allowDebug: true } : {}),
    ...(opts.snpMinTcb !== undefined ? { minTcb: opts.snpMinTcb } : {}),
    ...(opts.snpVmpl !== undefined ? { expectedVmpl: opts.snpVmpl } : {}),
    ...(b.bindingBytes && opts.nonce ? { expectedReportData: { bindingBytes: b.bindingBytes, nonce: opts.nonce } } : {}),
  });
  checks.push(...verdict.checks);
  if (!verdict.ok) return { ok: false, platform: 'sev-snp', checks, error: { code: verdict.error.code, message: verdict.error.message } };

  // With only one of binding and nonce, the half that can be checked is, and
  // its row says which half was not: a nonce asked for is never skipped.
  if (!(b.bindingBytes && opts.nonce)) {
    const at = checks.findIndex((c) => c.name === 'report-data' && c.skipped);
    if (at >= 0) checks.splice(at, 1);
    const parts: string[] = [];
    if (b.bindingBytes) {
      if (!bytesEqual(verdict.reportData.subarray(0, 32), sha256(b.bindingBytes))) {
        return fail('report-data', 'BindingMismatch', 'report_data[0..32] is not SHA-256 of the binding');
      }
      parts.push('report_data[0..32] = SHA-256(binding)');
    }
    if (opts.nonce) {
      if (!bytesEqual(verdict.reportData.subarray(32, 64), sha256(opts.nonce))) {
        return fail('report-data', 'NonceMismatch', 'report_data[32..64] is not SHA-256 of the nonce you gave');
      }
      parts.push('report_data[32..64] = SHA-256(your nonce)');
    }
    if (!b.bindingBytes) parts.push('binding half NOT CHECKED (no binding given)');
    if (!opts.nonce) parts.push('nonce half NOT CHECKED (no nonce given): freshness not shown');
    const row: AttestationCheck = { name: 'report-data', ok: true, detail: parts.join('; ') };
    if (!b.bindingBytes && !opts.nonce) row.skipped = true;
    checks.splice(at >= 0 ? at : checks.length, 0, row);
  }
  if (b.bindingPlatform !== undefined && b.bindingPlatform !== 'sev-snp') {
    return fail('platform', 'BindingMismatch', `binding says platform ${String(b.bindingPlatform)}, but the evidence is an AMD SEV-SNP report`);
  }
  checks.push({ name: 'platform', ok: true, detail: `AMD SEV-SNP (${verdict.product}, ${verdict.keyType.toUpperCase()}) hardware root` });
  const measurement = toHex(verdict.measurement);
  const m = checkSnpMeasurement(measurement, opts.measurements);
  checks.push({ name: 'published-measurement', ok: m.ok, detail: m.detail });
  if (!m.ok) return { ok: false, platform: 'sev-snp', checks, error: { code: m.code, message: m.detail } };
  return {
    ok: true,
    platform: 'sev-snp',
    checks,
    measurement,
    ...(b.key ? { key: b.key } : {}),
    ...(b.bindingCid ? { bindingCid: b.bindingCid.toString() } : {}),
    scope: b.bindingCid ? 'binding' : 'platform-and-measurement',
  };
}
