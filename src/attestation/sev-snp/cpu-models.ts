/**
 * QEMU vCPU models and their CPUID signature (Fn0000_0001_EAX: family, model,
 * stepping, AMD CPUID specification #25481), which QEMU puts in RDX of each
 * vCPU's reset state and so into the launch measurement. Family/model/stepping
 * as in QEMU's builtin_x86_defs (target/i386/cpu.c).
 */
import { SnpMeasureError } from './measure-errors.ts';

export function cpuSignature(family: number, model: number, stepping: number): number {
  const familyLow = Math.min(family, 0xf);
  const familyHigh = family > 0xf ? (family - 0xf) & 0xff : 0;
  return ((familyHigh << 20) | (((model >> 4) & 0xf) << 16) | (familyLow << 8) | ((model & 0xf) << 4) | (stepping & 0xf)) >>> 0;
}

const FMS: Record<string, [number, number, number]> = {
  EPYC: [23, 1, 2],
  'EPYC-v1': [23, 1, 2],
  'EPYC-v2': [23, 1, 2],
  'EPYC-IBPB': [23, 1, 2],
  'EPYC-v3': [23, 1, 2],
  'EPYC-v4': [23, 1, 2],
  'EPYC-Rome': [23, 49, 0],
  'EPYC-Rome-v1': [23, 49, 0],
  'EPYC-Rome-v2': [23, 49, 0],
  'EPYC-Rome-v3': [23, 49, 0],
  'EPYC-Rome-v4': [23, 49, 0],
  'EPYC-Milan': [25, 1, 1],
  'EPYC-Milan-v1': [25, 1, 1],
  'EPYC-Milan-v2': [25, 1, 1],
  'EPYC-Genoa': [25, 17, 0],
  'EPYC-Genoa-v1': [25, 17, 0],
  'EPYC-Turin': [26, 0, 0],
  'EPYC-Turin-v1': [26, 0, 0],
};

/** Every known model name → signature. */
export const CPU_SIGNATURES: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(FMS).map(([k, [f, m, s]]) => [k, cpuSignature(f, m, s)]));

/** The models encumber publishes measurements for (one per EPYC generation that runs SEV-SNP guests). */
export const SUPPORTED_CPUS = ['EPYC-v4', 'EPYC-Milan', 'EPYC-Genoa', 'EPYC-Turin'] as const;
export type SupportedCpu = (typeof SUPPORTED_CPUS)[number];

export function cpuSignatureOf(model: string): number {
  const sig = CPU_SIGNATURES[model] ?? Object.entries(CPU_SIGNATURES).find(([k]) => k.toLowerCase() === model.toLowerCase())?.[1];
  if (sig === undefined) throw new SnpMeasureError('InvalidMeasureInput', `unknown vCPU model ${model}`, Object.keys(CPU_SIGNATURES).join(', '), model);
  return sig;
}
