/**
 * CPU profile of the warm signRecord path: the enclave bundle runs under
 * `node --cpu-prof` while autocannon drives the same 2-of-3 co-signed request
 * (20-op supplied logs, checkpoints warm) as bench/sign-record.ts; the profile
 * is then summed by self time per bundled module (esbuild's `// path` markers
 * in the unminified bundle) and per category.
 *
 *   node --import tsx bench/profile-sign-record.ts [--seconds=10] [--connections=8] [--top=25] [--out=DIR]
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { imageNodeFlags } from '../enclave/image/node-flags.ts';
import { buildBundle, IMAGE_ENV, post, SIGN_RECORD, startServer, world } from './service.ts';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const SECONDS = Number(arg('seconds', '10'));
const CONNECTIONS = Number(arg('connections', '8'));
const TOP = Number(arg('top', '25'));
const OUT = arg('out', '') || mkdtempSync(join(tmpdir(), 'encumber-prof-'));

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** Module of each bundle line, from esbuild's `// node_modules/x/y.js` / `// src/a/b.ts` comments. */
function moduleIndex(bundle: string): (line: number) => string {
  const starts: { line: number; path: string }[] = [];
  bundle.split('\n').forEach((l, i) => {
    const m = /^\/\/ ((?:node_modules|src)\/\S+)$/.exec(l);
    if (m) starts.push({ line: i, path: m[1]! });
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let best = '(bundle prelude)';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]!.line <= line) {
        best = starts[mid]!.path;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  };
}

/** A module path or V8 pseudo-frame → the categories the performance notes use. */
export function category(where: string, fn: string): string {
  if (where === '(native)') {
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(idle)' || fn === '(program)') return fn;
    if (/^(parse|stringify)$/.test(fn)) return 'JSON parse/stringify (V8)';
    return 'V8/native builtins';
  }
  if (where.startsWith('node:') || where === '(node internals)') return 'Node internals (http, streams, crypto bindings)';
  const rules: [RegExp, string][] = [
    [/node_modules\/zod\//, 'zod'],
    [/node_modules\/(@ipld\/dag-cbor|cborg)\//, 'DAG-CBOR'],
    [/node_modules\/multiformats\//, 'CIDs / multiformats'],
    [/node_modules\/(hono|@hono)\//, 'hono'],
    [/node_modules\/(@noble|secp256k1|@scure)\/|src\/crypto\//, 'crypto (JS side)'],
    [/src\/plc\//, 'PLC verification / checkpoints'],
    [/src\/data\//, 'data model (validation, proto-key scan, encoding)'],
    [/src\/(policy|verifier)\//, 'policy / co-signature checks'],
    [/src\/enclave\//, 'enclave service'],
    [/src\/(server|http)\//, 'server (routes, schemas, JSON)'],
  ];
  for (const [re, name] of rules) if (re.test(where)) return name;
  return `other: ${where}`;
}

const bundle = buildBundle();
const moduleAt = moduleIndex(readFileSync(bundle, 'utf8'));
const preload = fileURLToPath(new URL('exit-on-sigterm.mjs', import.meta.url));
const w = await world(20);
const server = await startServer(bundle, w.policy, [...imageNodeFlags(), '--cpu-prof', `--cpu-prof-dir=${OUT}`, '--import', preload], IMAGE_ENV);
for (let i = 0; i < 50; i++) await post(server.url, w.body);
const r = await autocannon({
  url: `${server.url}${SIGN_RECORD}`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: w.body,
  connections: CONNECTIONS,
  duration: SECONDS,
});
const exited = once(server.child, 'exit');
server.child.kill('SIGTERM');
await exited;
const file = readdirSync(OUT).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${OUT}`);
const profile = JSON.parse(readFileSync(join(OUT, file), 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const where = (n: Node) => {
  const u = n.callFrame.url;
  if (!u) return '(native)';
  if (u.startsWith('node:')) return u;
  if (u.endsWith('encumber-enclave.mjs')) return moduleAt(n.callFrame.lineNumber);
  return u.includes('node_modules/') ? `node_modules/${u.split('node_modules/').pop()}` : u;
};
const fnTotals = new Map<string, number>();
const catTotals = new Map<string, number>();
let total = 0;
let idle = 0;
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const w2 = where(n);
  const fn = n.callFrame.functionName || '(anonymous)';
  const cat = category(w2, fn);
  if (cat === '(idle)') {
    idle += us;
    continue;
  }
  total += us;
  fnTotals.set(`${fn} — ${w2}`, (fnTotals.get(`${fn} — ${w2}`) ?? 0) + us);
  catTotals.set(cat, (catTotals.get(cat) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1)} %`;
console.log(`profile: ${join(OUT, file)}; ${r.requests.average.toFixed(0)} req/s during the profile, ${CONNECTIONS} connections, ${SECONDS} s`);
console.log(`busy ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s; shares below are of busy time\n`);
console.log('| category | self time |\n|---|---:|');
for (const [c, us] of [...catTotals].sort((a, b) => b[1] - a[1])) console.log(`| ${c} | ${pct(us)} |`);
console.log(`\n| top functions (self time) | share |\n|---|---:|`);
for (const [f, us] of [...fnTotals].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${f} | ${pct(us)} |`);
