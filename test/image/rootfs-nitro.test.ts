/**
 * What the Nitro platform needs is in the image, where the program looks for it:
 *
 *   - koffi and its linux-x64 platform package in the boot ramdisk under
 *     /node_modules, the bytes pinned in enclave/inputs/npm-files.json; the
 *     bundle at /encumber/encumber-enclave.mjs resolves 'koffi' there (Node's
 *     own resolution, run against the unpacked image) and loads the pinned
 *     linux_x64/koffi.node;
 *   - socat with VSOCK support and every library it links, in the image: run
 *     inside the unpacked image with chroot (as root, or in a user namespace),
 *     so nothing comes from the build machine; the koffi load and the
 *     enclave-side script (DRY_RUN) run there too, on the image's node and busybox;
 *   - enclave/vsock/{enclave-side,lib}.sh as they are in the repository;
 *   - /init selects the platform from the kernel command line, and takes the
 *     host's boot document (join URL, dev root) when the host announces one;
 *
 * The unpacked tree is enclave/host/docker-rootfs.ts's, the one enclave/Dockerfile
 * copies; the Dockerfile's CMD names files that are in it.
 *
 * Uses build/out under CI (.ci/run has just built it from this checkout),
 * otherwise builds into a temporary directory.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCpio, type CpioRecord } from '../../enclave/image/cpio.ts';
import { unpackImage } from '../../enclave/host/docker-rootfs.ts';
import { gunzip } from '../../enclave/image/gzip.ts';
import { loadNpmPins, NPM_PREFIX } from '../../enclave/image/npm-files.ts';
import { BOOT_INPUT_SCRIPT, VSOCK_FILES, VSOCK_IMAGE_DIR } from '../../enclave/image/rootfs.ts';
import { createDevRoot } from '../../src/attestation/dev/root.ts';
import type { ImageManifest } from '../../enclave/image/pipeline.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { buildPrerequisiteMissing, runImageBuild, skipUnlessCi } from './build-runner.ts';

const SKIP = skipUnlessCi(buildPrerequisiteMissing());
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let outDir: string;
let tmp: string | undefined;
let boot: Map<string, CpioRecord>;
/** The boot ramdisk and the app ramdisk unpacked together, as the kernel does (and as enclave/Dockerfile copies them). */
let rootDir: string;

/** The absolute path of a host tool (the image's environment below has no /usr/sbin in PATH). */
function hostTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean);
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p)) ?? null;
}

