/**
 * signRecord end to end over loopback, 2-of-3 policy, each member with a
 * 20-operation PLC log (supplied mode). The service runs in its own process
 * (the enclave bundle, dist/encumber-enclave.mjs), the load generator
 * (autocannon) in this one.
 *
 *   warm: the same co-signed draft again and again (PLC checkpoints cached)
 *   cold: first request for three fresh 20-op logs (a fresh server each time)
 *
 * Usage: node --import tsx bench/sign-record.ts [--seconds=10] [--connections=8] [--cold=5]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { generateMemberKey, type MemberKey } from '../src/member/keys.ts';
import { addKeyOp, auditEntry, createMemberDid } from '../src/member/plc-ops.ts';
import { cosignDraft, type Draft } from '../src/member/cosign.ts';
import type { PlcAuditEntry, PlcOperation } from '../src/plc/types.ts';
import { policyDocument } from '../src/policy/policy.ts';

const arg = (name: string, dflt: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const SECONDS = arg('seconds', 10);
const CONNECTIONS = arg('connections', 8);
const COLD_RUNS = arg('cold', 5);
/** The flags the enclave image runs node with (enclave/init): a smaller young generation keeps RSS down. */
const NODE_FLAGS = (process.argv.find((a) => a.startsWith('--node-flags='))?.slice('--node-flags='.length) ?? '--max-semi-space-size=4')
  .split(' ')
  .filter(Boolean);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'encumber-enclave.mjs');
// Measure what runs in the enclave: the esbuild bundle (built here, deterministic).
execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'enclave', 'build-bundle.ts')], { cwd: ROOT, stdio: 'inherit' });

interface Member {
  did: string;
  key: MemberKey;
  log: PlcAuditEntry[];
}

/** A member whose log has `ops` operations: genesis, then key rotations of #atproto. */
async function member(name: string, ops: number): Promise<Member> {
  const rotationKey = generateMemberKey();
  let key = generateMemberKey();
  const { did, op } = await createMemberDid({ rotationKey, signingKey: key, handle: `${name}.bench.test`, pds: 'https://pds.bench.test' });
  let t = Date.parse('2026-01-01T00:00:00.000Z');
  const log = [auditEntry(did, op, new Date(t))];
  let head: PlcOperation = op;
  for (let i = 1; i < ops; i++) {
    key = generateMemberKey();
    head = await addKeyOp(head, rotationKey, 'atproto', key.did);
    t += 60_000;
    log.push(auditEntry(did, head, new Date(t)));
  }
  return { did, key, log };
}

async function world(ops: number) {
  const members = await Promise.all(['a', 'b', 'c'].map((n) => member(n, ops)));
  const org = await member('org', 1);
  const policy = policyDocument({ repository: org.did, signers: members.map((m) => m.did), threshold: 2 });
  let draft: Draft = {
    repository: org.did,
    collection: 'app.bsky.feed.post',
    record: { $type: 'app.bsky.feed.post', text: 'benchmark post', createdAt: '2026-01-01T00:00:00.000Z' },
    cosignatures: [],
  };
  for (const m of members.slice(0, 2)) draft = cosignDraft(draft, m.key, m.did).draft;
  draft = { ...draft, plcLogs: Object.fromEntries(members.slice(0, 2).map((m) => [m.did, m.log])) };
  return { policy, body: JSON.stringify(draft) };
}

async function startServer(policy: unknown): Promise<{ url: string; child: ChildProcess }> {
  const dir = mkdtempSync(join(tmpdir(), 'encumber-bench-'));
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  const child = spawn(process.execPath, [...NODE_FLAGS, BUNDLE, '--policy', join(dir, 'policy.json'), '--port', '0', '--quiet', '--data-dir', join(dir, 'data')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise<string>((ok, fail) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /serving on (http:\/\/\S+)/.exec(err);
      if (m) ok(m[1]!);
    });
    child.once('exit', (c) => fail(new Error(`server exited ${c}: ${err}`)));
  });
  return { url, child };
}

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

async function post(url: string, body: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/xrpc/dev.encumber.signRecord`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`signRecord answered ${res.status}`);
  return performance.now() - t0;
}

const w = await world(20);
console.log(`draft body: ${w.body.length} bytes (2 co-signatures, 2 × 20-op PLC logs)`);

// Cold: fresh server and fresh logs each run; first request only.
const cold: number[] = [];
for (let i = 0; i < COLD_RUNS; i++) {
  const fresh = i === 0 ? w : await world(20);
  const s = await startServer(fresh.policy);
  await fetch(`${s.url}/xrpc/_health`);
  cold.push(await post(s.url, fresh.body));
  s.child.kill();
}

// Warm: one server, same draft, under load.
const s = await startServer(w.policy);
for (let i = 0; i < 50; i++) await post(s.url, w.body);
const single = await autocannon({
  url: `${s.url}/xrpc/dev.encumber.signRecord`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: w.body,
  connections: 1,
  duration: SECONDS,
});
const result = await autocannon({
  url: `${s.url}/xrpc/dev.encumber.signRecord`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: w.body,
  connections: CONNECTIONS,
  duration: SECONDS,
});
const mem = rssMiB(s.child.pid!);
s.child.kill();

const non2xx = result.non2xx + result.errors + single.non2xx + single.errors;
console.log(`node flags: ${NODE_FLAGS.join(' ') || '(none)'}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`\n| measure | value | target |`);
console.log(`|---|---:|---:|`);
console.log(`| warm, 1 connection: latency p50 / p99 | ${single.latency.p50} / ${single.latency.p99} ms | p50 ≤ 2 ms |`);
console.log(`| warm, 1 connection: requests/s | ${single.requests.average.toFixed(0)} | |`);
console.log(`| warm, ${CONNECTIONS} connections: requests/s | ${result.requests.average.toFixed(0)} | ≥ 1500 |`);
console.log(`| warm, ${CONNECTIONS} connections: latency p50 / p99 | ${result.latency.p50} / ${result.latency.p99} ms | |`);
console.log(`| non-2xx / errors | ${non2xx} | 0 |`);
console.log(`| cold first request (3 fresh 20-op logs, median of ${COLD_RUNS}) | ${median(cold).toFixed(1)} ms | |`);
console.log(`| server RSS after load / peak | ${mem.rss.toFixed(0)} / ${mem.peak.toFixed(0)} MiB | ≤ 128 MiB |`);
