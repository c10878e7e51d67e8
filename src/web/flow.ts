/**
 * What the page checks, in order, as a pure function of what it was given:
 * the evidence (live, with the nonce this page sent, or a dropped file), the
 * trust anchors and measurements the user chose, then the signed record
 * against the identity. The same verifier modules as the CLI
 * (`encumber record verify` / `attest verify`), in the same order, so both
 * give the same verdict on the same inputs (test/browser/parity.test.ts).
 *
 * No DOM, no network, no clock: `at` is a parameter.
 */
import { verifyEvidence, type EvidenceInput } from '../verifier/evidence.ts';
import { verifyPublishedRecord, type Identity } from '../verifier/record.ts';
import { isPinned, type PolicyPin } from '../verifier/policy-pin.ts';
import type { MeasurementPin } from '../verifier/measurements.ts';
import type { SnpCerts } from '../attestation/evidence/snp-cert-table.ts';
import type { SnpMinTcb } from '../attestation/sev-snp/tcb-floor.ts';
import { AWS_NITRO_ROOT_G1_DER, parseAttestationDocument, parseCoseSign1 } from '../attestation/nitro/index.ts';
import { detectEvidence } from '../attestation/evidence/detect.ts';
import { fingerprint, pemCertificates } from '../attestation/bytes.ts';
import { toHex } from '../crypto/encoding.ts';
import { rowStatus, type Row } from './explain.ts';

export interface EvidenceSource {
  input: EvidenceInput;
  /** Where it came from, for the row that says so. */
  origin: { kind: 'live'; url: string; nonce: Uint8Array } | { kind: 'file'; name: string };
}

export interface Trust {
  /** PEM text of a dev root the user pasted or dropped (e.g. .data/dev-root.pem). */
  devRootPem?: string;
  /** Accept the root certificate the evidence itself carries (dev only, explicitly ticked). */
  evidenceRoot?: boolean;
}

export interface FlowInput {
  evidence?: EvidenceSource;
  identity?: Identity;
  record?: unknown;
  plcLogs?: Record<string, unknown>;
  /** The policy the user trusts (CID and/or repository); absent: a warning row says it was not pinned. */
  pin?: PolicyPin;
  /** Where the record was fetched from (its at:// URI): its repository must be the policy's. */
  recordLocation?: { repository: string; collection: string; uri: string };
  trust: Trust;
  measurements?: MeasurementPin;
  at: Date;
  /** Expected nonce for a dropped evidence file (a live check uses the one it sent). */
  nonce?: Uint8Array;
  allowDebug?: boolean;
  snpCerts?: SnpCerts;
  /** SEV-SNP TCB floor: absent = the AMD bulletins in force at `at` (the page's default), 'none', or a custom floor. */
  snpMinTcb?: SnpMinTcb;
  /** SEV-SNP: expected VMPL; absent = 0. */
  snpVmpl?: number | 'any';
}

export interface Section {
  id: 'attestation' | 'record';
  title: string;
  rows: Row[];
}

export interface FlowReport {
  /** Nothing to check yet. */
  empty: boolean;
  valid: boolean;
  platform: string | null;
  error: { code: string; message: string; check?: string } | null;
  sections: Section[];
  /** Things that passed only because the user accepted less (dev root, any measurement, ...). */
  warnings: string[];
}

const rowsOf = (checks: { name: string; ok: boolean; detail: string; skipped?: true }[]): Row[] =>
  checks.map((c) => ({ ...c, status: rowStatus(c) }));

/** The root certificate a COSE evidence document carries (cabundle[0]), if it parses. */
export function evidenceRootOf(evidence: Uint8Array): Uint8Array | undefined {
  if (detectEvidence(evidence) !== 'cose') return undefined;
  try {
    return parseAttestationDocument(parseCoseSign1(evidence).payload).cabundle[0];
  } catch {
    return undefined;
  }
}

