/**
 * The minimum TCB a report's firmware must have: AMD security bulletins
 * (attestation/snp-tcb-floor.json), each applied from its publication date,
 * or a caller's own floor (--min-tcb SPEC), or none. Pure: the table is data
 * bundled with the code (a JSON import, so the browser page has it too) and
 * the time is the verifier's `at`.
 */
import table from '../../../attestation/snp-tcb-floor.json' with { type: 'json' };
import { reject } from '../checks.ts';
import { EncumberError } from '../../errors.ts';
import { isProduct, type SnpProduct, type TcbParts } from './products.ts';
import type { SnpReport } from './report.ts';

export type TcbComponent = keyof TcbParts;
/** A minimum per component; a component left out is not constrained. */
export type TcbMinimum = Partial<Record<TcbComponent, number>>;

/**
 * 'builtin' (default): the bulletins of attestation/snp-tcb-floor.json in force at `at`.
 * 'none': no floor. A custom floor: one minimum for every product, or one per product.
 */
export type SnpMinTcb = 'builtin' | 'none' | { custom: TcbMinimum | Partial<Record<SnpProduct, TcbMinimum>> };

/** A component's floor in the table: a number, or per CPU line ("FF/MM[-MM]/S|*") with a "default". */
type TableValue = number | Record<string, number>;
interface TableBulletin {
  id: string;
  title: string;
  cves: string[];
  published: string;
  url: string;
  floors: Partial<Record<SnpProduct, Partial<Record<TcbComponent, TableValue>>>>;
  sources: string[];
  notes?: string[];
}

export const SNP_TCB_FLOOR = table as unknown as { reviewed: string; bulletins: TableBulletin[]; notEnforced: Array<{ id: string; reason: string }> };

export const COMPONENTS: readonly TcbComponent[] = ['fmc', 'bootloader', 'tee', 'snp', 'microcode'];
const SPEC_NAMES: Readonly<Record<string, TcbComponent>> = {
  fmc: 'fmc',
  bl: 'bootloader',
  bootloader: 'bootloader',
  tee: 'tee',
  snp: 'snp',
  ucode: 'microcode',
  microcode: 'microcode',
};

function usage(message: string, actual?: unknown): never {
  throw new EncumberError('UsageError', message, { actual });
}

const LINE = /^([0-9a-f]{2})\/([0-9a-f]{2})(?:-([0-9a-f]{2}))?\/([0-9a-f]|\*)$/;

/** The value of one component for this report's CPU line (CPUID of a v3+ report), else the product's default. */
function valueFor(v: TableValue, cpuid: SnpReport['cpuid']): number | undefined {
  if (typeof v === 'number') return v;
  if (cpuid) {
    for (const [key, n] of Object.entries(v)) {
      const m = LINE.exec(key);
      if (!m) continue;
      const [lo, hi] = [parseInt(m[2]!, 16), parseInt(m[3] ?? m[2]!, 16)];
      if (parseInt(m[1]!, 16) === cpuid.family && cpuid.model >= lo && cpuid.model <= hi && (m[4] === '*' || parseInt(m[4]!, 16) === cpuid.stepping)) return n;
    }
  }
  return v.default;
}

export interface Floor {
  /** The bulletin (AMD-SB-nnnn) or '--min-tcb'. */
  bulletin: string;
  published?: string;
  cves?: string[];
  url?: string;
  minimum: TcbMinimum;
}

/** The floors that apply to a report of this product and CPU line at time `at` (ms). */
export function floorsInForce(option: SnpMinTcb, product: SnpProduct, cpuid: SnpReport['cpuid'], at: number): Floor[] {
  if (option === 'none') return [];
  if (option !== 'builtin') {
    const c = option.custom as Record<string, TcbMinimum>;
    const perProduct = Object.keys(c).some(isProduct);
    const minimum = perProduct ? c[product] : (c as TcbMinimum);
    return minimum ? [{ bulletin: '--min-tcb', minimum }] : [];
  }
  const out: Floor[] = [];
  for (const b of SNP_TCB_FLOOR.bulletins) {
    const f = b.floors[product];
    if (!f || Date.parse(`${b.published}T00:00:00Z`) > at) continue;
    const minimum: TcbMinimum = {};
    for (const c of COMPONENTS) {
      const v = f[c] === undefined ? undefined : valueFor(f[c]!, cpuid);
      if (v !== undefined) minimum[c] = v;
    }
    out.push({ bulletin: b.id, published: b.published, cves: b.cves, url: b.url, minimum });
  }
  return out;
}

const show = (m: TcbMinimum) => COMPONENTS.filter((c) => m[c] !== undefined).map((c) => `${c} ≥ ${m[c]}`).join(', ');

/**
 * Rule: reported_tcb (the TCB the VCEK/VLEK certifies) is at or above every floor in force.
 * A refusal names the first bulletin (oldest first) the report falls below, and its first low component.
 */
