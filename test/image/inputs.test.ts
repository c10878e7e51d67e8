/**
 * Pinned inputs: the manifests are well formed and agree with the lockfile;
 * a cached .deb whose digest is not the pin is refused (and never replaced);
 * the .deb reader gets files, symlinks and long names out of a package that
 * dpkg-deb builds here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { debFileName, debPin, ensureDeb, InputError, loadDebPins, loadNodePin, verifyNodeRuntime } from '../../enclave/image/inputs.ts';
import { readDebMembers } from '../../enclave/image/deb.ts';
import { DEB_FILES } from '../../enclave/image/rootfs.ts';
import { REPO_ROOT, tempDir } from '../support/fixtures.ts';
import { hasCommand, skipUnlessCi } from '../support/tools.ts';

test('debian.json: every package pinned by a SHA-256, no kernel (built from source: enclave/kernel/), every package the rootfs takes files from', () => {
  const pins = loadDebPins();
  for (const p of pins) assert.match(p.sha256, /^[0-9a-f]{64}$/, p.name);
  assert.deepEqual(pins.filter((p) => p.name.startsWith('linux-')).map((p) => p.name), []);
  for (const pkg of Object.keys(DEB_FILES)) assert.ok(debPin(pins, pkg), pkg);
  assert.equal(debPin(pins, 'busybox-static').version, '1:1.35.0-4+deb12u1+b1');
});

test('node.json agrees with package.json (exact) and package-lock.json (version, integrity); the binary matches', () => {
  const pin = loadNodePin();
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.devDependencies[pin.package], pin.version, 'exact version, no range');
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
  assert.equal(lock.packages[`node_modules/${pin.package}`].integrity, pin.integrity);
  assert.equal(verifyNodeRuntime(), join(REPO_ROOT, 'node_modules', pin.package, pin.binary));
});

test('a cached .deb with the wrong digest is refused with expected/actual, and left for a person to look at', () => {
  const cache = tempDir('encumber-inputs-');
  const pin = debPin(loadDebPins(), 'busybox-static');
  const file = join(cache, debFileName(pin));
  writeFileSync(file, 'not the package');
  assert.throws(
    () => ensureDeb(pin, cache),
    (e: unknown) => e instanceof InputError && e.code === 'InputMismatch' && e.expected === pin.sha256 && e.actual !== pin.sha256,
  );
  assert.equal(readFileSync(file, 'utf8'), 'not the package');
  assert.equal(debFileName(pin), 'busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb');
});

const noDpkgDeb = skipUnlessCi(hasCommand('dpkg-deb', '--version') ? null : 'dpkg-deb is not installed');

test('readDebMembers: files, symlinks and a path past 100 bytes, from a package dpkg-deb builds', { skip: noDpkgDeb }, async () => {
  const dir = tempDir('encumber-deb-');
  const root = join(dir, 'root');
  const long = `usr/share/${'d'.repeat(60)}/${'e'.repeat(60)}/file.txt`;
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(join(root, 'DEBIAN', 'control'), 'Package: encumber-test\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: test\n');
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'bin', 'tool'), 'tool bytes');
  symlinkSync('tool', join(root, 'bin', 'alias'));
  mkdirSync(join(root, long, '..'), { recursive: true });
  writeFileSync(join(root, long), Buffer.alloc(70_000, 7));
  const deb = join(dir, 'test.deb');
  const built = spawnSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const m = await readDebMembers(deb, (p) => p.startsWith('bin/') || p === long);
  assert.deepEqual([...m.keys()].sort(), ['bin/alias', 'bin/tool', long].sort());
  assert.equal(Buffer.from(m.get('bin/tool')!.data).toString(), 'tool bytes');
  assert.equal(m.get('bin/alias')!.type, 'symlink');
  assert.equal(m.get('bin/alias')!.target, 'tool');
  assert.deepEqual(Buffer.from(m.get(long)!.data), Buffer.alloc(70_000, 7));
});
