/**
 * Shared by the signRecord benchmarks (sign-record.ts, soak.ts): the 2-of-3
 * world with 20-op PLC logs, the enclave bundle started as its own process,
 * one request, the process's RSS.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateMemberKey, type MemberKey } from '../src/member/keys.ts';
import { addKeyOp, auditEntry, createMemberDid } from '../src/member/plc-ops.ts';
import { cosignDraft, type Draft } from '../src/member/cosign.ts';
import type { PlcAuditEntry, PlcOperation } from '../src/plc/types.ts';
import { policyDocument } from '../src/policy/policy.ts';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const BUNDLE = join(ROOT, 'dist', 'encumber-enclave.mjs');

/** Build today's enclave bundle (deterministic esbuild, about a second). */
export function buildBundle(): string {
  execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'enclave', 'build-bundle.ts')], { cwd: ROOT, stdio: 'inherit' });
  return BUNDLE;
}

/** The flags the enclave image runs node with (enclave/init): a smaller young generation keeps RSS down. */
export function nodeFlags(argv: readonly string[] = process.argv): string[] {
  return (argv.find((a) => a.startsWith('--node-flags='))?.slice('--node-flags='.length) ?? '--max-semi-space-size=4').split(' ').filter(Boolean);
}

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

/** 2-of-3 policy; a draft co-signed by two members, their 20-op logs supplied in the request. */
export async function world(ops: number): Promise<{ policy: unknown; body: string }> {
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

export interface Server {
  url: string;
  child: ChildProcess;
}

/** Start an enclave bundle on a loopback port with its own data directory. */
export async function startServer(bundle: string, policy: unknown, flags: string[]): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'encumber-bench-'));
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  const child = spawn(process.execPath, [...flags, bundle, '--policy', join(dir, 'policy.json'), '--port', '0', '--quiet', '--data-dir', join(dir, 'data')], {
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

/** Current and peak resident set of a process, MiB (Linux /proc). */
export function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

export const SIGN_RECORD = '/xrpc/dev.encumber.signRecord';

/** One signRecord request; throws on anything but 200. Returns the latency in ms. */
export async function post(url: string, body: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}${SIGN_RECORD}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`signRecord answered ${res.status}`);
  return performance.now() - t0;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/**
 * One signRecord request over a kept-alive node:http connection (much less
 * client overhead than fetch, so the latency is mostly the server's). Throws
 * on anything but 200. Returns the latency in ms.
 */
export function postKeepAlive(url: string, body: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((ok, fail) => {
    const req = request(`${url}${SIGN_RECORD}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => (res.statusCode === 200 ? ok(performance.now() - t0) : fail(new Error(`signRecord answered ${res.statusCode}`))));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}
