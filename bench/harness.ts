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
