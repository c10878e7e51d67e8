/**
 * The documents a verifier is handed, read the same way by every front end:
 * a getAttestation answer, a getIdentity answer, a record in any of the
 * shapes the tools produce, and co-signers' PLC logs. Each reader takes
 * parsed JSON and returns the verifier's input or a typed `InvalidRequest`
 * naming what was expected. Pure.
 */
import { EncumberError } from '../errors.ts';
import { decodeBase64 } from '../crypto/encoding.ts';
import type { EvidenceInput } from './evidence.ts';
import type { SnpCertName } from '../attestation/evidence/snp-cert-table.ts';
import type { Identity } from './record.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const invalid = (message: string) => new EncumberError('InvalidRequest', message);

/** A getAttestation answer `{ evidence: {$bytes}, binding?, bindingCid? }` (`$bytes` unpadded, or exactly padded in hand-made files). */
export function isAttestationAnswer(value: unknown): value is { evidence: { $bytes: string } } {
  return isObject(value) && isObject(value.evidence) && typeof value.evidence.$bytes === 'string';
}

export function evidenceFromAnswer(value: unknown): EvidenceInput {
  if (!isAttestationAnswer(value)) throw invalid('not a getAttestation answer (no evidence.$bytes)');
  const v = value as Record<string, unknown>;
  const input: EvidenceInput = { evidence: decodeBase64(value.evidence.$bytes, 'optional') };
  if (v.binding !== undefined) input.binding = v.binding;
  if (typeof v.bindingCid === 'string') input.bindingCid = v.bindingCid;
  return input;
}

/** A getIdentity answer: key, binding, policy and their CIDs. */
export function isIdentityAnswer(value: unknown): value is Identity {
  return isObject(value) && typeof value.key === 'string' && value.policy !== undefined && typeof value.bindingCid === 'string' && typeof value.policyCid === 'string';
}

export function identityFromAnswer(value: unknown): Identity {
  if (!isIdentityAnswer(value)) throw invalid('not a getIdentity answer (key, binding, bindingCid, policy, policyCid)');
  return value;
}

/**
 * The record in a file: a bare record, a signRecord answer `{ record, receipt, … }`,
 * or a getRecord answer `{ uri, value }` (which says where it was published).
 */
export function recordFromDocument(value: unknown): { record: unknown; uri?: string } {
  if (isObject(value)) {
    if ('record' in value && 'receipt' in value) return { record: value.record };
    if ('value' in value && typeof value.uri === 'string') return { record: value.value, uri: value.uri };
  }
  return { record: value };
}

/** Co-signers' audit logs: a map DID → log, or a draft / request carrying `plcLogs`. */
export function plcLogsFromDocument(value: unknown): Record<string, unknown> {
  const map = isObject(value) && 'plcLogs' in value ? value.plcLogs : value;
  if (!isObject(map)) throw invalid('expected a JSON map DID → audit log (or a draft with plcLogs)');
  return map;
}

/** SEV-SNP certificates by file name (the layout of AMD's KDS downloads and of the shared fixtures). */
export const SNP_CERT_FILES: Readonly<Record<string, SnpCertName>> = {
  'vcek.der': 'vcek',
  'vlek.der': 'vlek',
  'ask.der': 'ask',
  'asvk.der': 'ask',
  'ark.der': 'ark',
};
