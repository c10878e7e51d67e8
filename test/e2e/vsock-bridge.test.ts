/**
 * The vsock bridges of enclave/vsock/, run as they are (the same scripts, the
 * same socat relays) with only the vsock ends swapped for UNIX sockets:
 *
 *   inbound   client → host-side.sh (TCP) → "vsock" → enclave-side.sh → a real `encumber serve` (dev, port 0)
 *   outbound  TLS client "inside" → enclave-side.sh (127.0.0.1) → "vsock" → host-side.sh → a loopback TLS
 *             server standing in for plc.directory (self-signed certificate made here with openssl)
 *
 * Checks: health, identity and attestation through the chain; the directory
 * client (fetchAuditLog) reaches the directory through it with TLS validated
 * inside; the host's relay sees only ciphertext (socat -x dump: TLS records,
 * never the request path or the body); a host that swaps in another server is
 * refused by certificate validation; a host that stops relaying blocks, and the
 * client fails closed. Loopback and UNIX sockets only; every process is
 * started in its own process group and killed at the end.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { serve, type RunningServer } from '../../src/cli/commands/serve.ts';
import { verifyNitroDocument } from '../../src/attestation/nitro/index.ts';
import { fetchAuditLog } from '../../src/plc/directory/client.ts';
import { EncumberError } from '../../src/errors.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { hasCommand, skipUnlessCi } from '../support/tools.ts';

const SCRIPTS = join(REPO_ROOT, 'enclave', 'vsock');
const SKIP = skipUnlessCi(
  !hasCommand('socat', '-V')
    ? 'socat is not installed (apt-get install socat; .ci/run installs it)'
    : !hasCommand('openssl', 'version')
      ? 'openssl is not installed (needed to make the test certificate)'
      : null,
);

const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const MARKER = 'SECRET-BODY-MARKER-7f3a9c';
const quietIo: CliIo = { out: () => {}, err: () => {}, readInput: async () => '' };

let dir: string;
let server: RunningServer;
const procs: Script[] = [];
const tls: HttpsServer[] = [];
let cert: { key: string; cert: string };
const directoryPaths: string[] = [];
let ports: { hostHttp: number; enclaveTls: number; enclaveTlsForged: number; directory: number; forger: number };
let hostOut: Script;

interface Script {
  proc: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** Run one of the bridge scripts in its own process group. */
function startScript(name: 'host-side.sh' | 'enclave-side.sh', env: Record<string, string>): Script {
  const proc = spawn('sh', [join(SCRIPTS, name)], {
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString('latin1')));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const script: Script = {
    proc,
    stderr: () => err,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const group = -proc.pid!;
      try {
        process.kill(group, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(group, 'SIGKILL');
        } catch {}
      }, 2000);
      await exited;
      clearTimeout(timer);
      // Relays of open connections belong to the same group: make sure none is left.
      try {
        process.kill(group, 'SIGKILL');
      } catch {}
    },
  };
  procs.push(script);
  return script;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ port, host: '127.0.0.1' }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function makeCert(name: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const crt = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=plc.directory', '-addext', 'subjectAltName=DNS:plc.directory'], { stdio: 'ignore' });
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(crt, 'utf8') };
}

