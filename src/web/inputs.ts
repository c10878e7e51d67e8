/**
 * What a dropped or pasted file is, from its bytes (and, for SEV-SNP
 * certificates, its name, as `encumber attest verify` reads them):
 *   evidence (raw COSE_Sign1 / SNP report, or a getAttestation answer),
 *   identity (a getIdentity answer), a signed record (bare, or a signRecord
 *   answer), published measurements, PEM root certificates, SEV-SNP
 *   certificates (vcek/vlek/ask/asvk/ark.der or a certificate table), or
 *   co-signers' PLC audit logs (a map DID → log, or a draft with plcLogs).
 * Pure: no DOM, no network.
 */
import { detectEvidence } from '../attestation/evidence/detect.ts';
import { parseSnpCertTable, type SnpCerts } from '../attestation/evidence/snp-cert-table.ts';
import { decodePem } from '../crypto/encoding.ts';
import type { EvidenceInput } from '../verifier/evidence.ts';
import { evidenceFromAnswer, isAttestationAnswer, isIdentityAnswer, SNP_CERT_FILES } from '../verifier/inputs.ts';
import type { Identity } from '../verifier/record.ts';
import { parseMeasurements, type Measurements } from '../verifier/measurements.ts';

export type Classified =
  | { kind: 'evidence'; input: EvidenceInput; summary: string }
  | { kind: 'identity'; identity: Identity; summary: string }
  | { kind: 'record'; record: unknown; summary: string }
  | { kind: 'measurements'; measurements: Measurements; summary: string }
  | { kind: 'root'; pem: string; summary: string }
  | { kind: 'snp-certs'; certs: SnpCerts; summary: string }
  | { kind: 'plc-logs'; logs: Record<string, unknown>; summary: string }
  | { kind: 'unknown'; summary: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);


export function classifyJson(value: unknown): Classified {
  if (!isObject(value)) return { kind: 'unknown', summary: 'JSON, but not an object this page knows' };
  if (isAttestationAnswer(value)) {
    const input = evidenceFromAnswer(value);
    return { kind: 'evidence', input, summary: `getAttestation answer (${String((value as Record<string, unknown>).platform ?? '?')}, ${input.evidence.length} bytes of evidence)` };
  }
  if (isIdentityAnswer(value)) {
    return { kind: 'identity', identity: value, summary: `getIdentity answer: key ${value.key}, platform ${String(value.platform)}` };
  }
  if ('record' in value && 'receipt' in value) {
    return { kind: 'record', record: value.record, summary: 'signRecord answer (its record)' };
  }
  if ('plcLogs' in value && isObject(value.plcLogs)) {
    return { kind: 'plc-logs', logs: value.plcLogs, summary: `PLC audit logs of ${Object.keys(value.plcLogs).length} DID(s) (from a draft)` };
  }
  if (Array.isArray(value.signatures) && typeof value.$type === 'string') {
    return { kind: 'record', record: value, summary: `signed ${value.$type} record with ${value.signatures.length} signature entries` };
  }
  if ('nitro' in value || 'dev' in value || 'sev-snp' in value) {
    const m = parseMeasurements(value);
    return { kind: 'measurements', measurements: m, summary: `measurements: ${m.nitro.length} nitro, ${m.dev.length} dev, ${m['sev-snp'].length} sev-snp` };
  }
  const keys = Object.keys(value);
  if (keys.length > 0 && keys.every((k) => k.startsWith('did:')) && keys.every((k) => Array.isArray(value[k]))) {
    return { kind: 'plc-logs', logs: value, summary: `PLC audit logs of ${keys.length} DID(s)` };
  }
  return { kind: 'unknown', summary: 'JSON, but not an evidence, identity, record, measurements or PLC-log file' };
}

export function classifyText(text: string): Classified {
  const t = text.trim();
  if (t.includes('-----BEGIN CERTIFICATE-----')) {
    let n: number;
    try {
      n = decodePem(t, 'CERTIFICATE').length;
    } catch (e) {
      return { kind: 'unknown', summary: `PEM text that does not decode: ${(e as Error).message}` };
    }
    return { kind: 'root', pem: t, summary: `PEM: ${n} certificate(s)` };
  }
  if (t.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch (e) {
      return { kind: 'unknown', summary: `starts with "{" but is not JSON: ${(e as Error).message}` };
    }
    try {
      return classifyJson(value);
    } catch (e) {
      return { kind: 'unknown', summary: (e as Error).message };
    }
  }
  return { kind: 'unknown', summary: 'text that is neither JSON nor a PEM certificate' };
}

export function classifyFile(name: string, bytes: Uint8Array): Classified {
  const certName = SNP_CERT_FILES[name.toLowerCase().split('/').pop() ?? ''];
  if (certName) return { kind: 'snp-certs', certs: { [certName]: bytes }, summary: `SEV-SNP certificate ${certName}` };
  const kind = detectEvidence(bytes);
  if (kind !== 'unknown') {
    return { kind: 'evidence', input: { evidence: bytes }, summary: `${kind === 'cose' ? 'Nitro/dev COSE_Sign1 document' : 'SEV-SNP report'}, ${bytes.length} bytes` };
  }
  // Text (JSON, PEM)?
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = undefined;
  }
  if (text !== undefined && /^\s*[{-]/.test(text)) return classifyText(text);
  try {
    const certs = parseSnpCertTable(bytes);
    if (Object.keys(certs).length > 0) return { kind: 'snp-certs', certs, summary: `SEV-SNP certificate table: ${Object.keys(certs).join(', ')}` };
  } catch {
    // not a certificate table
  }
  return { kind: 'unknown', summary: `${bytes.length} bytes this page does not recognise` };
}
