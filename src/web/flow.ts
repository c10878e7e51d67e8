/**
 * What the page shows, as a pure function of what it was given: where the
 * evidence came from and which trust anchors the user chose (the page's own
 * rows), then the verifier's report (src/verifier/signed-record.ts, the same
 * function `encumber record verify` calls) split into its sections, what a
 * live enclave publishes beside it (its DID guard log and approved upgrades,
 * published.ts: sections and warnings, never the record's verdict), and the
 * warnings a reader must not miss.
 *
 * No DOM, no network, no clock: `at` is a parameter.
 */
import type { EvidenceInput } from '../verifier/evidence.ts';
import type { Identity } from '../verifier/record.ts';
import { verifySignedRecord } from '../verifier/signed-record.ts';
import { isPinned, type PolicyPin } from '../verifier/policy-pin.ts';
import type { MeasurementPin } from '../verifier/measurements.ts';
import type { SnpCerts } from '../attestation/evidence/snp-cert-table.ts';
import type { SnpMinTcb } from '../attestation/sev-snp/tcb-floor.ts';
import { AWS_NITRO_ROOT_G1_DER, parseAttestationDocument, parseCoseSign1 } from '../attestation/nitro/index.ts';
import { detectEvidence } from '../attestation/evidence/detect.ts';
import { fingerprint, pemCertificates } from '../attestation/bytes.ts';
import { toHex } from '../crypto/encoding.ts';
import { rowStatus, type Row } from './explain.ts';
import type { ErrorCode } from '../errors.ts';
import { guardLogSection, upgradesSection, type EndpointAnswer } from './published.ts';

export type { EndpointAnswer } from './published.ts';

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
  /**
   * The record came from the network with its proof (src/network/at-record.ts): the rows of the DID
   * resolution, the PDS read and the commit and inclusion checks, and the failure if one failed.
   */
  recordSource?: { checks: { name: string; ok: boolean; detail: string; skipped?: true }[]; error?: { code: ErrorCode; message: string } };
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
  /** A live check's getGuardLog answer (asked when the identity names a guard key): the section "DID guard log". */
  guardLog?: EndpointAnswer;
  /** A live check's getUpgrades answer: the section "Approved upgrades". */
  upgrades?: EndpointAnswer;
}

export interface Section {
  id: 'source' | 'attestation' | 'record' | 'guard' | 'upgrades';
  title: string;
  rows: Row[];
}

export interface FlowReport {
  /** Nothing to check yet. */
  empty: boolean;
  valid: boolean;
  platform: string | null;
  error: { code: ErrorCode; message: string; check?: string } | null;
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
  const warnings: string[] = [];
  if (!input.evidence && input.record === undefined && !input.recordSource) {
    return { empty: true, valid: false, platform: null, error: null, sections: [], warnings };
  }
  const att: Section = { id: 'attestation', title: 'Enclave attestation', rows: [] };
  const sections: Section[] = [att];
  const refuse = (code: ErrorCode, message: string, check: string): FlowReport => ({
    empty: false,
    valid: false,
    platform: null,
    error: { code, message, check },
    sections,
    warnings,
  });

  // The record's way here: DID, PDS, signed commit and inclusion proof (when it came from the network).
  if (input.recordSource) {
    sections.unshift({ id: 'source', title: 'Record from the network', rows: rowsOf(input.recordSource.checks) });
    const failed = input.recordSource.error;
    if (failed) return refuse(failed.code, failed.message, input.recordSource.checks.at(-1)?.name ?? 'source');
  }

  // The page's own rows: where the evidence came from, and the trust anchors chosen.
  const ev = input.evidence;
  const nonce = ev?.origin.kind === 'live' ? ev.origin.nonce : input.nonce;
  let roots: Uint8Array[] | undefined;
  if (ev) {
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
      return refuse('UsageError', anchors.error, 'trust-anchor');
    }
    att.rows.push(anchors.row);
    if (anchors.warning) warnings.push(anchors.warning);
    roots = anchors.roots;
  }

  // The verifier: attestation, then the record against the attested identity.
  const report = await verifySignedRecord({
    at: input.at,
    ...(ev ? { evidence: ev.input } : {}),
    ...(input.identity ? { identity: input.identity } : {}),
    ...(input.record !== undefined ? { record: input.record } : {}),
    ...(input.plcLogs ? { plcLogs: input.plcLogs } : {}),
    ...(input.pin ? { pin: input.pin } : {}),
    ...(input.recordLocation ? { location: input.recordLocation } : {}),
    ...(roots ? { roots } : {}),
    ...(nonce ? { nonce } : {}),
    ...(input.allowDebug ? { allowDebug: true } : {}),
    ...(input.measurements ? { measurements: input.measurements } : {}),
    ...(input.snpCerts ? { snpCerts: input.snpCerts } : {}),
    ...(input.snpMinTcb !== undefined ? { snpMinTcb: input.snpMinTcb } : {}),
    ...(input.snpVmpl !== undefined ? { snpVmpl: input.snpVmpl } : {}),
  });
  att.rows.push(...rowsOf(report.attestation));
  if (input.record !== undefined && (report.record.length > 0 || report.valid)) {
    sections.push({ id: 'record', title: 'Signed record', rows: rowsOf(report.record) });
  }
  const platform = report.platform;

  // What the enclave publishes beside the record: shown, warned about, but not part of the record's verdict.
  // Both rest on the enclave key: when the attestation did not hold, each section says so first.
  const published: string[] = [];
  const unattested: Row[] = report.valid || report.attestation.every((c) => c.ok)
    ? []
    : [{ name: 'enclave-key', ok: true, skipped: true, status: 'warn', detail: 'NOT attested: the attestation failed, so nothing vouches for the key that signed what follows' }];
  if (input.identity && input.guardLog) {
    const g = guardLogSection(input.identity, input.guardLog);
    sections.push({ id: 'guard', title: 'DID guard log', rows: [...unattested, ...g.rows] });
    published.push(...g.warnings);
  }
  if (input.identity && input.upgrades) {
    const u = upgradesSection(input.identity, input.upgrades);
    sections.push({ id: 'upgrades', title: 'Approved upgrades', rows: [...unattested, ...u.rows] });
    published.push(...u.warnings);
  }
  if (!report.valid) return { empty: false, valid: false, platform, error: report.error, sections, warnings: [...warnings, ...published] };

  // What passed only because the user accepted less.
  if (platform === 'dev') warnings.unshift('DEV PLATFORM: not hardware-backed. This proves nothing about a TEE; anyone holding the dev root can make such evidence.');
  if (input.measurements === 'any') warnings.push('Measurement NOT pinned: you accepted any program, so which code holds the key was not checked.');
  if (input.allowDebug) warnings.push('Debug-mode enclaves were allowed: a debug enclave can be inspected by its host.');
  if (platform === 'sev-snp' && input.snpMinTcb === 'none') warnings.push('TCB floor OFF: firmware with published vulnerabilities was accepted.');
  if (!isPinned(input.pin)) {
    warnings.push('Policy NOT pinned: you did not say which policy or repository you trust, so any policy this enclave enforces was accepted (the public demo policy too).');
  }
  if (input.record !== undefined && !input.plcLogs) {
    warnings.push('Co-signers\' keys were not re-checked against their PLC logs (give the logs to re-check): they rest on the enclave\'s own check.');
  }
  warnings.push(...published);
  return { empty: false, valid: true, platform, error: null, sections, warnings };
}
