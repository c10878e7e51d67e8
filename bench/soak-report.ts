/**
 * The soak benchmark's per-minute table and verdict (pure: numbers in, text
 * and verdict out), kept apart from bench/soak.ts so it can be tested.
 */
import { quantile } from './harness.ts';

export interface MinuteSample {
  /** 1-based. */
  minute: number;
  /** Responses with status 200 in this minute. */
  ok: number;
  /** Non-200 responses plus request errors (timeouts, resets) in this minute. */
  errors: number;
  /** Latencies of this minute's responses, ms. */
  latencies: number[];
  /** Server resident set at the end of the minute, MiB. */
  rssMiB: number;
}

export interface SoakVerdict {
  errors: number;
  /** (largest RSS after the first minute − RSS at the end of the first minute) ÷ the latter; undefined with one minute. */
  rssGrowth: number | undefined;
  pass: boolean;
}

/** Growth limit after the first minute (warm-up: JIT, caches, heap sizing). */
export const MAX_RSS_GROWTH = 0.05;

export function soakVerdict(minutes: readonly MinuteSample[]): SoakVerdict {
  const errors = minutes.reduce((n, m) => n + m.errors, 0);
  const first = minutes[0]?.rssMiB;
  const later = minutes.slice(1).map((m) => m.rssMiB);
  const rssGrowth = first === undefined || later.length === 0 ? undefined : (Math.max(...later) - first) / first;
  const pass = errors === 0 && rssGrowth !== undefined && rssGrowth <= MAX_RSS_GROWTH && minutes.every((m) => m.ok > 0);
  return { errors, rssGrowth, pass };
}

export function soakTable(minutes: readonly MinuteSample[]): string {
  const lines = ['| minute | requests | errors | p50 | p99 | RSS |', '|---:|---:|---:|---:|---:|---:|'];
  for (const m of minutes) {
    lines.push(
      `| ${m.minute} | ${m.ok} | ${m.errors} | ${quantile(m.latencies, 0.5).toFixed(2)} ms | ${quantile(m.latencies, 0.99).toFixed(2)} ms | ${m.rssMiB.toFixed(1)} MiB |`,
    );
  }
  const v = soakVerdict(minutes);
  const growth = v.rssGrowth === undefined ? 'n/a (needs ≥ 2 minutes)' : `${(Math.round(v.rssGrowth * 1000) / 10 + 0).toFixed(1)} %`;
  lines.push('', `errors: ${v.errors}; RSS growth after the first minute: ${growth} (limit ${MAX_RSS_GROWTH * 100} %): ${v.pass ? 'PASS' : 'FAIL'}`);
  return lines.join('\n');
}
