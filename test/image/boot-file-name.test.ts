/**
 * /init's check of the DHCP boot file name (`encumber-boot:IPv4:PORT`). busybox udhcpc exports the BOOTP `file`
 * field raw (any byte but NUL, up to 128), which udhcpc.script keeps verbatim in /run/dhcp-boot-file; a line-based
 * check alone passed a two-line name on its first line, and the second line reached socat's address parser after
 * the port as options the host chose (socat 1.7.4 only warns about the port's trailing "\n"). /init now refuses
 * any character but digits, dots and the colon first.
 *
 * Runs /init's own boot-document functions (extracted from enclave/image/rootfs/init) under the host's sh and
 * socat (the image ships socat 1.7.4.4, enclave/inputs/debian.json), the paths moved into a temporary directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/fixtures.ts';
import { skipUnlessCi } from '../support/tools.ts';
import { typeScriptLoader } from '../run.ts';

// Under CI it must run (.ci/run installs socat).
const SKIP = skipUnlessCi(spawnSync('socat', ['-V'], { encoding: 'utf8' }).status === 0 ? undefined : 'socat is not installed (apt-get install socat)');
const SCRIPT = join(REPO_ROOT, 'enclave', 'image', 'rootfs', 'usr', 'lib', 'encumber', 'boot-input.ts');

function initFunctions(dir: string): string {
  const init = readFileSync(join(REPO_ROOT, 'enclave', 'image', 'rootfs', 'init'), 'utf8');
  const fns = /^BOOT_DOCUMENT=[\s\S]*?^dhcp_boot_document\(\) \{[\s\S]*?^\}$/m.exec(init);
  assert.ok(fns, 'the boot document functions in /init');
  return fns[0]
    .replaceAll('/usr/bin/node /usr/lib/encumber/boot-input.ts', [process.execPath, ...typeScriptLoader(), SCRIPT].join(' '))
    .replaceAll('/run/dhcp-boot-file', join(dir, 'dhcp-boot-file'))
    .replaceAll('/run/encumber', join(dir, 'encumber'));
}

/** dhcp_boot_document with `bootFile` as the lease's boot file name; null when it did not return within `ms`. */
async function runDhcpBootDocument(bootFile: string, ms: number): Promise<string | null> {
  const dir = mkdtempSync(join(tmpdir(), 'encumber-bootfile-'));
  mkdirSync(join(dir, 'encumber'));
  // What etc/udhcpc.script writes: printf '%s\n' "$boot_file".
  writeFileSync(join(dir, 'dhcp-boot-file'), `${bootFile}\n`);
  // A process group of its own, so that socat goes with the shell when the test stops it.
  const child = spawn('/bin/sh', ['-c', `platform=dev\n${initFunctions(dir)}\ndhcp_boot_document; echo "status=$? join=$join"`], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: REPO_ROOT });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const done = await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.on('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
  if (!done) {
    try {
      process.kill(-child.pid!, 'SIGKILL'); // this test's own shell and its socat
    } catch {
      // already gone
    }
    await new Promise((r) => child.once('close', r));
  }
  rmSync(dir, { recursive: true, force: true });
  return done ? out : null;
}

test('a two-line DHCP boot file name is not IPv4:PORT: refused, nothing fetched (the host cannot add socat options)', { skip: SKIP }, async () => {
  const seen: number[] = [];
  const server = createServer((s) => {
    seen.push(s.remotePort!);
    s.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const sourcePort = 40000 + (process.pid % 20000);
  try {
    const out = await runDhcpBootDocument(`encumber-boot:127.0.0.1:${port}\n,sourceport=${sourcePort}`, 20_000);
    assert.ok(out !== null, 'dhcp_boot_document returned');
    // The host-chosen socat option took effect: the connection came from the source port the second line named.
    assert.deepEqual(seen, [], `the guest connected (from port ${seen.join(', ')}; the boot file asked for ${sourcePort}); /init said:\n${out}`);
    assert.match(out, /not starting\nstatus=1/);
  } finally {
    server.close();
  }
});

test('a two-line DHCP boot file name cannot turn the fail-closed fetch into an endless boot (socat `forever`)', { skip: SKIP }, async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const closed = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  // Without the second line: connection refused, "no boot document ... not starting" at once.
  const plain = await runDhcpBootDocument(`encumber-boot:127.0.0.1:${closed}`, 15_000);
  assert.match(plain ?? '', /not starting\nstatus=1/);
  // With it: socat retries the refused connection for ever, and the machine neither starts nor powers off.
  const looped = await runDhcpBootDocument(`encumber-boot:127.0.0.1:${closed}\n,forever,interval=0.2`, 8_000);
  assert.notEqual(looped, null, 'dhcp_boot_document never returned: the boot hangs instead of failing closed');
});