/** A command run inside the unpacked image: chroot as root, else chroot in a user namespace; null when neither works here. */
function inImage(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } | null {
  const base = { encoding: 'utf8' as const, env: { PATH: '/bin:/usr/bin', HOME: '/', ...env }, timeout: 60_000 };
  const chroot = hostTool('chroot');
  const unshare = hostTool('unshare');
  if (!chroot) return null;
  const root = process.getuid?.() === 0;
  if (!root && !unshare) return null;
  const r = root ? spawnSync(chroot, [rootDir, ...args], base) : spawnSync(unshare!, ['-r', chroot, rootDir, ...args], base);
  if (r.error || (r.status !== 0 && /^(unshare|chroot): (cannot change root|unshare failed|.*Operation not permitted)/m.test(r.stderr ?? ''))) return null;
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function chrootUnavailable(what: string): string | false {
  return skipUnlessCi(`cannot chroot into the unpacked image here (not root, no user namespaces) to run ${what}`) || assert.fail(`chroot into the unpacked image failed under CI (${what})`);
}

before(async () => {
  if (SKIP) return;
  tmp = mkdtempSync(join(tmpdir(), 'encumber-rootfs-'));
  outDir = join(REPO_ROOT, 'build', 'out');
  if (!process.env.CI || !existsSync(join(outDir, 'manifest.json'))) {
    outDir = join(tmp, 'out');
    const run = await runImageBuild(REPO_ROOT, ['--out', outDir]);
    assert.equal(run.code, 0, `image build failed:\n${run.stdout}\n${run.stderr}`);
  }
  const bootRecords = readCpio(gunzip(new Uint8Array(readFileSync(join(outDir, 'initramfs-boot.cpio.gz')))));
  const appRecords = readCpio(gunzip(new Uint8Array(readFileSync(join(outDir, 'initramfs-app.cpio.gz')))));
  boot = new Map(bootRecords.map((r) => [r.path, r]));
  // The tree enclave/Dockerfile copies (enclave/host/docker-rootfs.ts): both ramdisks, unpacked in order.
  rootDir = join(tmp, 'root');
  const unpacked = unpackImage(outDir, rootDir);
  assert.equal(unpacked.entries, bootRecords.length + appRecords.length);
  assert.equal(unpacked.skipped, 1, 'dev/console only');
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('koffi and its platform package are in the boot ramdisk, byte for byte the pinned files', { skip: SKIP }, () => {
  const pins = loadNpmPins();
  assert.deepEqual(
    pins.map((p) => p.package),
    ['koffi', '@koromix/koffi-linux-x64', 'secp256k1', 'node-gyp-build'],
  );
  for (const pin of pins) {
    for (const [rel, f] of Object.entries(pin.files)) {
      const path = `${NPM_PREFIX}/${pin.package}/${rel}`;
      const r = boot.get(path);
      assert.ok(r, `${path} is in the boot ramdisk`);
      assert.equal(sha256(r.data), f.sha256, path);
      assert.equal(r.mode, 0o100000 | f.mode, `${path} mode`);
      assert.equal(sha256(r.data), sha256(readFileSync(join(REPO_ROOT, 'node_modules', pin.package, rel))), `${path} = node_modules`);
    }
  }
  assert.ok(boot.has('node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node'), 'the glibc x64 binary');
});

test('the bundle resolves koffi to /node_modules/koffi and loads the pinned linux_x64/koffi.node (Node resolution over the unpacked image)', { skip: SKIP }, () => {
  const bundle = join(rootDir, 'encumber', 'encumber-enclave.mjs');
  assert.ok(existsSync(bundle));
  // src/enclave/nitro/libc.ts: createRequire(import.meta.url)('koffi'), import.meta.url being the bundle's.
  assert.equal(createRequire(bundle).resolve('koffi'), join(rootDir, 'node_modules', 'koffi', 'index.cjs'));
  // Load it in a child (a native addon cannot be unloaded) and list the native module it opened.
  const script = `
    const { createRequire } = require('node:module');
    const koffi = createRequire(process.argv[1])('koffi');
    const natives = Object.keys(require.cache).filter((k) => k.endsWith('.node'));
    console.log(JSON.stringify({ version: koffi.version, natives, getpid: typeof koffi.load('libc.so.6').func('int getpid()') }));`;
  const r = spawnSync(process.execPath, ['-e', script, bundle], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { version: string; natives: string[]; getpid: string };
  assert.equal(got.version, loadNpmPins()[0]!.version);
  assert.deepEqual(got.natives, [join(rootDir, 'node_modules', '@koromix', 'koffi-linux-x64', 'linux_x64', 'koffi.node')]);
  assert.equal(got.getpid, 'function');
});

test('inside the image (chroot): socat runs with VSOCK support on the image\'s own libraries; node loads koffi and calls libc', { skip: SKIP }, (t) => {
  assert.ok(boot.has('usr/bin/socat'), 'usr/bin/socat');
  const v = inImage(['/usr/bin/socat', '-V']);
  if (!v) {
    const why = chrootUnavailable('socat');
    if (why) return t.skip(why);
  }
  assert.equal(v!.status, 0, `socat -V in the image failed (a library missing?):\n${v!.stderr}`);
  assert.match(v!.stdout, /socat version 1\.7\.4/);
  assert.match(v!.stdout, /#define WITH_VSOCK 1/);

  const script = `const k = require('node:module').createRequire('/encumber/encumber-enclave.mjs')('koffi');
    const getpid = k.load('libc.so.6').func('int getpid()');
    console.log(k.version, getpid() === process.pid, Object.keys(require.cache).filter((p) => p.endsWith('.node')).join(','));`;
  const n = inImage(['/usr/bin/node', '-e', script]);
  assert.equal(n?.status, 0, n?.stderr);
  assert.equal(n!.stdout.trim(), `${loadNpmPins()[0]!.version} true /node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node`);
});

test('the enclave side of the vsock bridges is in the image, as in the repository, and runs on its busybox (DRY_RUN); the join bridge on both sides', { skip: SKIP }, (t) => {
  for (const [name, mode] of Object.entries(VSOCK_FILES)) {
    const r = boot.get(`${VSOCK_IMAGE_DIR}/${name}`);
    assert.ok(r, name);
    assert.equal(r.mode, 0o100000 | mode, `${name} mode`);
    assert.deepEqual(Buffer.from(r.data), readFileSync(join(REPO_ROOT, 'enclave', 'vsock', name)), name);
  }
  const d = inImage([`/${VSOCK_IMAGE_DIR}/enclave-side.sh`, '--', '/usr/bin/node', '/encumber/encumber-enclave.mjs', '--platform', 'nitro'], { DRY_RUN: '1' });
  if (!d) {
    const why = chrootUnavailable('enclave-side.sh');
    if (why) return t.skip(why);
  }
  assert.equal(d!.status, 0, d!.stderr);
  assert.deepEqual(d!.stdout.trim().split('\n'), [
    'inbound: socat VSOCK-LISTEN:8080,fork,reuseaddr TCP:127.0.0.1:8080',
    'outbound: socat TCP-LISTEN:443,bind=127.0.0.1,fork,reuseaddr VSOCK-CONNECT:3:8001',
    'program: /usr/bin/node /encumber/encumber-enclave.mjs --platform nitro',
  ]);
  // A joining enclave (/init adds `join` to BRIDGES): its URL http://127.0.0.1:8002 reaches the parent on vsock 8002,
  // which relays to the sender named by JOIN_TO (host-side.sh, required there).
  const j = inImage([`/${VSOCK_IMAGE_DIR}/enclave-side.sh`], { DRY_RUN: '1', BRIDGES: 'inbound outbound join' });
  assert.equal(j?.status, 0, j?.stderr);
  assert.match(j!.stdout, /^join: socat TCP-LISTEN:8002,bind=127\.0\.0\.1,fork,reuseaddr VSOCK-CONNECT:3:8002$/m);
  const host = (env: Record<string, string>) =>
    spawnSync('sh', [join(REPO_ROOT, 'enclave', 'vsock', 'host-side.sh')], { encoding: 'utf8', env: { ...process.env, DRY_RUN: '1', ENCLAVE_CID: '17', ...env } });
  const h = host({ BRIDGES: 'inbound outbound join', JOIN_TO: '10.0.0.5:8080' });
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /^join: socat VSOCK-LISTEN:8002,fork,reuseaddr TCP:10\.0\.0\.5:8080$/m);
  const noTarget = host({ BRIDGES: 'join' });
  assert.equal(noTarget.status, 2);
  assert.match(noTarget.stderr, /set JOIN_TO/);
  assert.doesNotMatch(host({}).stdout, /^join:/m, 'no join bridge unless asked for');
});

test('/init picks the platform from encumber.platform= on the kernel command line (nitro → enclave-side.sh, sev-snp → configfs)', { skip: SKIP }, (t) => {
  const init = Buffer.from(boot.get('init')!.data).toString('utf8');
  assert.match(init, /encumber\.platform=\*\) platform=\$\{word#encumber\.platform=\}/);
  assert.match(init, /\/usr\/lib\/encumber\/vsock\/enclave-side\.sh -- \$NODE/);
  assert.match(init, /--platform nitro --host 127\.0\.0\.1 --port 8080/);
  assert.match(init, /VSOCK-CONNECT:3:9000/);
  assert.match(init, /mount -t configfs configfs \/sys\/kernel\/config/);
  const n = inImage(['/bin/sh', '-n', '/init']);
  if (!n) {
    const why = chrootUnavailable('sh -n /init');
    if (why) return t.skip(why);
  }
  assert.equal(n!.status, 0, `busybox sh -n /init: ${n!.stderr}`);
});

test('/init takes the organisation\'s policy from the host when none is baked in (at most 64 KiB), and never allows the demo policy', { skip: SKIP }, (t) => {
  const init = Buffer.from(boot.get('init')!.data).toString('utf8');
  assert.doesNotMatch(init, /--allow-demo-policy/, 'the release /init never runs the demo policy on hardware');
  assert.match(init, /receive_policy VSOCK-CONNECT:3:9001/, 'nitro: from the parent on vsock port 9001');
  assert.match(init, /receive_policy TCP-LISTEN:9001,reuseaddr/, 'sev-snp: on TCP port 9001');
  // The function itself, run in the image's busybox with the image's socat: the host side serves the file on loopback.
  const fn = /^receive_policy\(\) \{[\s\S]*?^\}$/m.exec(init);
  assert.ok(fn, 'receive_policy in /init');
  const port = 20000 + (process.pid % 20000);
  const script = (file: string) =>
    `mkdir -p /run/encumber /tmp; ${fn[0].replace(/tries" -lt 60/, 'tries" -lt 3').replace('sleep 2', 'sleep 0')}\n` +
    `socat -u FILE:${file} TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr & sleep 1\n` +
    `receive_policy TCP:127.0.0.1:${port}; echo "status=$?"; wc -c < /run/encumber/policy.json; rm -f /run/encumber/policy.json\n`;
  const policy = JSON.stringify({ $type: 'dev.encumber.policy', pad: 'x'.repeat(1000) });
  // The chroot has no devtmpfs (the booted image mounts one): a plain file stands in for /dev/null.
  if (!existsSync(join(rootDir, 'dev', 'null'))) writeFileSync(join(rootDir, 'dev', 'null'), '');
  writeFileSync(join(rootDir, 'small.json'), policy);
  writeFileSync(join(rootDir, 'large.json'), 'x'.repeat(65537));
  const small = inImage(['/bin/sh', '-c', script('/small.json')]);
  if (!small) {
    const why = chrootUnavailable('receive_policy');
    if (why) return t.skip(why);
  }
  assert.match(small!.stdout, /init: received a policy of \d+ bytes\nstatus=0\n/, small!.stdout + small!.stderr);
  assert.match(small!.stdout, new RegExp(`^${policy.length}$`, 'm'));
  const large = inImage(['/bin/sh', '-c', script('/large.json')]);
  assert.match(large!.stdout, /larger than 64 KiB; not starting\nstatus=1\n/, large!.stdout + large!.stderr);
});

test('/init takes the host\'s boot document: announced by DHCP (dev, sev-snp) or asked of the parent (nitro); checked; nothing without one', { skip: SKIP }, (t) => {
  const init = Buffer.from(boot.get('init')!.data).toString('utf8');
  assert.equal(Buffer.from(boot.get(BOOT_INPUT_SCRIPT)!.data).toString('utf8'), readFileSync(join(REPO_ROOT, 'enclave', 'image', 'rootfs', BOOT_INPUT_SCRIPT), 'utf8'));
  assert.match(init, /dhcp_boot_document \|\| \{ poweroff -f; exit 1; \}/, 'dev, sev-snp: after DHCP, fail closed');
  assert.match(init, /fetch_boot_document VSOCK-CONNECT:3:9002\n/, 'nitro: from the parent on vsock port 9002');
  assert.match(init, /BRIDGES=\$bridges \/usr\/lib\/encumber\/vsock\/enclave-side\.sh/, 'nitro: the join bridge when joining');
  assert.equal(init.match(/set -- "\$@" --join "\$join"/g)?.length, 2, '--join on both paths');
  assert.match(Buffer.from(boot.get('etc/udhcpc.script')!.data).toString('utf8'), /printf '%s\\n' "\$boot_file" > \/run\/dhcp-boot-file/);

  // The functions themselves, run in the image's busybox with its socat and node: the host side serves on loopback.
  const fns = /^BOOT_DOCUMENT=[\s\S]*?^dhcp_boot_document\(\) \{[\s\S]*?^\}$/m.exec(init);
  assert.ok(fns, 'the boot document functions in /init');
  const port = 20000 + ((process.pid + 7) % 20000);
  const closed = port + 1;
  const devRoot = createDevRoot({ now: new Date(), validityDays: 1 }).exportWithPrivateKey();
  const run = (platform: string, bootFile: string | null, doc: string, then = 'dhcp_boot_document') => {
    rmSync(join(rootDir, 'run', 'encumber'), { recursive: true, force: true });
    rmSync(join(rootDir, 'run', 'dhcp-boot-file'), { force: true });
    if (bootFile !== null) writeFileSync(join(rootDir, 'run', 'dhcp-boot-file'), `${bootFile}\n`);
    writeFileSync(join(rootDir, 'boot-doc.json'), doc);
    const script =
      `mkdir -p /run/encumber /tmp; platform=${platform}\n${fns[0]}\n` +
      `socat -u FILE:/boot-doc.json TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr & server=$!; sleep 1\n` +
      `${then}; echo "status=$? join=$join"; ls /run/encumber; kill $server 2>/dev/null; exit 0\n`;
    return inImage(['/bin/sh', '-c', script]);
  };
  if (!existsSync(join(rootDir, 'dev', 'null'))) writeFileSync(join(rootDir, 'dev', 'null'), '');
  const at = `encumber-boot:127.0.0.1:${port}`;
  const ok = run('dev', at, JSON.stringify({ join: 'http://10.0.2.101:8080', devRoot }));
  if (!ok) {
    const why = chrootUnavailable('the boot document steps of /init');
    if (why) return t.skip(why);
  }
  assert.match(ok!.stdout, /init: received a boot document of \d+ bytes\ninit: joining http:\/\/10\.0\.2\.101:8080\nstatus=0 join=http:\/\/10\.0\.2\.101:8080\n/, ok!.stdout + ok!.stderr);
  assert.match(ok!.stdout, /^dev-root\.json$/m);
  assert.deepEqual(JSON.parse(readFileSync(join(rootDir, 'run', 'encumber', 'dev-root.json'), 'utf8')), devRoot);

  const expect = (r: ReturnType<typeof run>, out: RegExp) => assert.match(r!.stdout, out, r!.stdout + r!.stderr);
  // No lease boot file, or one that is not ours: nothing fetched, nothing changes.
  expect(run('dev', null, '{}'), /^status=0 join=\n(boot\.json\n)?$/);
  expect(run('dev', 'pxelinux.0', '{}'), /not an encumber boot document; ignored\nstatus=0 join=\n$/);
  // Ours, but malformed, unreachable, too large or refused: the machine does not start.
  expect(run('dev', 'encumber-boot:10.0.2.100', '{}'), /which is not IPv4:PORT; not starting\nstatus=1 join=\n/);
  expect(run('dev', `encumber-boot:127.0.0.1:${closed}`, '{}'), /no boot document from 127\.0\.0\.1:\d+; not starting\nstatus=1 join=\n/);
  expect(run('dev', at, 'x'.repeat(16385)), /larger than 16 KiB; not starting\n.*not starting\nstatus=1 join=\n/);
  expect(run('dev', at, JSON.stringify({ join: 'http://10.0.2.101:8080 --x' })), /the boot document was refused; not starting\nstatus=1 join=\n/);
  expect(run('sev-snp', at, JSON.stringify({ devRoot })), /the boot document was refused; not starting\nstatus=1 join=\n/);
  // nitro's one attempt: a refused connection is no document (status 1, which /init takes as "none").
  expect(run('nitro', null, '{}', `fetch_boot_document TCP:127.0.0.1:${closed}`), /^status=1 join=\n$/);
});

test('enclave/Dockerfile: FROM scratch (no base image to pin), copies the unpacked image, and its CMD names files that are in it and runs there', { skip: SKIP }, (t) => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'enclave', 'Dockerfile'), 'utf8');
  const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+\s/.test(l));
  const froms = instructions.filter((l) => l.startsWith('FROM '));
  assert.deepEqual(froms, ['FROM scratch']);
  const cmd = instructions.find((l) => l.startsWith('CMD '));
  assert.ok(cmd, 'CMD');
  const argv = JSON.parse(cmd.slice(4)) as string[];
  const script = argv.join(' ');
  for (const path of ['/bin/sh', `/${VSOCK_IMAGE_DIR}/enclave-side.sh`, '/usr/bin/node', '/encumber/encumber-enclave.mjs']) {
    assert.ok(script.includes(path), `CMD runs ${path}`);
    assert.ok(lstatSync(join(rootDir, path)).isFile() || lstatSync(join(rootDir, path)).isSymbolicLink(), `${path} is in the unpacked image`);
  }
  assert.match(script, /--platform nitro --host 127\.0\.0\.1 --port 8080/);
  assert.equal(lstatSync(join(rootDir, 'usr/bin/node')).mtimeMs / 1000, JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')).sourceDateEpoch);
  // The CMD itself, in the image, with the bridges printed instead of started.
  const run = inImage(argv, { DRY_RUN: '1' });
  if (!run) {
    const why = chrootUnavailable('the Dockerfile CMD');
    if (why) return t.skip(why);
  }
  assert.equal(run!.status, 0, run!.stderr);
  assert.match(run!.stdout, /^program: \/usr\/bin\/node --max-semi-space-size=4 \/encumber\/encumber-enclave\.mjs --platform nitro --host 127\.0\.0\.1 --port 8080 --data-dir \/run\/encumber$/m);
});

test('enclave/host/run-enclave.sh: nitro-cli run-enclave without debug mode, then the running enclave checked against manifest.json, then the bridges', { skip: SKIP }, () => {
  const script = join(REPO_ROOT, 'enclave', 'host', 'run-enclave.sh');
  const dir = mkdtempSync(join(tmpdir(), 'encumber-host-'));
  try {
    const calls = join(dir, 'calls');
    const describe = join(dir, 'describe.json');
    const fake = join(dir, 'nitro-cli');
    writeFileSync(fake, `#!/bin/sh\necho "$*" >> '${calls}'\n[ "$1" = describe-enclaves ] && cat '${describe}'\nexit 0\n`, { mode: 0o755 });
    const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as { eif: { pcrs: Record<string, string> } };
    const enclave = (flags: string, pcr0 = manifest.eif.pcrs.PCR0!) => [
      { EnclaveID: 'i-0abc-enc0123', EnclaveCID: 16, State: 'RUNNING', Flags: flags, Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: pcr0, PCR1: manifest.eif.pcrs.PCR1, PCR2: manifest.eif.pcrs.PCR2 } },
    ];
    const run = (env: Record<string, string>, args: string[] = []) => {
      rmSync(calls, { force: true });
      const r = spawnSync(script, args, { encoding: 'utf8', env: { ...process.env, NITRO_CLI: fake, EIF: join(outDir, 'encumber.eif'), HOST_BRIDGES: '0', ...env } });
      return { ...r, calls: existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [] };
    };
    const hasJq = spawnSync('jq', ['--version'], { stdio: 'ignore' }).status === 0;

    writeFileSync(describe, JSON.stringify(enclave('NONE')));
    let r = run({});
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls[0], `run-enclave --eif-path ${join(outDir, 'encumber.eif')} --memory 2048 --cpu-count 2 --enclave-cid 16`);
    assert.ok(!r.calls.some((c) => c.includes('debug')));
    if (hasJq) assert.match(r.stderr, /PCR0\/1\/2 match/);

    r = run({ MEMORY_MIB: '4096', CPU_COUNT: '4', ENCLAVE_CID: '20', DRY_RUN: '1', HOST_BRIDGES: '1' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `${fake} run-enclave --eif-path ${join(outDir, 'encumber.eif')} --memory 4096 --cpu-count 4 --enclave-cid 20`,
      'inbound: socat TCP-LISTEN:8080,bind=0.0.0.0,fork,reuseaddr VSOCK-CONNECT:20:8080',
      `outbound: vsock-proxy 8001 plc.directory 443 --config ${join(REPO_ROOT, 'enclave', 'vsock', 'vsock-proxy.yaml')}`,
    ]);

    r = run({}, ['--debug-mode']);
    assert.equal(r.status, 2);
    assert.deepEqual(r.calls, [], 'nothing started');

    if (hasJq) {
      writeFileSync(describe, JSON.stringify(enclave('DEBUG_MODE')));
      r = run({});
      assert.equal(r.status, 1);
      assert.match(r.stderr, /Flags=DEBUG_MODE/);
      assert.ok(r.calls.includes('terminate-enclave --enclave-id i-0abc-enc0123'), r.calls.join('\n'));

      writeFileSync(describe, JSON.stringify(enclave('NONE', '00'.repeat(48))));
      r = run({});
      assert.equal(r.status, 1);
      assert.match(r.stderr, /PCR0 of the running enclave is 0{96}, not [0-9a-f]{96}/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('enclave/snp/launch.sh: the SNP direct-boot command line is the one a published measurement assumes (DRY_RUN; it needs SNP hardware to run)', { skip: SKIP }, () => {
  const launch = (env: Record<string, string>) =>
    spawnSync(join(REPO_ROOT, 'enclave', 'snp', 'launch.sh'), [], { encoding: 'utf8', env: { ...process.env, OUT: outDir, DRY_RUN: '1', ...env } });
  const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as ImageManifest;
  for (const [vcpus, cpu] of [['2', 'EPYC-v4'], ['4', 'EPYC-Genoa'], ['1', 'EPYC-Turin']] as const) {
    const r = launch({ VCPUS: vcpus, CPU_MODEL: cpu });
    assert.equal(r.status, 0, r.stderr);
    const argv = r.stdout.trim().split('\n');
    const after = (flag: string) => argv[argv.indexOf(flag) + 1]!;
    assert.equal(after('-kernel'), join(outDir, 'bzImage'));
    assert.equal(after('-initrd'), join(outDir, 'initramfs.cpio.gz'));
    assert.equal(after('-bios'), join(outDir, 'OVMF.fd'));
    assert.equal(after('-cpu'), cpu);
    assert.equal(after('-smp'), vcpus);
    assert.match(argv.join(' '), /-object sev-snp-guest,id=sev0,policy=0x30000,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on /);
    assert.ok(argv.includes('-enable-kvm'));
    // The published entry for this configuration was computed over exactly these inputs.
    const entry = manifest.snp.measurements.find((m) => m.vcpus === Number(vcpus) && m.cpu === cpu && m.guestFeatures === '0x1');
    assert.ok(entry, `no published SEV-SNP measurement for ${vcpus} × ${cpu}`);
    assert.equal(entry.inputs.cmdline, after('-append'));
    assert.equal(entry.inputs.ovmfSha256, createHash('sha256').update(readFileSync(after('-bios'))).digest('hex'));
    assert.equal(entry.inputs.kernelSha256, createHash('sha256').update(readFileSync(after('-kernel'))).digest('hex'));
    assert.equal(entry.inputs.initrdSha256, createHash('sha256').update(readFileSync(after('-initrd'))).digest('hex'));
  }
  // A boot document (the key hand-off's join): announced by the lease and served by QEMU, outside the measurement.
  const plain = launch({}).stdout.trim().split('\n');
  assert.equal(plain[plain.indexOf('-netdev') + 1], 'user,id=net0,hostfwd=tcp:127.0.0.1:8080-:8080,hostfwd=tcp:127.0.0.1:9001-:9001');
  const doc = join(outDir, 'boot-document.json');
  writeFileSync(doc, '{"join":"http://10.0.2.2:8080"}');
  const joining = launch({ BOOT_DOCUMENT: doc });
  assert.equal(joining.status, 0, joining.stderr);
  const jargv = joining.stdout.trim().split('\n');
  assert.equal(
    jargv[jargv.indexOf('-netdev') + 1],
    `user,id=net0,hostfwd=tcp:127.0.0.1:8080-:8080,hostfwd=tcp:127.0.0.1:9001-:9001,bootfile=encumber-boot:10.0.2.100:9002,guestfwd=tcp:10.0.2.100:9002-cmd:cat ${doc}`,
  );
  assert.equal(jargv[jargv.indexOf('-append') + 1], plain[plain.indexOf('-append') + 1], 'the command line (measured) is the same');
  assert.equal(launch({ BOOT_DOCUMENT: `${doc},hostfwd=tcp::1-:22` }).status, 2, 'no commas into QEMU\'s option string');
  assert.equal(launch({ BOOT_DOCUMENT: join(outDir, 'missing.json') }).status, 2);
  const odd = launch({ VCPUS: '3' });
  assert.equal(odd.status, 2);
  assert.match(odd.stderr, /not a published configuration/);
  const model = launch({ CPU_MODEL: 'EPYC-Rome' });
  assert.equal(model.status, 2);
  assert.match(model.stderr, /not a published configuration/);
});
