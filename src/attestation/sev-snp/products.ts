/**
 * The AMD EPYC product lines SEV-SNP supports, and what differs between them:
 * the CA names, the CPUID family/model ranges (report v3+), the TCB_VERSION
 * byte layout, and the length of the VCEK's hwID.
 */
import { reject } from '../checks.ts';

export type SnpProduct = 'Milan' | 'Genoa' | 'Turin';
export const SNP_PRODUCTS: readonly SnpProduct[] = ['Milan', 'Genoa', 'Turin'];

export interface TcbParts {
  /** Turin only (FMC firmware). */
  fmc?: number;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

interface ProductInfo {
  /** CPUID_FAM_ID and the CPUID_MOD_ID ranges [lo, hi] of this line. */
  family: number;
  models: ReadonlyArray<readonly [number, number]>;
  /** Byte index of each TCB component; `reserved` bytes must be zero. */
  tcb: { fmc?: number; bootloader: number; tee: number; snp: number; microcode: number; reserved: readonly number[] };
  /** hwID bytes in the VCEK; chip_id is 64 bytes, the rest must be zero. */
  hwIdBytes: number;
}

const PRODUCTS: Readonly<Record<SnpProduct, ProductInfo>> = {
  // Family 19h, models 00h..0Fh (Milan).
  Milan: { family: 0x19, models: [[0x00, 0x0f]], tcb: { bootloader: 0, tee: 1, snp: 6, microcode: 7, reserved: [2, 3, 4, 5] }, hwIdBytes: 64 },
  // Family 19h, models 10h..1Fh (Genoa) and A0h..AFh (Bergamo, Siena: also signed by ARK-Genoa).
  Genoa: {
    family: 0x19,
    models: [[0x10, 0x1f], [0xa0, 0xaf]],
    tcb: { bootloader: 0, tee: 1, snp: 6, microcode: 7, reserved: [2, 3, 4, 5] },
    hwIdBytes: 64,
  },
  // Family 1Ah, models 00h..1Fh (Turin, Turin dense). TCB gains FMC in byte 0; hwID shrinks to 8 bytes.
  Turin: { family: 0x1a, models: [[0x00, 0x1f]], tcb: { fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7, reserved: [4, 5, 6] }, hwIdBytes: 8 },
};

export const isProduct = (s: string): s is SnpProduct => (SNP_PRODUCTS as readonly string[]).includes(s);

export const hwIdBytes = (product: SnpProduct): number => PRODUCTS[product].hwIdBytes;

/** The product line of a CPUID family/model, or undefined when no known line has it. */
export function productOfCpuid(family: number, model: number): SnpProduct | undefined {
  return SNP_PRODUCTS.find((p) => PRODUCTS[p].family === family && PRODUCTS[p].models.some(([lo, hi]) => model >= lo && model <= hi));
}

/** Decode an 8-byte TCB_VERSION with the product's layout; non-zero reserved bytes are refused (TcbMismatch). */
export function decodeTcb(raw: Uint8Array, product: SnpProduct, path: string): TcbParts {
  const layout = PRODUCTS[product].tcb;
  for (const i of layout.reserved) {
    if (raw[i] !== 0) reject('TcbMismatch', `${path}: reserved byte ${i} of a ${product} TCB_VERSION is ${raw[i]}, must be zero`, { path, expected: 0, actual: raw[i] });
  }
  const parts: TcbParts = { bootloader: raw[layout.bootloader]!, tee: raw[layout.tee]!, snp: raw[layout.snp]!, microcode: raw[layout.microcode]! };
  if (layout.fmc !== undefined) parts.fmc = raw[layout.fmc]!;
  return parts;
}

export const tcbText = (t: TcbParts): string =>
  `${t.fmc !== undefined ? `fmc ${t.fmc}, ` : ''}bl ${t.bootloader}, tee ${t.tee}, snp ${t.snp}, ucode ${t.microcode}`;