async function tlsServer(pair: { key: string; cert: string }, port: number, onPath: (p: string) => void): Promise<HttpsServer> {
  const s = createHttpsServer({ key: pair.key, cert: pair.cert }, (req, res) => {
    onPath(req.url ?? '');
    const body = JSON.stringify([{ did: DID, marker: MARKER, operation: { type: 'plc_operation' } }]);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', () => r()));
  tls.push(s);
  return s;
}

/**
 * The program's HTTPS client as it is inside the enclave: plc.directory resolves
 * to 127.0.0.1 (/etc/hosts), the local end of the outbound bridge; TLS names
 * plc.directory and is validated against `ca` (in the enclave: Node's CA store).
 */
function enclaveFetch(ca: string, localPort: number): typeof fetch {
  const lookup: LookupFunction = (hostname, options, callback) => {
    if (hostname !== 'plc.directory') return callback(new Error(`no DNS inside the enclave for ${hostname}`), '', 4);
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
    callback(null, '127.0.0.1', 4);
  };
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(
        url,
        { method: init?.method ?? 'GET', port: localPort, ca, lookup, agent: false, headers: init?.headers as Record<string, string>, ...(init?.signal ? { signal: init.signal } : {}) },
        (res) => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          resolve(new Response(Readable.toWeb(res) as ReadableStream, { status: res.statusCode ?? 0, headers }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }) as typeof fetch;
}

/** socat -x: "> date length=N from=.. to=.." then a line of hex bytes; '>' is left → right. */
function parseDump(text: string): { toRight: Buffer; toLeft: Buffer } {
  const parts: Record<'>' | '<', Buffer[]> = { '>': [], '<': [] };
  let direction: '>' | '<' | null = null;
  for (const line of text.split('\n')) {
    if (/^[<>] \d{4}\/\d\d\/\d\d /.test(line)) direction = line[0] as '>' | '<';
    else if (direction && /^( [0-9a-f]{2})+\s*$/.test(line)) parts[direction].push(Buffer.from(line.replace(/\s+/g, ''), 'hex'));
    else direction = null;
  }
  return { toRight: Buffer.concat(parts['>']), toLeft: Buffer.concat(parts['<']) };
}

before(async () => {
  if (SKIP) return;
  dir = mkdtempSync(join(tmpdir(), 'encumber-vsock-'));
  ports = { hostHttp: await freePort(), enclaveTls: await freePort(), enclaveTlsForged: await freePort(), directory: await freePort(), forger: await freePort() };
  server = await serve({ port: '0', host: '127.0.0.1', platform: 'dev', dataDir: join(dir, 'data'), quiet: true }, quietIo);
  const serverPort = Number(new URL(server.url).port);

  // Inbound. The enclave side first, then the host side, each waited for.
  const enclaveHttpVsock = join(dir, 'vsock-enclave-8080.sock');
  startScript('enclave-side.sh', { BRIDGES: 'inbound', NET_SETUP: '0', SERVE_PORT: String(serverPort), FROM_HOST: `UNIX-LISTEN:${enclaveHttpVsock},fork,unlink-early` });
  await until('the enclave inbound bridge', () => existsSync(enclaveHttpVsock));
  startScript('host-side.sh', { BRIDGES: 'inbound', LISTEN_ADDR: '127.0.0.1', HTTP_PORT: String(ports.hostHttp), TO_ENCLAVE: `UNIX-CONNECT:${enclaveHttpVsock}` });
  await until('the host inbound bridge', () => listening(ports.hostHttp));

  // Outbound, to the stand-in directory; the host relay dumps every byte it moves (-x).
  cert = makeCert('directory');
  await tlsServer(cert, ports.directory, (p) => directoryPaths.push(p));
  const proxyVsock = join(dir, 'vsock-host-8001.sock');
  hostOut = startScript('host-side.sh', {
    BRIDGES: 'outbound',
    OUTBOUND: 'socat',
    SOCAT_OPTS: '-x',
    FROM_ENCLAVE: `UNIX-LISTEN:${proxyVsock},fork,unlink-early`,
    DIRECTORY_HOST: '127.0.0.1',
    DIRECTORY_PORT: String(ports.directory),
  });
  await until('the host outbound bridge', () => existsSync(proxyVsock));
  startScript('enclave-side.sh', { BRIDGES: 'outbound', NET_SETUP: '0', DIRECTORY_LOCAL_PORT: String(ports.enclaveTls), TO_HOST: `UNIX-CONNECT:${proxyVsock}` });
  await until('the enclave outbound bridge', () => listening(ports.enclaveTls));
});

after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const s of tls) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the scripts default to the vsock addresses the deployment doc names', { skip: SKIP }, () => {
  const dry = (script: string, env: Record<string, string>) =>
    execFileSync('sh', [join(SCRIPTS, script)], { env: { ...process.env, DRY_RUN: '1', ...env }, encoding: 'utf8' });
  assert.equal(
    dry('host-side.sh', { ENCLAVE_CID: '16' }),
    'inbound: socat TCP-LISTEN:8080,bind=0.0.0.0,fork,reuseaddr VSOCK-CONNECT:16:8080\n' +
      `outbound: vsock-proxy 8001 plc.directory 443 --config ${join(SCRIPTS, 'vsock-proxy.yaml')}\n`,
  );
  assert.equal(
    dry('enclave-side.sh', {}),
    'inbound: socat VSOCK-LISTEN:8080,fork,reuseaddr TCP:127.0.0.1:8080\noutbound: socat TCP-LISTEN:443,bind=127.0.0.1,fork,reuseaddr VSOCK-CONNECT:3:8001\n',
  );
  assert.match(dry('host-side.sh', { ENCLAVE_CID: '16', OUTBOUND: 'socat' }), /outbound: socat VSOCK-LISTEN:8001,fork,reuseaddr TCP:plc\.directory:443\n$/);
  // Without a CID the host side refuses to guess.
  assert.equal(spawnSync('sh', [join(SCRIPTS, 'host-side.sh')], { env: { ...process.env, DRY_RUN: '1', ENCLAVE_CID: '' } }).status, 2);
  assert.match(readFileSync(join(SCRIPTS, 'vsock-proxy.yaml'), 'utf8'), /^allowlist:\n- \{address: plc\.directory, port: 443\}\n$/m);
  assert.match(readFileSync(join(SCRIPTS, 'hosts'), 'utf8'), /^127\.0\.0\.1 plc\.directory$/m);
});

