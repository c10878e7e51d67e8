/**
 * Verifier options, checked up front. Options come from the caller, so a bad
 * option is a programming error (EncumberError 'UsageError'). The certificates
 * are evidence, not options: a missing one is InvalidEvidence (verify.ts), only
 * a `certs` that is not an object of byte arrays is a UsageError.
 */
import { EncumberError } from '../../errors.ts';
import { hexOption } from '../bytes.ts';
import { snpReportData, SNP_REPORT_DATA_BYTES } from './report-data.ts';
import { SNP_ARK_SHA256 } from './roots.ts';
import { normalizeMinTcb, type SnpMinTcb } from './tcb-floor.ts';

export type SnpCertSlot = 'ark' | 'ask' | 'asvk' | 'vcek' | 'vlek';
/** DER certificates, as the SNP certificate table or AMD KDS supply them. */
export type SnpCertificates = Partial<Record<SnpCertSlot, Uint8Array>>;

export interface SnpVerifyOptions {
  /** ark, one of ask/asvk and one of vcek/vlek (both may be given: the report's signing_key picks). */
  certs: SnpCertificates;
  /** The time at which every certificate must be valid. */
  at: Date;
  /** SHA-256 (hex) of the accepted ARK DERs. Default: the three pinned AMD ARKs (roots.ts). */
  trustedArks?: readonly string[];
  /** 64 raw bytes, or what encumber puts there: SHA-256(bindingBytes) ‖ SHA-256(nonce). */
  expectedReportData?: Uint8Array | { bindingBytes: Uint8Array; nonce: Uint8Array };
  /** The launch measurement (48 bytes, or hex), or a list of accepted ones. */
  expectedMeasurement?: Uint8Array | string | ReadonlyArray<Uint8Array | string>;
  /** Accept guests whose policy allows debugging (bit 19). Default false. */
  allowDebug?: boolean;
  /** Accept guests whose policy allows a migration agent (bit 18). Default false. */
  allowMigrationAgent?: boolean;
  /** The VMPL (0..3) the report must come from, or 'any' guest VMPL. Default 0 (the most privileged: encumber runs there). */
  expectedVmpl?: number | 'any';
  /**
   * Minimum reported_tcb. Default 'builtin': every AMD bulletin of attestation/snp-tcb-floor.json
   * published on or before `at`. 'none' disables the floor; { custom } replaces the table (parseMinTcbSpec).
   */
  minTcb?: SnpMinTcb;
}

export type ExpectedReportData = { kind: 'raw' | 'binding'; value: Uint8Array };

export interface NormalizedSnpOptions {
  certs: SnpCertificates;
  at: number;
  trustedArks: readonly string[];
  expectedReportData?: ExpectedReportData;
  expectedMeasurements: Uint8Array[];
  allowDebug: boolean;
  allowMigrationAgent: boolean;
  /** Absent: any guest VMPL (the caller said 'any'). */
  expectedVmpl?: number;
  minTcb: SnpMinTcb;
}

const MEASUREMENT_BYTES = 48;
const SLOTS: readonly SnpCertSlot[] = ['ark', 'ask', 'asvk', 'vcek', 'vlek'];

function usage(message: string, actual?: unknown): never {
  throw new EncumberError('UsageError', message, { actual });
}

const isBool = (v: unknown): v is boolean | undefined => v === undefined || typeof v === 'boolean';

function measurement(v: unknown, what: string): Uint8Array {
  const bytes = typeof v === 'string' ? hexOption(v, what) : v;
  if (!(bytes instanceof Uint8Array) || bytes.length !== MEASUREMENT_BYTES) usage(`${what} must be ${MEASUREMENT_BYTES} bytes (or ${MEASUREMENT_BYTES * 2} hex digits)`, v);
  return new Uint8Array(bytes);
}

function reportData(v: SnpVerifyOptions['expectedReportData']): ExpectedReportData | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Uint8Array) {
    if (v.length !== SNP_REPORT_DATA_BYTES) usage(`expectedReportData must be ${SNP_REPORT_DATA_BYTES} bytes`, v.length);
    return { kind: 'raw', value: new Uint8Array(v) };
  }
  if (typeof v !== 'object' || v === null || !(v.bindingBytes instanceof Uint8Array) || !(v.nonce instanceof Uint8Array)) {
    usage('expectedReportData must be 64 bytes or { bindingBytes: Uint8Array, nonce: Uint8Array }');
  }
  return { kind: 'binding', value: snpReportData(v.bindingBytes, v.nonce) };
}

export function normalizeSnpOptions(opts: SnpVerifyOptions): NormalizedSnpOptions {
  if (typeof opts !== 'object' || opts === null) usage('options are required ({ certs, at })');
  if (!(opts.at instanceof Date) || !Number.isFinite(opts.at.getTime())) usage('at must be a valid Date', opts.at);

  const certs = opts.certs;
  if (typeof certs !== 'object' || certs === null) usage('certs must be an object { ark, ask|asvk, vcek|vlek } of DER certificates');
  for (const key of Object.keys(certs)) {
    if (!(SLOTS as readonly string[]).includes(key)) usage(`certs.${key}: unknown slot (expected ${SLOTS.join(', ')})`);
    const der = certs[key as SnpCertSlot];
    if (der !== undefined && !(der instanceof Uint8Array)) usage(`certs.${key} must be a Uint8Array (DER)`);
  }

  const trustedArks = opts.trustedArks ?? SNP_ARK_SHA256;
  if (!Array.isArray(trustedArks) || trustedArks.length === 0 || !trustedArks.every((f) => typeof f === 'string' && /^[0-9a-fA-F]{64}$/.test(f))) {
    usage('trustedArks must be a non-empty list of SHA-256 fingerprints (64 hex digits)', opts.trustedArks);
  }

  const m = opts.expectedMeasurement;
  const list = m === undefined ? [] : typeof m === 'string' || m instanceof Uint8Array ? [m] : m;
  if (!Array.isArray(list) || (m !== undefined && list.length === 0)) usage('expectedMeasurement must be a measurement or a non-empty list of them');

  if (!isBool(opts.allowDebug) || !isBool(opts.allowMigrationAgent)) usage('allowDebug and allowMigrationAgent must be booleans');
  const vmpl = opts.expectedVmpl ?? 0;
  if (vmpl !== 'any' && !(Number.isInteger(vmpl) && vmpl >= 0 && vmpl <= 3)) usage("expectedVmpl must be an integer 0..3 or 'any'", vmpl);

  const out: NormalizedSnpOptions = {
    certs: { ...certs },
    at: opts.at.getTime(),
    trustedArks: trustedArks.map((f) => f.toLowerCase()),
    expectedMeasurements: list.map((x, i) => measurement(x, `expectedMeasurement[${i}]`)),
    allowDebug: opts.allowDebug === true,
    allowMigrationAgent: opts.allowMigrationAgent === true,
    minTcb: normalizeMinTcb(opts.minTcb),
  };
  const rd = reportData(opts.expectedReportData);
  if (rd) out.expectedReportData = rd;
  if (vmpl !== 'any') out.expectedVmpl = vmpl;
  return out;
}
