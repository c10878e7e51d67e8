/**
 * signRecord end to end over loopback, 2-of-3 policy, each member with a
 * 20-operation PLC log (supplied mode). The service runs in its own process
 * (the enclave bundle, dist/encumber-enclave.mjs), the load generator
 * (autocannon) in this one. A baseline row runs the enclave bundle built from
 * commit 9d22ce4 (bench/baseline.ts) under the same load in the same run,
 * interleaved with ours, so the ratio holds on a noisy machine. A floor row
 * (bench/sign-record-floor.mjs: node:http, JSON.parse and the request's four
 * libsecp256k1 operations, no checks) is the native limit under the same load.
 *
 *   warm: the same co-signed draft again and again (PLC checkpoints cached)
 *   cold: first request for three fresh 20-op logs (a fresh server each time; ours only)
 *
 * Usage: node --import tsx bench/sign-record.ts [--seconds=10] [--connections=8] [--cold=5] [--sequential=400] [--no-baseline]
 */
import autocannon from 'autocannon';
import { baselineBundle, baselineNodeEnv, baselineNodeFlags, BASELINE_COMMIT } from './baseline.ts';
import { quantile } from './harness.ts';
import { buildBundle, nodeFlags, post, IMAGE_ENV, keepAliveClient, rssMiB, SIGN_RECORD, startServer, world, type Server } from './service.ts';

