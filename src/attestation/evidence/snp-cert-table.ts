/**
 * The SEV-SNP certificate table (GHCB extended guest request; what
 * configfs-tsm returns as `auxblob` for provider sev_guest): entries of
 * { GUID (16 bytes, mixed-endian as RFC 4122 on the wire), offset u32 LE,
 * length u32 LE }, ended by an all-zero entry; offsets are from the table's
 * start. Pure, browser-safe.
 *
 * encumber's SNP evidence is `report (1184 bytes) ‖ certificate table`, so
 * one blob carries the report and the certificates that sign it.
 */
import { EncumberError } from '../../errors.ts';
import { guidBytes, guidString } from '../sev-snp/guid.ts';
import { SNP_REPORT_BYTES } from '../sev-snp/layout.ts';

export { SNP_REPORT_BYTES };

export const SNP_CERT_GUIDS = {
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
} as const;

/**
 * The table has no ASVK GUID: with a VLEK, the signing key's certificate
 * travels under the ASK GUID, and readers treat it as the ASVK.
 */
export type SnpCertName = keyof typeof SNP_CERT_GUIDS;
export type SnpCerts = Partial<Record<SnpCertName, Uint8Array>>;

const ENTRY = 24;
const MAX_TABLE_BYTES = 64 * 1024;

const NAME_BY_GUID = new Map<string, SnpCertName>((Object.entries(SNP_CERT_GUIDS) as [SnpCertName, string][]).map(([n, g]) => [g, n]));

function bad(message: string): never {
  throw new EncumberError('InvalidEvidence', `SNP certificate table: ${message}`, { path: 'certificates' });
}

export function parseSnpCertTable(table: Uint8Array): SnpCerts {
  if (table.length > MAX_TABLE_BYTES) bad(`${table.length} bytes exceeds ${MAX_TABLE_BYTES}`);
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const certs: SnpCerts = {};
  for (let at = 0; ; at += ENTRY) {
    if (at + ENTRY > table.length) bad('no terminating zero entry');
    const guid = table.subarray(at, at + 16);
    const offset = view.getUint32(at + 16, true);
    const length = view.getUint32(at + 20, true);
    if (guid.every((x) => x === 0) && offset === 0 && length === 0) break;
    if (offset < at + ENTRY || offset + length > table.length || length === 0) bad(`entry ${at / ENTRY} points outside the table`);
    const text = guidString(guid);
    const name = NAME_BY_GUID.get(text);
    if (!name) continue; // other GUIDs (e.g. CRLs) are allowed and ignored
    if (certs[name]) bad(`duplicate ${name} entry`);
    certs[name] = table.slice(offset, offset + length);
  }
  return certs;
}

export function encodeSnpCertTable(certs: SnpCerts): Uint8Array {
  const entries = (Object.keys(SNP_CERT_GUIDS) as SnpCertName[]).filter((n) => certs[n]);
  const headerBytes = (entries.length + 1) * ENTRY;
  const total = headerBytes + entries.reduce((n, e) => n + certs[e]!.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = headerBytes;
  entries.forEach((name, i) => {
    out.set(guidBytes(SNP_CERT_GUIDS[name]), i * ENTRY);
    view.setUint32(i * ENTRY + 16, offset, true);
    view.setUint32(i * ENTRY + 20, certs[name]!.length, true);
    out.set(certs[name]!, offset);
    offset += certs[name]!.length;
  });
  return out;
}

/** Split encumber SNP evidence into the report and its certificates. */
export function splitSnpEvidence(evidence: Uint8Array): { report: Uint8Array; certs: SnpCerts } {
  if (evidence.length < SNP_REPORT_BYTES) {
    throw new EncumberError('InvalidEvidence', `SNP evidence of ${evidence.length} bytes is shorter than a report (${SNP_REPORT_BYTES})`);
  }
  const report = evidence.slice(0, SNP_REPORT_BYTES);
  const rest = evidence.subarray(SNP_REPORT_BYTES);
  return { report, certs: rest.length === 0 ? {} : parseSnpCertTable(rest) };
}

export function joinSnpEvidence(report: Uint8Array, table: Uint8Array): Uint8Array {
  const out = new Uint8Array(report.length + table.length);
  out.set(report, 0);
  out.set(table, report.length);
  return out;
}