/** The document's own timestamp (Nitro/dev), to offer "check as of then". */
export function evidenceTimestamp(evidence: Uint8Array): Date | undefined {
  if (detectEvidence(evidence) !== 'cose') return undefined;
  try {
    return new Date(parseAttestationDocument(parseCoseSign1(evidence).payload).timestamp);
  } catch {
    return undefined;
  }
}

/** The roots to pass, and the row that says which they are. */
function trustAnchors(trust: Trust, evidence: Uint8Array): { roots?: Uint8Array[]; row: Row; warning?: string } | { error: string } {
  const awsOnly = { name: 'trust-anchor', ok: true, detail: `AWS Nitro root G1 (built in, SHA-256 ${fingerprint(AWS_NITRO_ROOT_G1_DER).slice(0, 16)}…); AMD ARKs pinned` };
  if (!trust.devRootPem?.trim() && !trust.evidenceRoot) return { row: { ...awsOnly, status: 'pass' } };
  const roots = [AWS_NITRO_ROOT_G1_DER];
  const parts: string[] = [];
  if (trust.devRootPem?.trim()) {
    let der: Uint8Array[];
    try {
      der = pemCertificates(trust.devRootPem);
    } catch (e) {
      return { error: `the dev root you gave is not a PEM certificate: ${(e as Error).message}` };
    }
    roots.push(...der);
    parts.push(`dev root you supplied (SHA-256 ${der.map((d) => fingerprint(d).slice(0, 16) + '…').join(', ')})`);
  }
  let warning: string | undefined;
  if (trust.evidenceRoot) {
    const own = evidenceRootOf(evidence);
    if (own) {
      roots.push(own);
      parts.push(`the root the evidence itself carries (SHA-256 ${fingerprint(own).slice(0, 16)}…): supplied by the enclave itself, NOT a trust anchor`);
      warning = 'You accepted the root certificate the evidence carries: anyone can make such evidence. Compare its SHA-256 with the operator\'s dev-root.pem.';
    }
  }
  const detail = `AWS Nitro root G1 (built in); ${parts.join('; ')}`;
  return { roots, row: { name: 'trust-anchor', ok: true, detail, status: warning ? 'warn' : 'pass' }, ...(warning ? { warning } : {}) };
}

