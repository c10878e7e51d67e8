/**
 * The SEV-SNP fixtures as ../shared/fixtures/sev-snp/PROVENANCE.md describes
 * them (read in place, never copied), and assertion helpers that match on
 * codes, never on message text.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fixturePath, readFixtureBytes, readFixtureJson } from '../../support/fixtures.ts';
import type { SnpCertificates, SnpCertSlot, SnpVerdict } from '../../../src/attestation/sev-snp/index.ts';
import type { EncumberError } from '../../../src/errors.ts';
import { assertRejected as assertAttestationRejected } from '../helpers.ts';

export interface SnpCase {
  name: string;
  version: number;
  product: 'Milan' | 'Genoa' | 'Turin';
  keyType: 'vcek' | 'vlek';
  /** First 8 bytes of MEASUREMENT, hex (PROVENANCE.md table). */
  measurement: string;
  policy: string;
  vmpl: number;
}

/** PROVENANCE.md's case table. */
export const SNP_CASES: SnpCase[] = [
  { name: 'genoa-v3-vcek-azure', version: 3, product: 'Genoa', keyType: 'vcek', measurement: 'f57dc09a507c6ecd', policy: '0x3001f', vmpl: 0 },
  { name: 'genoa-v3-vcek-trustee-e2e', version: 3, product: 'Genoa', keyType: 'vcek', measurement: '6a6519d757e68c2e', policy: '0x30000', vmpl: 0 },
  { name: 'milan-v2-vcek-azure-hcl', version: 2, product: 'Milan', keyType: 'vcek', measurement: '9ac48fcac8a2d88a', policy: '0x3001f', vmpl: 0 },
  { name: 'milan-v2-vcek-gsg-debug', version: 2, product: 'Milan', keyType: 'vcek', measurement: 'b07af9620f3b839b', policy: '0xb0000', vmpl: 0 },
  { name: 'milan-v2-vcek-trustee', version: 2, product: 'Milan', keyType: 'vcek', measurement: 'a1f3930413247bb3', policy: '0x3001f', vmpl: 0 },
  { name: 'milan-v2-vcek-virtee', version: 2, product: 'Milan', keyType: 'vcek', measurement: '7a1e5c266c0108db', policy: '0x30000', vmpl: 0 },
  { name: 'milan-v2-vlek-aws-anolis', version: 2, product: 'Milan', keyType: 'vlek', measurement: 'f1a99fc07470beb0', policy: '0x30000', vmpl: 1 },
  { name: 'milan-v3-vcek-azure', version: 3, product: 'Milan', keyType: 'vcek', measurement: '6a063be9dd79f637', policy: '0x3001f', vmpl: 0 },
  { name: 'milan-v3-vcek-azure-v2', version: 3, product: 'Milan', keyType: 'vcek', measurement: '5b0ce64ad1c1f637', policy: '0x3001f', vmpl: 0 },
  { name: 'milan-v3-vlek-aws-coco', version: 3, product: 'Milan', keyType: 'vlek', measurement: '8922ebbdd00ec2c5', policy: '0x30000', vmpl: 1 },
  { name: 'neg-milan-v2-wrong-vcek', version: 2, product: 'Milan', keyType: 'vcek', measurement: '7a1e5c266c0108db', policy: '0x30000', vmpl: 0 },
];

export const snpCase = (name: string): SnpCase => SNP_CASES.find((c) => c.name === name) ?? assert.fail(`no case ${name}`);

export interface SnpExpected {
  at: string;
  cases: Record<string, string>;
}
export const SNP_EXPECTED = readFixtureJson<SnpExpected>('sev-snp', 'expected.json');
export const SNP_AT = new Date(SNP_EXPECTED.at);
/** Both VLEK certificates are valid here (PROVENANCE.md). */
export const VLEK_AT = new Date('2025-03-01T00:00:00Z');

export const snpReport = (name: string): Uint8Array => readFixtureBytes('sev-snp', name, 'report.bin');

/** docs/attestation.md, "TCB floor": the fixtures below a floor in force at expected.json's time, and the bulletin. */
export const BELOW_FLOOR_AT_EXPECTED: Record<string, string> = {
  'genoa-v3-vcek-azure': 'AMD-SB-3020',
  'genoa-v3-vcek-trustee-e2e': 'AMD-SB-3020',
  'milan-v2-vcek-azure-hcl': 'AMD-SB-3019',
  'milan-v2-vcek-gsg-debug': 'AMD-SB-3019',
  'milan-v2-vcek-trustee': 'AMD-SB-3019',
  'milan-v2-vcek-virtee': 'AMD-SB-3019',
};
/** The VLEK reports, checked at 2025-03-01 (inside their certificates' validity) and at their VMPL 1. */
export const BELOW_FLOOR_AT_VLEK: Record<string, string> = {
  'milan-v2-vlek-aws-anolis': 'AMD-SB-3019',
  'milan-v3-vlek-aws-coco': 'AMD-SB-3019',
};

/** The certificates stored with a case: ark, ask|asvk, vcek|vlek. */
export function snpCerts(name: string): SnpCertificates {
  const out: SnpCertificates = {};
  for (const slot of ['ark', 'ask', 'asvk', 'vcek', 'vlek'] as SnpCertSlot[]) {
    if (existsSync(fixturePath('sev-snp', name, `${slot}.der`))) out[slot] = readFixtureBytes('sev-snp', name, `${slot}.der`);
  }
  return out;
}

/** roots/<product>/{ark,ask,asvk}.der */
export const snpRoot = (product: string, which: 'ark' | 'ask' | 'asvk'): Uint8Array => readFixtureBytes('sev-snp', 'roots', product.toLowerCase(), `${which}.der`);

export function assertOk(v: SnpVerdict, label = ''): asserts v is Extract<SnpVerdict, { ok: true }> {
  if (!v.ok) assert.fail(`${label}: expected a valid report, got ${v.error.code} (${v.error.path}): ${v.error.message}`);
}

/** The verdict is a refusal with exactly this code (and index/path when given); the last check row failed. */
export function assertRejected(v: SnpVerdict, code: string, where: { index?: number; path?: string } = {}, label = ''): EncumberError {
  return assertAttestationRejected(v, code, where, label, 'report');
}

export function flip(bytes: Uint8Array, at: number, bit = 1): Uint8Array {
  const out = new Uint8Array(bytes);
  out[at]! ^= bit;
  return out;
}
