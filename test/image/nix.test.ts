/**
 * nix/: the flake cannot be built here (no network for nixpkgs, the npm tarballs or the .debs), so CI checks
 * what can be checked offline with Debian's nix-bin:
 *
 *   - every .nix file of the repository parses (`nix-instantiate --parse`);
 *   - nix/inputs.nix evaluates (pure builtins) to the same pins the TypeScript build uses: each .deb's
 *     SHA-256, the cache file name enclave/image/inputs.ts looks for, an archive URL ending in that
 *     package's file name; nix/debian-pool.json covers every pin at its pinned version;
 *   - flake.lock locks the nixpkgs revision flake.nix names, and the flake exposes bundle, image,
 *     initramfs and eif.
 *
 * Without nix-instantiate the Nix checks skip with a message; under CI they fail instead (.ci/run installs nix-bin).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { debFileName, loadDebPins, loadNodePin } from '../../enclave/image/inputs.ts';
import { loadNpmPins } from '../../enclave/image/npm-files.ts';
import { poolBasename, poolFromApt } from '../../nix/pool.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { hasCommand, skipUnlessCi } from '../support/tools.ts';

const NIX = 'nix-instantiate';
const SKIP = skipUnlessCi(hasCommand(NIX, '--version') ? null : `${NIX} is not installed (apt-get install nix-bin)`);

function nixFiles(dir = REPO_ROOT): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'build', 'dist', '.git', '.data', '.scratch'].includes(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...nixFiles(p));
    else if (e.isFile() && e.name.endsWith('.nix')) out.push(p);
  }
  return out.sort();
}

function nix(args: string[]) {
  // A private state directory: nix-instantiate --eval writes nothing, but may want somewhere to look.
  return spawnSync(NIX, args, { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NIX_REMOTE: '', NIX_CONFIG: 'build-users-group =' } });
}

test('every .nix file parses (nix-instantiate --parse)', { skip: SKIP }, (t) => {
  const files = nixFiles();
  assert.deepEqual(
    files.map((f) => relative(REPO_ROOT, f)),
    ['nix/flake.nix', 'nix/image.nix', 'nix/inputs.nix'],
  );
  for (const f of files) {
    const r = nix(['--parse', f]);
    assert.equal(r.status, 0, `${relative(REPO_ROOT, f)}:\n${r.stderr}`);
    t.diagnostic(`parsed ${relative(REPO_ROOT, f)}`);
  }
});

test('nix/inputs.nix evaluates to the pins the TypeScript build uses', { skip: SKIP }, () => {
  const r = nix(['--eval', '--strict', '--json', '-E', 'import ./nix/inputs.nix {}']);
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as {
    debs: Array<{ name: string; version: string; arch: string; sha256: string; cacheName: string; storeName: string; urls: string[] }>;
    node: { package: string; integrity: string; sha256: string };
    npm: Array<{ package: string; integrity: string }>;
    version: string;
    sourceDateEpoch: number;
  };
  const pins = loadDebPins();
  assert.equal(got.debs.length, pins.length);
  pins.forEach((pin, i) => {
    const d = got.debs[i]!;
    assert.equal(d.name, pin.name);
    assert.equal(d.version, pin.version);
    assert.equal(d.sha256, pin.sha256, `${pin.name}: fetched by the pinned SHA-256`);
    assert.equal(d.cacheName, debFileName(pin), `${pin.name}: named as the build's input cache names it`);
    assert.match(d.storeName, /^[A-Za-z0-9+._?=-]+$/, `${pin.name}: a valid store path name`);
    assert.equal(d.urls.length, 1);
    assert.match(d.urls[0]!, /^https:\/\/(deb\.debian\.org\/debian|security\.debian\.org\/debian-security)\/pool\//);
    assert.ok(d.urls[0]!.endsWith(`/${poolBasename(pin)}`), `${pin.name}: ${d.urls[0]}`);
    if (d.urls[0]!.includes('/pool/updates/')) assert.ok(d.urls[0]!.startsWith('https://security.debian.org/'), 'pool/updates is bookworm-security');
  });
  const node = loadNodePin();
  assert.equal(got.node.integrity, node.integrity);
  assert.equal(got.node.sha256, node.sha256);
  assert.deepEqual(got.npm.map((p) => [p.package, p.integrity]), loadNpmPins().map((p) => [p.package, p.integrity]));
  assert.equal(got.version, JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
  assert.equal(got.sourceDateEpoch, 1, 'the default of npm run build:image');
});

test('nix/debian-pool.json covers every pin at its pinned version (regenerate with nix/pool.ts after a repin)', () => {
  const pool = (JSON.parse(readFileSync(join(REPO_ROOT, 'nix', 'debian-pool.json'), 'utf8')) as { packages: Record<string, { version: string; filename: string }> }).packages;
  for (const pin of loadDebPins()) {
    const e = pool[pin.name];
    assert.ok(e, `nix/debian-pool.json has no ${pin.name}: run node --import tsx nix/pool.ts`);
    assert.equal(e.version, pin.version, `${pin.name}: run node --import tsx nix/pool.ts`);
    assert.ok(e.filename.startsWith('pool/') && e.filename.endsWith(`/${poolBasename(pin)}`), e.filename);
  }
});

test('nix/pool.ts: file names drop the epoch; a Filename that is not the pinned package is refused', () => {
  assert.equal(poolBasename({ name: 'busybox-static', version: '1:1.35.0-4+deb12u1+b1', arch: 'amd64' }), 'busybox-static_1.35.0-4+deb12u1+b1_amd64.deb');
  const pin = { name: 'libssl3', version: '3.0.22-1~deb12u2', arch: 'amd64' };
  assert.deepEqual(poolFromApt([pin], () => 'pool/updates/main/o/openssl/libssl3_3.0.22-1~deb12u2_amd64.deb'), {
    libssl3: { version: pin.version, filename: 'pool/updates/main/o/openssl/libssl3_3.0.22-1~deb12u2_amd64.deb' },
  });
  assert.throws(() => poolFromApt([pin], () => 'pool/main/o/openssl/libssl3_3.0.20-1~deb12u2_amd64.deb'), /expected pool\/…\/libssl3_3\.0\.22/);
  assert.throws(() => poolFromApt([pin], () => '../libssl3_3.0.22-1~deb12u2_amd64.deb'), /Filename/);
});

test('flake.lock locks the nixpkgs revision flake.nix names; the flake exposes bundle, image, initramfs, eif', () => {
  const flake = readFileSync(join(REPO_ROOT, 'nix', 'flake.nix'), 'utf8');
  const rev = /inputs\.nixpkgs\.url = "github:NixOS\/nixpkgs\/([0-9a-f]{40})";/.exec(flake)?.[1];
  assert.ok(rev, 'nixpkgs pinned to a full commit in flake.nix');
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'nix', 'flake.lock'), 'utf8'));
  assert.equal(lock.version, 7);
  assert.equal(lock.nodes.root.inputs.nixpkgs, 'nixpkgs');
  assert.equal(lock.nodes.nixpkgs.locked.rev, rev);
  assert.equal(lock.nodes.nixpkgs.original.rev, rev);
  assert.match(lock.nodes.nixpkgs.locked.narHash, /^sha256-[A-Za-z0-9+/]{43}=$/);
  assert.match(flake, /inherit \(build\) nodeModules inputCache bundle image initramfs eif;/);
  const image = readFileSync(join(REPO_ROOT, 'nix', 'image.nix'), 'utf8');
  assert.match(image, /enclave\/image\/build\.ts --out "\$out" --cache \$\{inputCache\}/, 'the same TypeScript build');
  assert.match(image, /npmFlags = \[ "--ignore-scripts" \];/);
});