const arg = (name: string, dflt: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const SECONDS = arg('seconds', 10);
const CONNECTIONS = arg('connections', 8);
const COLD_RUNS = arg('cold', 5);
const WITH_BASELINE = !process.argv.includes('--no-baseline');
const NODE_FLAGS = nodeFlags();
// Measure what runs in the enclave: the esbuild bundle (built here, deterministic).
const OURS = buildBundle();
const BASELINE = WITH_BASELINE ? baselineBundle() : undefined;

const w = await world(20);
console.log(`draft body: ${w.body.length} bytes (2 co-signatures, 2 × 20-op PLC logs)`);

// Cold: fresh server and fresh logs each run; first request only.
const cold: number[] = [];
for (let i = 0; i < COLD_RUNS; i++) {
  const fresh = i === 0 ? w : await world(20);
  const s = await startServer(OURS, fresh.policy, NODE_FLAGS, IMAGE_ENV);
  await fetch(`${s.url}/xrpc/_health`);
  cold.push(await post(s.url, fresh.body));
  s.child.kill();
}

const load = (s: Server, connections: number) =>
  autocannon({ url: `${s.url}${SIGN_RECORD}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: w.body, connections, duration: SECONDS });

// Warm: one server per bundle, same draft, under load; the two bundles take turns.
const servers: { name: string; s: Server }[] = [{ name: 'ours', s: await startServer(OURS, w.policy, NODE_FLAGS, IMAGE_ENV) }];
// Each bundle with the flags its own image runs it with (unless --node-flags= sets both).
const BASELINE_FLAGS = process.argv.some((a) => a.startsWith('--node-flags=')) ? NODE_FLAGS : baselineNodeFlags();
if (BASELINE) servers.push({ name: `baseline ${BASELINE_COMMIT}`, s: await startServer(BASELINE, w.policy, BASELINE_FLAGS, baselineNodeEnv()) });
// The native limit, under the same load: node:http + JSON.parse + 2 libsecp256k1 verifications and 2 signatures, no checks.
servers.push({ name: 'floor', s: await startServer(new URL('./sign-record-floor.mjs', import.meta.url).pathname, w.policy, []) });
for (const { s } of servers) for (let i = 0; i < 50; i++) await post(s.url, w.body);
type Result = Awaited<ReturnType<typeof autocannon>>;
const single = new Map<string, Result>();
const SEQUENTIAL = arg('sequential', 400);

const multi = new Map<string, Result>();
const sequential = new Map<string, number[]>(servers.map((x) => [x.name, []]));
for (const { name, s } of servers) single.set(name, await load(s, 1));
// p50 at 1 connection to the microsecond (autocannon rounds to whole ms): sequential requests, bundles alternating.
const clients = await Promise.all(servers.map(({ s }) => keepAliveClient(s.url, w.body)));
// In blocks of 20 per bundle, so each measured request follows one to the same server (not an idle gap).
for (let i = 0; i < SEQUENTIAL; i += 20) for (const [k, { name }] of servers.entries()) for (let j = i; j < Math.min(i + 20, SEQUENTIAL); j++) sequential.get(name)!.push(await clients[k]!.post());
for (const c of clients) c.close();
for (const { name, s } of servers) multi.set(name, await load(s, CONNECTIONS));
const mem = new Map(servers.map(({ name, s }) => [name, rssMiB(s.child.pid!)]));
for (const { s } of servers) s.child.kill();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const names = servers.map((x) => x.name);
const base = BASELINE ? names[1]! : undefined;
const ofFloor = (f: (n: string) => number, better: 'higher' | 'lower') => `${(better === 'higher' ? f('ours') / f('floor') : f('floor') / f('ours')).toFixed(2)}×`;
const ratio = (f: (n: string) => number, better: 'higher' | 'lower') =>
  base ? `${(better === 'higher' ? f('ours') / f(base) : f(base) / f('ours')).toFixed(2)}×` : '';
const rps = (n: string) => multi.get(n)!.requests.average;
const p50 = (n: string) => single.get(n)!.latency.p50;
const errs = (n: string) => single.get(n)!.non2xx + single.get(n)!.errors + multi.get(n)!.non2xx + multi.get(n)!.errors;

console.log(`node flags: ours ${[...Object.entries(IMAGE_ENV).map(([k, v]) => `${k}=${v}`), ...NODE_FLAGS].join(' ') || '(none)'}${BASELINE ? `; baseline ${BASELINE_FLAGS.join(' ') || '(none)'}` : ''}; ${SECONDS} s per load, the bundles take turns`);
console.log(`\n| measure | ${names.join(' | ')} | ours vs baseline | ours ÷ floor | target |`);
console.log(`|---|${names.map(() => '---:').join('|')}|---:|---:|---:|`);
const row = (label: string, f: (n: string) => string, r: string, target: string, floor = '') =>
  console.log(`| ${label} | ${names.map(f).join(' | ')} | ${r} | ${floor} | ${target} |`);
row('warm, 1 connection: latency p50 / p99 (autocannon, whole ms)', (n) => `${p50(n)} / ${single.get(n)!.latency.p99} ms`, '', '');
const seqP50 = (n: string) => quantile(sequential.get(n)!, 0.5);
row(`warm, 1 connection: latency p50 / p99, ${SEQUENTIAL} sequential keep-alive requests`, (n) => `${seqP50(n).toFixed(2)} / ${quantile(sequential.get(n)!, 0.99).toFixed(2)} ms`, ratio(seqP50, 'lower'), 'p50 ≤ ⅓ baseline', ofFloor(seqP50, 'lower'));
row('warm, 1 connection: requests/s', (n) => single.get(n)!.requests.average.toFixed(0), ratio((n) => single.get(n)!.requests.average, 'higher'), '', ofFloor((n) => single.get(n)!.requests.average, 'higher'));
row(`warm, ${CONNECTIONS} connections: requests/s`, (n) => rps(n).toFixed(0), ratio(rps, 'higher'), '≥ 3× baseline, ≥ 2000', ofFloor(rps, 'higher'));
row(`warm, ${CONNECTIONS} connections: latency p50 / p99`, (n) => `${multi.get(n)!.latency.p50} / ${multi.get(n)!.latency.p99} ms`, '', '');
row('non-2xx / errors', (n) => String(errs(n)), '', '0');
row('server RSS after load / peak', (n) => `${mem.get(n)!.rss.toFixed(0)} / ${mem.get(n)!.peak.toFixed(0)} MiB`, '', 'peak ≤ 128 MiB');
row(`cold first request (3 fresh 20-op logs, median of ${COLD_RUNS})`, (n) => (n === 'ours' ? `${median(cold).toFixed(1)} ms` : '—'), '', '');
