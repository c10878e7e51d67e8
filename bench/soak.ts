/**
 * Soak: signRecord (2-of-3, 20-op supplied logs, warm) at ~80 % of the
 * measured peak for N minutes against the enclave bundle in its own process;
 * per minute: requests, errors, p50, p99, server RSS; then the RSS growth after
 * the first minute (≤ 5 %) and PASS/FAIL (also FAIL on any error).
 *
 *   npm run bench:soak -- --minutes 10 [--connections 8] [--load 0.8] [--peak-seconds 5] [--minute-seconds 60]
 *
 * The peak is measured first (autocannon, `connections`, `peak-seconds`), then
 * one autocannon run holds `load` × peak requests/s (overallRate) for the whole
 * soak; responses are bucketed per minute as they arrive.
 */
import autocannon from 'autocannon';
import { buildBundle, IMAGE_ENV, nodeFlags, post, rssMiB, SIGN_RECORD, startServer, world } from './service.ts';
import { soakTable, soakVerdict, type MinuteSample } from './soak-report.ts';

function opt(name: string, dflt: number): number {
  const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return dflt;
  const a = process.argv[i]!;
  const v = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}
const MINUTES = Math.round(opt('minutes', 10));
const CONNECTIONS = Math.round(opt('connections', 8));
const LOAD = opt('load', 0.8);
const PEAK_SECONDS = opt('peak-seconds', 5);
const MINUTE_MS = opt('minute-seconds', 60) * 1000;

const bundle = buildBundle();
const w = await world(20);
const server = await startServer(bundle, w.policy, nodeFlags(), IMAGE_ENV);
const target = { url: `${server.url}${SIGN_RECORD}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: w.body, connections: CONNECTIONS };
try {
  for (let i = 0; i < 50; i++) await post(server.url, w.body);
  const peakRun = await autocannon({ ...target, duration: PEAK_SECONDS });
  const peak = peakRun.requests.average as number;
  const rate = Math.max(1, Math.round(peak * LOAD));
  console.log(
    `node ${process.version}; peak ${peak.toFixed(0)} req/s (${CONNECTIONS} connections, ${PEAK_SECONDS} s); ` +
      `soak at ${rate} req/s (${(LOAD * 100).toFixed(0)} %) for ${MINUTES} × ${MINUTE_MS / 1000} s\n`,
  );

  const minutes: MinuteSample[] = [];
  const fresh = (minute: number): MinuteSample => ({ minute, ok: 0, errors: 0, latencies: [], rssMiB: 0 });
  let current = fresh(1);
  const instance = autocannon({ ...target, overallRate: rate, duration: (MINUTES * MINUTE_MS) / 1000 });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status === 200) current.ok++;
    else current.errors++;
    current.latencies.push(ms);
  });
  instance.on('reqError', () => current.errors++);
  const timer = setInterval(() => {
    current.rssMiB = rssMiB(server.child.pid!).rss;
    minutes.push(current);
    console.log(`minute ${current.minute}: ${current.ok} ok, ${current.errors} errors, RSS ${current.rssMiB.toFixed(1)} MiB`);
    current = fresh(current.minute + 1);
  }, MINUTE_MS);
  await instance;
  clearInterval(timer);
  // The last bucket closes with the run (the timer and the run end within a tick of each other).
  if (minutes.length < MINUTES && current.ok + current.errors > 0) {
    current.rssMiB = rssMiB(server.child.pid!).rss;
    minutes.push(current);
  }
  console.log(`\n${soakTable(minutes)}`);
  console.log(`server peak RSS: ${rssMiB(server.child.pid!).peak.toFixed(1)} MiB`);
  process.exitCode = soakVerdict(minutes).pass ? 0 : 1;
} finally {
  server.child.kill();
}