export async function runFlow(input: FlowInput): Promise<FlowReport> {
  const sections: Section[] = [];
  const warnings: string[] = [];
  if (!input.evidence && input.record === undefined) {
    return { empty: true, valid: false, platform: null, error: null, sections, warnings };
  }
  const fail = (code: string, message: string, check?: string): FlowReport => ({
    empty: false,
    valid: false,
    platform,
    error: { code, message, ...(check ? { check } : {}) },
    sections,
    warnings,
  });
  let platform: string | null = null;

  // 1. The attestation: the evidence proves key, binding and program, fresh for our nonce.
  const att: Section = { id: 'attestation', title: 'Enclave attestation', rows: [] };
  sections.push(att);
  if (!input.evidence) {
    const message = 'no attestation: check the enclave live (fresh nonce) or drop its evidence file';
    att.rows.push({ name: 'attestation', ok: false, detail: message, status: 'fail' });
    return fail('EvidenceMissing', message, 'attestation');
  }
  const ev = input.evidence;
  const evidenceInput: EvidenceInput = { ...ev.input };
  if (input.identity) {
    // The evidence must be about this identity's binding.
    evidenceInput.binding ??= input.identity.binding;
    evidenceInput.bindingCid ??= input.identity.bindingCid;
  }
  const nonce = ev.origin.kind === 'live' ? ev.origin.nonce : input.nonce;
  att.rows.push({
    name: 'source',
    ok: true,
    status: nonce ? 'pass' : 'warn',
    detail:
      ev.origin.kind === 'live'
        ? `live from ${ev.origin.url}, with a fresh random nonce ${toHex(ev.origin.nonce)} made in this browser`
        : `file ${ev.origin.name}; ${nonce ? `expected nonce ${toHex(nonce)}` : 'NO nonce: freshness is not checked'}`,
  });
  if (!nonce) warnings.push('No nonce: this evidence may be an old answer replayed; freshness was not checked.');
  const anchors = trustAnchors(input.trust, ev.input.evidence);
  if ('error' in anchors) {
    att.rows.push({ name: 'trust-anchor', ok: false, detail: anchors.error, status: 'fail' });
    return fail('UsageError', anchors.error, 'trust-anchor');
  }
  att.rows.push(anchors.row);
  if (anchors.warning) warnings.push(anchors.warning);

  if (input.identity && evidenceInput.bindingCid !== input.identity.bindingCid) {
    const detail = `evidence is for binding ${evidenceInput.bindingCid}, identity has ${input.identity.bindingCid}`;
    att.rows.push({ name: 'binding', ok: false, detail, status: 'fail' });
    return fail('BindingMismatch', 'evidence and identity name different bindings', 'binding');
  }
  // Without a record, the policy (from the identity) is shown and compared here; with one, by the record verifier.
  if (input.record === undefined && input.identity) evidenceInput.policy ??= input.identity.policy;
  const verdict = await verifyEvidence(evidenceInput, {
    ...(input.record === undefined ? { policyPin: input.pin ?? {} } : {}),
    at: input.at,
    ...(anchors.roots ? { roots: anchors.roots } : {}),
    ...(nonce ? { nonce } : {}),
    ...(input.allowDebug ? { allowDebug: true } : {}),
    ...(input.measurements ? { measurements: input.measurements } : {}),
    ...(input.snpCerts ? { snpCerts: input.snpCerts } : {}),
    ...(input.snpMinTcb !== undefined ? { snpMinTcb: input.snpMinTcb } : {}),
    ...(input.snpVmpl !== undefined ? { snpVmpl: input.snpVmpl } : {}),
  });
  att.rows.push(...rowsOf(verdict.checks));
  platform = verdict.platform ?? null;
  if (!verdict.ok) return fail(verdict.error.code, verdict.error.message, verdict.checks.at(-1)?.name);
  if (verdict.platform === 'dev') warnings.unshift('DEV PLATFORM: not hardware-backed. This proves nothing about a TEE; anyone holding the dev root can make such evidence.');
  if (input.measurements === 'any') warnings.push('Measurement NOT pinned: you accepted any program, so which code holds the key was not checked.');
  if (input.allowDebug) warnings.push('Debug-mode enclaves were allowed: a debug enclave can be inspected by its host.');
  if (verdict.platform === 'sev-snp' && input.snpMinTcb === 'none') warnings.push('TCB floor OFF: firmware with published vulnerabilities was accepted.');

  // 2. The record: rebuilt payload, enclave signature, receipt, M-of-N co-signatures, PLC states.
  const notPinned = 'Policy NOT pinned: you did not say which policy or repository you trust, so any policy this enclave enforces was accepted (the public demo policy too).';
  if (input.record === undefined) {
    if (!isPinned(input.pin)) warnings.push(notPinned);
    return { empty: false, valid: true, platform, error: null, sections, warnings };
  }
  const rec: Section = { id: 'record', title: 'Signed record', rows: [] };
  sections.push(rec);
  if (!input.identity) {
    const message = 'no identity to check the record against: check the enclave live, or drop its getIdentity answer';
    rec.rows.push({ name: 'identity', ok: false, detail: message, status: 'fail' });
    return fail('IdentityMissing', message, 'identity');
  }
  const rv = verifyPublishedRecord(input.identity, input.record, {
    ...(input.plcLogs ? { plcLogs: input.plcLogs } : {}),
    ...(input.pin ? { pin: input.pin } : {}),
    ...(input.recordLocation ? { location: input.recordLocation } : {}),
  });
  rec.rows.push(...rowsOf(rv.checks));
  if (!rv.ok) return fail(rv.error.code, rv.error.message, rv.checks.at(-1)?.name);
  if (!isPinned(input.pin)) warnings.push(notPinned);
  if (!input.plcLogs) warnings.push('Co-signers\' keys were not re-checked against their PLC logs (give the logs to re-check): they rest on the enclave\'s own check.');
  return { empty: false, valid: true, platform, error: null, sections, warnings };
}
