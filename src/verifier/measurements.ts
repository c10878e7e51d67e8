/**
 * Published measurements (attestation/measurements.json) and the rule that
 * evidence must match one of them. A verifier that pins nothing has not
 * checked which program runs, so "not pinned" is a failure unless the caller
 * says explicitly that any program will do.
 */
import { z } from 'zod';
import { EncumberError } from '../errors.ts';
import { CPU_SIGNATURES, MAX_VCPUS } from '../attestation/sev-snp/index.ts';

const hex48 = z.string().regex(/^[0-9a-f]{96}$/, 'must be 48 bytes of lowercase hex');

const pcrSet = z.strictObject({
  name: z.string().max(200).optional(),
  bundleSha384: hex48.optional(),
  pcrs: z.record(z.string().regex(/^([0-9]|1[0-5])$/), hex48).refine((r) => Object.keys(r).length > 0, 'at least one PCR'),
});

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 32 bytes of lowercase hex');

/**
 * One published SEV-SNP launch measurement. Only `measurement` is compared
 * with a report; the rest says what it was computed from (the launch
 * configuration and the hashes of the measured files), so anyone can
 * recompute it with `encumber measure --platform sev-snp`.
 */
const snpSet = z
  .strictObject({
    name: z.string().max(200).optional(),
    measurement: hex48,
    vcpus: z.number().int().min(1).max(MAX_VCPUS).optional(),
    cpu: z.enum(Object.keys(CPU_SIGNATURES) as [string, ...string[]]).optional(),
    vcpuSig: z.string().regex(/^0x[0-9a-f]{1,8}$/, 'must be 0x-prefixed lowercase hex (CPUID signature)').optional(),
    guestFeatures: z.string().regex(/^0x[0-9a-f]{1,16}$/, 'must be 0x-prefixed lowercase hex (SEV_FEATURES)').optional(),
    inputs: z
      .strictObject({
        ovmfSha256: hex32.optional(),
        kernelSha256: hex32.optional(),
        initrdSha256: hex32.optional(),
        cmdline: z.string().max(4096).optional(),
      })
      .optional(),
  })
  .refine((s) => s.cpu === undefined || s.vcpuSig === undefined || CPU_SIGNATURES[s.cpu] === parseInt(s.vcpuSig, 16), {
    message: 'vcpuSig is not the signature of cpu',
    path: ['vcpuSig'],
  });

export const measurementsSchema = z.strictObject({
  $comment: z.string().optional(),
  release: z.string().max(64).optional(),
  nitro: z.array(pcrSet).default([]),
  dev: z.array(pcrSet).default([]),
  'sev-snp': z.array(snpSet).default([]),
});

export type Measurements = z.infer<typeof measurementsSchema>;
export type PcrSet = z.infer<typeof pcrSet>;
export type SnpMeasurementEntry = z.infer<typeof snpSet>;

/** What the verifier accepts: a list of published values, or explicitly anything. */
export type MeasurementPin = { accept: Measurements } | 'any';

export function parseMeasurements(value: unknown): Measurements {
  const r = measurementsSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new EncumberError('UsageError', `measurements: ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

export type MeasurementOutcome = { ok: true; detail: string } | { ok: false; code: 'MeasurementNotPinned' | 'PcrMismatch' | 'MeasurementMismatch'; detail: string };

export function checkPcrs(platform: 'nitro' | 'dev', pcrs: Record<number, string>, pin: MeasurementPin | undefined): MeasurementOutcome {
  if (pin === 'any') return { ok: true, detail: 'NOT PINNED: any program accepted (explicitly asked for)' };
  if (!pin) return notPinned();
  const sets = pin.accept[platform];
  const match = sets.find((s) => Object.entries(s.pcrs).every(([i, v]) => pcrs[Number(i)] === v));
  if (match) return { ok: true, detail: `PCRs match ${match.name ?? 'a published set'} (PCR0 ${short(pcrs[0])})` };
  return {
    ok: false,
    code: 'PcrMismatch',
    detail: `PCR0 ${short(pcrs[0])}, PCR1 ${short(pcrs[1])}, PCR2 ${short(pcrs[2])} match none of the ${sets.length} published ${platform} set(s)`,
  };
}

export function checkSnpMeasurement(measurement: string, pin: MeasurementPin | undefined): MeasurementOutcome {
  if (pin === 'any') return { ok: true, detail: 'NOT PINNED: any program accepted (explicitly asked for)' };
  if (!pin) return notPinned();
  const match = pin.accept['sev-snp'].find((s) => s.measurement === measurement);
  if (match) return { ok: true, detail: `launch measurement matches ${match.name ?? 'a published value'}${snpConfig(match)}` };
  return { ok: false, code: 'MeasurementMismatch', detail: `launch measurement ${short(measurement)} matches none of the ${pin.accept['sev-snp'].length} published value(s)` };
}

function snpConfig(s: SnpMeasurementEntry): string {
  const parts = [s.vcpus !== undefined ? `${s.vcpus} vCPU` : '', s.cpu ?? s.vcpuSig ?? '', s.guestFeatures ? `guest features ${s.guestFeatures}` : ''].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

function notPinned(): MeasurementOutcome {
  return {
    ok: false,
    code: 'MeasurementNotPinned',
    detail: 'no expected measurement: give published measurements (--measurements FILE or --expect-pcr0 HEX), or --any-measurement to accept any program',
  };
}

function short(h: string | undefined): string {
  return h ? `${h.slice(0, 16)}…` : '(absent)';
}
