/**
 * Real components for the live-directory e2e tests, on loopback, torn down at
 * the end: a throwaway PostgreSQL cluster (Debian's binaries; initdb in a temp
 * directory, pg_ctl on a free loopback port) and the real PLC directory server
 * from npm (@did-plc/server, configured with DATABASE_URL and PORT).
 *
 * As root, PostgreSQL refuses to run; the cluster then belongs to the
 * `postgres` user (created by the Debian package) and its tools run through
 * `runuser`.
 */
import { skipUnlessCi } from './tools.ts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { cosignDraft, type Draft } from '../../src/member/cosign.ts';
import type { MemberKey } from '../../src/member/keys.ts';
import type { PlcAuditEntry } from '../../src/plc/types.ts';

const PLC_SERVER_BIN = fileURLToPath(new URL('../../node_modules/@did-plc/server/dist/bin.js', import.meta.url));

/** The directory holding initdb and pg_ctl, or undefined when PostgreSQL is not installed. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

/** Why the live tests cannot run here, or undefined when they can. */
/** The live-directory tests' `skip`: false when PostgreSQL and the server are here; under CI a missing one fails. */
export function liveDirectorySkip(): string | false {
  return skipUnlessCi(liveDirectoryUnavailable());
}

export function liveDirectoryUnavailable(): string | undefined {
  if (!findPostgresBin()) return 'PostgreSQL is not installed (apt-get install postgresql; .ci/run does this)';
  if (!existsSync(PLC_SERVER_BIN)) return '@did-plc/server is not installed (npm ci)';
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root without a postgres user';
  return undefined;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((ok) => srv.close(() => ok()));
  return port;
}

function asPostgresUser(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

function run(cmd: string, args: string[], what: string, cwd?: string): void {
  const [c, a] = asPostgresUser(cmd, args);
  // cwd: a directory the postgres user can enter (a clone under /root is not one).
  const r = spawnSync(c, a, { encoding: 'utf8', timeout: 60_000, ...(cwd ? { cwd } : {}) });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
}

export interface Postgres {
  url: string;
  /** Create another database in the cluster (e.g. for a second directory); returns its URL. */
  createDatabase(name: string): string;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<Postgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'encumber-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], 'initdb', dir);
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off`;
  run(join(bin, 'pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start'], 'pg_ctl start', dir);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    createDatabase(name: string) {
      if (!/^[a-z][a-z0-9_]{0,30}$/.test(name)) throw new Error(`bad database name ${name}`);
      run(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name], 'createdb', dir);
      return `postgresql://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop'], 'pg_ctl stop', dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface PlcDirectory {
  url: string;
  port: number;
  /** Stop the server (the database stays); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Start the real PLC directory server against `databaseUrl` on a loopback port. */
export async function startPlcDirectory(databaseUrl: string, port?: number): Promise<PlcDirectory> {
  const p = port ?? (await freePort());
  const url = `http://127.0.0.1:${p}`;
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    output = '';
    child = spawn(process.execPath, [PLC_SERVER_BIN], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, PORT: String(p), LOG_ENABLED: 'false', NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`PLC server exited (${child.exitCode}): ${output}`);
      const ok = await fetch(`${url}/_health`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`PLC server did not answer on ${url} within 30 s: ${output}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((ok) => {
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      c.once('exit', () => (clearTimeout(t), ok()));
      c.kill('SIGTERM');
    });
  };
  await start();
  return { url, port: p, stop, start };
}

/** GET {directory}/{did}/log/audit, which must answer 200. */
export async function auditLogFrom(directory: string, did: string): Promise<PlcAuditEntry[]> {
  const res = await fetch(`${directory}/${encodeURIComponent(did)}/log/audit`);
  assert.equal(res.status, 200);
  return (await res.json()) as PlcAuditEntry[];
}

export const LIVE_ORG = 'did:plc:orgorgorgorgorgorgorgorg';
export const LIVE_COLLECTION = 'app.bsky.feed.post';

/** A post draft for the live tests' org. */
export function liveDraft(text: string): Draft {
  return { repository: LIVE_ORG, collection: LIVE_COLLECTION, record: { $type: LIVE_COLLECTION, text, createdAt: new Date().toISOString() }, cosignatures: [] };
}

/** Co-sign `start` with each [did, key] and POST it to the app's signRecord. */
export async function signDraft(app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }, start: Draft, ...signers: [string, MemberKey][]) {
  let d = start;
  for (const [did, key] of signers) d = cosignDraft(d, key, did).draft;
  const res = await app.request('/xrpc/dev.encumber.signRecord', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(d),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** POST an operation to a live directory (`POST /:did`); anything but 200 fails the test with the directory's answer. */
export async function postOperation(directory: string, did: string, op: unknown): Promise<void> {
  const res = await fetch(`${directory}/${encodeURIComponent(did)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(op),
  });
  assert.equal(res.status, 200, await res.text());
}

/**
 * One PostgreSQL and one PLC directory for a test file: started by a `before` hook (unless `skip`), stopped by an
 * `after` hook. `directory()` is the running directory (inside tests only).
 */
export function liveDirectoryForFile(skip: string | false): { directory(): PlcDirectory } {
  let pg: Postgres | undefined;
  let directory: PlcDirectory | undefined;
  before(async () => {
    if (skip) return;
    pg = await startPostgres();
    directory = await startPlcDirectory(pg.url);
  }, { timeout: 120_000 });
  after(async () => {
    await directory?.stop().catch(() => {});
    await pg?.stop().catch(() => {});
  });
  return {
    directory: () => {
      if (!directory) throw new Error('the live directory is not running (skipped, or used outside a test)');
      return directory;
    },
  };
}
