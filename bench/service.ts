/**
 * Shared by the signRecord benchmarks (sign-record.ts, soak.ts): the 2-of-3
 * world with 20-op PLC logs, the enclave bundle started as its own process,
 * one request, the process's RSS.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageNodeEnv, imageNodeFlags } from '../enclave/image/node-flags.ts';

/** The allocator environment the image's init exports (MALLOC_ARENA_MAX). */
export const IMAGE_ENV: Record<string, string> = imageNodeEnv();
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

/** The flags the enclave image runs node with (enclave/image/rootfs/init), unless `--node-flags=` says otherwise. */
export function nodeFlags(argv: readonly string[] = process.argv): string[] {
  const given = argv.find((a) => a.startsWith('--node-flags='))?.slice('--node-flags='.length);
  return given === undefined ? imageNodeFlags() : given.split(' ').filter(Boolean);
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

/** Start an enclave bundle on a loopback port with its own data directory; `env` is added to this process's. */
export async function startServer(bundle: string, policy: unknown, flags: string[], env: Record<string, string> = {}): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'encumber-bench-'));
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  const child = spawn(process.execPath, [...flags, bundle, '--policy', join(dir, 'policy.json'), '--port', '0', '--quiet', '--data-dir', join(dir, 'data')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
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

/**
 * Sequential signRecord requests over one kept-alive TCP connection, the
 * request bytes built once and the response read by hand (status line and
 * Content-Length only): next to no client work, so the latency is the
 * server's and the loopback's. Each call throws on anything but 200 and
 * returns the latency in ms.
 */
export async function keepAliveClient(url: string, body: string): Promise<{ post(): Promise<number>; close(): void }> {
  const { hostname, port } = new URL(url);
  const payload = Buffer.from(body);
  const head = Buffer.from(`POST ${SIGN_RECORD} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\ncontent-length: ${payload.length}\r\n\r\n`);
  const wire = Buffer.concat([head, payload]);
  const socket = connect(Number(port), hostname);
  socket.setNoDelay(true);
  await once(socket, 'connect');
  let pending: { t0: number; ok: (ms: number) => void; fail: (e: Error) => void } | undefined;
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0 || !pending) return;
    const header = buf.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(header)?.[1] ?? NaN);
    if (!(length >= 0)) return pending.fail(new Error('response without Content-Length'));
    if (buf.length < end + 4 + length) return;
    const status = Number(header.slice(9, 12));
    buf = buf.subarray(end + 4 + length);
    const p = pending;
    pending = undefined;
    if (status === 200) p.ok(performance.now() - p.t0);
    else p.fail(new Error(`signRecord answered ${status}`));
  });
  socket.on('error', (e) => pending?.fail(e));
  return {
    post: () =>
      new Promise<number>((ok, fail) => {
        pending = { t0: performance.now(), ok, fail };
        socket.write(wire);
      }),
    close: () => socket.destroy(),
  };
}