test('inbound: health, identity and a verifiable attestation through host bridge → vsock → enclave bridge', { skip: SKIP, timeout: 30_000 }, async () => {
  const via = `http://127.0.0.1:${ports.hostHttp}`;
  const health = await fetch(`${via}/xrpc/_health`, { signal: AbortSignal.timeout(5000) });
  assert.equal(health.status, 200);
  await health.arrayBuffer();

  const direct = await (await fetch(`${server.url}/xrpc/dev.encumber.getIdentity`)).json();
  const bridged = await fetch(`${via}/xrpc/dev.encumber.getIdentity`, { signal: AbortSignal.timeout(5000) });
  assert.equal(bridged.status, 200);
  const identity = (await bridged.json()) as Record<string, unknown>;
  assert.deepEqual(identity, direct);
  assert.equal(identity.platform, 'dev');

  const nonce = 'c0ffee0123456789';
  const att = (await (await fetch(`${via}/xrpc/dev.encumber.getAttestation?nonce=${nonce}`, { signal: AbortSignal.timeout(5000) })).json()) as {
    evidence: { $bytes: string };
    bindingCid: string;
  };
  assert.equal(att.bindingCid, identity.bindingCid);
  const verdict = verifyNitroDocument(new Uint8Array(Buffer.from(att.evidence.$bytes, 'base64')), {
    trustRoots: readFileSync(join(dir, 'data', 'dev-root.pem'), 'utf8'),
    at: new Date(),
    expectedNonce: new Uint8Array(Buffer.from(nonce, 'hex')),
  });
  assert.ok(verdict.ok, verdict.ok ? '' : verdict.error.message);

  // Concurrent requests each get their own relay.
  const many = await Promise.all(Array.from({ length: 8 }, () => fetch(`${via}/xrpc/_health`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status)));
  assert.deepEqual(many, Array(8).fill(200));
});

test('outbound: the directory client reaches "plc.directory" through the chain; TLS ends inside; the host relays ciphertext only', { skip: SKIP, timeout: 30_000 }, async () => {
  const log = await fetchAuditLog('https://plc.directory', DID, { fetch: enclaveFetch(cert.cert, ports.enclaveTls) });
  assert.deepEqual(log, [{ did: DID, marker: MARKER, operation: { type: 'plc_operation' } }]);
  assert.deepEqual(directoryPaths, [`/${encodeURIComponent(DID)}/log/audit`]);

  await until('the relay dump', () => parseDump(hostOut.stderr()).toLeft.length > 0, 5000);
  const { toRight, toLeft } = parseDump(hostOut.stderr());
  // What the host saw enclave → directory: a TLS handshake record first (ClientHello), ...
  assert.equal(toRight[0], 0x16, 'TLS handshake record');
  assert.equal(toRight[1], 0x03);
  assert.equal(toLeft[0], 0x16, 'ServerHello');
  // ... the server name in the clear (SNI: the host learns which host, as it does from the allow-list) ...
  assert.ok(toRight.includes(Buffer.from('plc.directory')));
  // ... and neither the request nor the answer.
  for (const secret of ['GET ', 'log/audit', 'ewvi7nxzyoun6zhxrhs64oiz', MARKER, 'application/json']) {
    assert.ok(!toRight.includes(Buffer.from(secret)), `host saw "${secret}" going out`);
    assert.ok(!toLeft.includes(Buffer.from(secret)), `host saw "${secret}" coming back`);
  }
});

test('outbound: a host that swaps in its own server is refused by certificate validation (it can block, not forge)', { skip: SKIP, timeout: 30_000 }, async () => {
  const forged = makeCert('forger'); // also CN=plc.directory, but not the one the enclave trusts
  const forgerPaths: string[] = [];
  await tlsServer(forged, ports.forger, (p) => forgerPaths.push(p));
  const vsock = join(dir, 'vsock-host-8002.sock');
  startScript('host-side.sh', { BRIDGES: 'outbound', OUTBOUND: 'socat', FROM_ENCLAVE: `UNIX-LISTEN:${vsock},fork,unlink-early`, DIRECTORY_HOST: '127.0.0.1', DIRECTORY_PORT: String(ports.forger) });
  await until('the forging host bridge', () => existsSync(vsock));
  startScript('enclave-side.sh', { BRIDGES: 'outbound', NET_SETUP: '0', DIRECTORY_LOCAL_PORT: String(ports.enclaveTlsForged), TO_HOST: `UNIX-CONNECT:${vsock}` });
  await until('the enclave bridge', () => listening(ports.enclaveTlsForged));

  await assert.rejects(fetchAuditLog('https://plc.directory', DID, { fetch: enclaveFetch(cert.cert, ports.enclaveTlsForged) }), (e: unknown) => {
    assert.ok(e instanceof EncumberError);
    assert.equal(e.code, 'DirectoryUnavailable');
    assert.match(String((e.cause as { code?: string })?.code), /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    return true;
  });
  assert.deepEqual(forgerPaths, [], 'the forger never got a request');

  // And a host that stops relaying only blocks: the client fails closed.
  await hostOut.stop();
  await assert.rejects(
    fetchAuditLog('https://plc.directory', DID, { fetch: enclaveFetch(cert.cert, ports.enclaveTls), timeoutMs: 3000 }),
    (e: unknown) => e instanceof EncumberError && e.code === 'DirectoryUnavailable',
  );
});
