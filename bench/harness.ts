/**
 * Minimal benchmark harness: run a function repeatedly for a fixed time after a
 * warm-up, report operations per second. Peers are measured in the same process
 * and run, so ratios are meaningful even on a noisy machine.
 */
export interface BenchResult {
  name: string;
  opsPerSec: number;
  iterations: number;
  ms: number;
}

export function bench(name: string, fn: () => unknown, opts: { ms?: number; warmupMs?: number } = {}): BenchResult {
  const ms = opts.ms ?? 2000;
  const warmupMs = opts.warmupMs ?? 300;
  const until = (deadline: number) => {
    let n = 0;
    while (performance.now() < deadline) {
      fn();
      n++;
    }
    return n;
  };
  until(performance.now() + warmupMs);
  const start = performance.now();
  const iterations = until(start + ms);
  const elapsed = performance.now() - start;
  return { name, opsPerSec: (iterations * 1000) / elapsed, iterations, ms: elapsed };
}

export async function benchAsync(
  name: string,
  fn: () => Promise<unknown>,
  opts: { ms?: number; warmupMs?: number } = {},
): Promise<BenchResult> {
  const ms = opts.ms ?? 2000;
  const warmupMs = opts.warmupMs ?? 300;
  const until = async (deadline: number) => {
    let n = 0;
    while (performance.now() < deadline) {
      await fn();
      n++;
    }
    return n;
  };
  await until(performance.now() + warmupMs);
  const start = performance.now();
  const iterations = await until(start + ms);
  const elapsed = performance.now() - start;
  return { name, opsPerSec: (iterations * 1000) / elapsed, iterations, ms: elapsed };
}

/** Markdown table; the first row is the reference for the ratio column unless `ref` names another. */
export function table(rows: BenchResult[], ref?: string): string {
  const base = rows.find((r) => r.name === ref) ?? rows[0]!;
  const lines = ['| implementation | ops/s | ratio vs ' + base.name + ' |', '|---|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.opsPerSec.toFixed(0)} | ${(r.opsPerSec / base.opsPerSec).toFixed(2)}× |`);
  }
  return lines.join('\n');
}

export interface BenchCase {
  row: string;
  run: () => unknown;
  async?: boolean;
}

/**
 * Measure every case `rounds` times, interleaved (so drift on a shared machine
 * hits all rows alike), and report each row's median.
 */
export async function measureInterleaved(cases: BenchCase[], opts: { rounds: number; ms: number }): Promise<BenchResult[]> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.row, []]));
  for (let i = 0; i < opts.rounds; i++) {
    for (const c of cases) {
      const r = c.async ? await benchAsync(c.row, c.run as () => Promise<unknown>, { ms: opts.ms }) : bench(c.row, c.run, { ms: opts.ms });
      samples.get(c.row)!.push(r.opsPerSec);
    }
  }
  return cases.map((c) => {
    const xs = samples.get(c.row)!.sort((a, b) => a - b);
    return { name: c.row, opsPerSec: xs[Math.floor(xs.length / 2)]!, iterations: 0, ms: opts.ms * opts.rounds };
  });
}

/**
 * Markdown table with one ratio column per reference row (e.g. OpenSSL and
 * libsecp256k1 native), all from the same run. A reference that is not among
 * the rows is an error: a ratio against nothing would print as NaN.
 */
export function tableVs(rows: BenchResult[], refs: string[], unit = 'ops/s'): string {
  const bases = refs.map((ref) => {
    const b = rows.find((r) => r.name === ref);
    if (!b) throw new Error(`reference row not measured: ${ref}`);
    return b;
  });
  const head = `| implementation | ${unit} | ${bases.map((b) => `× ${b.name}`).join(' | ')} |`;
  const rule = `|---|---:|${bases.map(() => '---:').join('|')}|`;
  const lines = [head, rule];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.opsPerSec.toFixed(0)} | ${bases.map((b) => `${(r.opsPerSec / b.opsPerSec).toFixed(2)}×`).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Value at quantile q (0..1) of a sample, nearest rank; NaN for an empty sample. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