export function checkTcbFloor(tcb: TcbParts, product: SnpProduct, cpuid: SnpReport['cpuid'], option: SnpMinTcb, at: number): string {
  if (option === 'none') return 'no TCB floor (minTcb none)';
  const floors = floorsInForce(option, product, cpuid, at);
  for (const f of floors) {
    for (const c of COMPONENTS) {
      const want = f.minimum[c];
      if (want === undefined) continue;
      const got = tcb[c] ?? 0;
      if (got < want) {
        const from = f.bulletin === '--min-tcb' ? 'the caller\'s --min-tcb floor' : `${f.bulletin} (${f.cves!.join(', ')}, published ${f.published})`;
        reject('TcbBelowFloor', `reported_tcb.${c} is ${got}, below ${from}: ${product} needs ${show(f.minimum)}; the platform runs firmware with a published vulnerability`, {
          path: `reported_tcb.${c}`,
          expected: { bulletin: f.bulletin, product, minimum: f.minimum, ...(f.url ? { url: f.url } : {}) },
          actual: tcb,
        });
      }
    }
  }
  if (option !== 'builtin') return floors.length ? `reported_tcb meets the --min-tcb floor (${show(floors[0]!.minimum)})` : `the --min-tcb floor names no ${product} minimum`;
  return floors.length
    ? `reported_tcb meets ${floors.map((f) => f.bulletin).join(', ')} (the ${product} floors in force)`
    : `no ${product} floor in force at this time`;
}

function component(name: string, value: unknown, where: string): [TcbComponent, number] {
  const c = SPEC_NAMES[name];
  if (!c) usage(`--min-tcb: unknown component "${name}" in ${where} (expected bl, tee, snp, ucode, fmc)`, name);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 255) usage(`--min-tcb: ${name} must be an integer 0..255`, value);
  return [c, value];
}

function minimum(obj: Record<string, unknown>, where: string): TcbMinimum {
  const out: TcbMinimum = {};
  for (const [k, v] of Object.entries(obj)) {
    const [c, n] = component(k, v, where);
    if (out[c] !== undefined) usage(`--min-tcb: ${k} given twice`);
    out[c] = n;
  }
  if (Object.keys(out).length === 0) usage(`--min-tcb: ${where} names no component`);
  return out;
}

/**
 * --min-tcb SPEC: "none"; "bl=7,tee=0,snp=14,ucode=72[,fmc=N]" (every product);
 * or JSON: {"bootloader":7,"microcode":72} (every product) or {"Genoa":{"snp":23},"Milan":{...}} (per product).
 * Component names: bl|bootloader, tee, snp, ucode|microcode, fmc (Turin).
 */
export function parseMinTcbSpec(spec: string): SnpMinTcb {
  const s = typeof spec === 'string' ? spec.trim() : usage('--min-tcb: a string', spec);
  if (s === 'none') return 'none';
  if (s.startsWith('{') || s.startsWith('[')) {
    let j: unknown;
    try {
      j = JSON.parse(s);
    } catch {
      usage('--min-tcb: not valid JSON', s);
    }
    if (typeof j !== 'object' || j === null || Array.isArray(j)) usage('--min-tcb: JSON must be an object', s);
    const keys = Object.keys(j);
    if (keys.length > 0 && keys.every((k) => /^[A-Z]/.test(k))) {
      const custom: Partial<Record<SnpProduct, TcbMinimum>> = {};
      for (const k of keys) {
        if (!isProduct(k)) usage(`--min-tcb: unknown product "${k}" (expected Milan, Genoa, Turin)`, k);
        const v = (j as Record<string, unknown>)[k];
        if (typeof v !== 'object' || v === null || Array.isArray(v)) usage(`--min-tcb: ${k} must be an object of components`);
        custom[k] = minimum(v as Record<string, unknown>, k);
      }
      return { custom };
    }
    return { custom: minimum(j as Record<string, unknown>, 'the floor') };
  }
  const obj: Record<string, unknown> = {};
  for (const pair of s.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*(\d{1,3})\s*$/.exec(pair);
    if (!m) usage(`--min-tcb: expected component=value pairs like bl=7,tee=0,snp=14,ucode=72 (or none, or JSON), got "${pair}"`, s);
    const c = SPEC_NAMES[m[1]!];
    if (c && Object.keys(obj).some((k) => SPEC_NAMES[k] === c)) usage(`--min-tcb: ${m[1]} given twice`, s);
    obj[m[1]!] = Number(m[2]);
  }
  return { custom: minimum(obj, 'the floor') };
}

/** Options check for minTcb (UsageError on a malformed value). */
export function normalizeMinTcb(v: unknown): SnpMinTcb {
  if (v === undefined || v === 'builtin') return 'builtin';
  if (v === 'none') return 'none';
  if (typeof v === 'object' && v !== null && 'custom' in v) {
    const c = (v as { custom: unknown }).custom;
    if (typeof c === 'object' && c !== null && !Array.isArray(c)) return parseMinTcbSpec(JSON.stringify(c));
  }
  return usage("minTcb must be 'builtin', 'none' or { custom: { bl/tee/snp/ucode/fmc minimums } }", v);
}
