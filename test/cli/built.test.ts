/**
 * The command line as it is installed: bin/encumber.js running the esbuild
 * output of tools/build-cli.ts (dist/cli/), never the TypeScript sources.
 *
 * The build under test goes to a temporary checkout-shaped directory
 * (bin/encumber.js copied, dist/cli/ built, and a node_modules/ holding only
 * the native packages no bundle can contain — libsecp256k1's binding and its
 * loader — with no other node_modules anywhere above it), so a run that needed
 * tsx or any other package at run time fails there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixturePath, REPO_ROOT, tempDir } from '../support/fixtures.ts';
import { runCli } from '../support/cli.ts';

/** The environment of a fresh shell: no NODE_OPTIONS (a --import tsx there would hide a missing build). */
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function buildCli(outdir: string): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'tools', 'build-cli.ts'), '--out', outdir], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** The packages the built command line loads at run time: native code, outside every bundle (as in the enclave image). */
const NATIVE_PACKAGES = ['node-gyp-build', 'secp256k1'];

/** A directory shaped like a checkout: bin/encumber.js, src/ (empty: the staleness check walks it), the native packages, dist/cli/ if built. */
function installed(build: boolean): string {
  const dir = tempDir('encumber-built-');
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'node_modules'));
  for (const pkg of NATIVE_PACKAGES) symlinkSync(join(REPO_ROOT, 'node_modules', pkg), join(dir, 'node_modules', pkg));
  copyFileSync(join(REPO_ROOT, 'bin', 'encumber.js'), join(dir, 'bin', 'encumber.js'));
  if (build) buildCli(join(dir, 'dist', 'cli'));
  return dir;
}

function run(dir: string, args: string[]) {
  return spawnSync(process.execPath, [join(dir, 'bin', 'encumber.js'), ...args], { cwd: dir, env, encoding: 'utf8' });
}

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
}

const dir = installed(true);

test('the built command line runs with only its native packages installed: --help lists the commands, exit 0, nothing on stderr; --version is package.json\'s', () => {
  assert.deepEqual(readdirSync(join(dir, 'node_modules')).sort(), NATIVE_PACKAGES);
  for (let d = dirname(dir); d !== dirname(d); d = dirname(d)) assert.equal(existsSync(join(d, 'node_modules')), false, `${d}/node_modules`);
  const r = run(dir, ['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: encumber/);
  for (const c of ['serve', 'plc', 'attest', 'record', 'measure', 'rebuild', 'member']) assert.match(r.stdout, new RegExp(`\\n  ${c}\\b`));
  assert.equal(r.stderr, '');
  const version = run(dir, ['--version']);
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
});

test('the built command line verifies audit logs: valid exit 0, invalid exit 1 with the error code, --json', () => {
  const valid = run(dir, ['plc', 'verify', fixturePath('plc', 'valid', 'log_nullification_nontrivial.json')]);
  assert.equal(valid.status, 0, valid.stderr);
  assert.match(valid.stdout, /^valid: did:plc:/);
  const invalid = run(dir, ['plc', 'verify', fixturePath('plc', 'invalid', 'log_invalid_sig_der.json'), '--json']);
  assert.equal(invalid.status, 1, invalid.stderr);
  const j = JSON.parse(invalid.stdout) as { valid: boolean; error: { code: string } };
  assert.equal(j.valid, false);
  assert.equal(j.error.code, 'PlcInvalidSignature');
  assert.equal(run(dir, ['plc', 'verify']).status, 2);
});

test('serve takes its options from its module (loaded before parsing): serve --help lists them', () => {
  const r = run(dir, ['serve', '--help']);
  assert.equal(r.status, 0, r.stderr);
  for (const o of ['--policy', '--port', '--platform', '--data-dir']) assert.match(r.stdout, new RegExp(o));
  assert.match(run(dir, ['help', 'serve']).stdout, /--port/);
});

test('neither the bin nor the built files import tsx (rebuild spawns the TypeScript image build, a separate process)', () => {
  const importsTsx = /(\bfrom|\bimport\(?)\s*["']tsx(\/[^"']*)?["']/;
  assert.match('import{register as r}from"tsx/esm/api"', importsTsx);
  for (const [name, bytes] of filesOf(join(dir, 'dist', 'cli'))) assert.doesNotMatch(bytes.toString('utf8'), importsTsx, name);
  assert.doesNotMatch(readFileSync(join(REPO_ROOT, 'bin', 'encumber.js'), 'utf8'), importsTsx);
});

/**
 * A checkout whose src/ and lockfile are this repository's, with the build above copied in (not linked: a
 * module's URL is its real path, and REPO_ROOT is taken from it).
 */
function twinCheckout(): string {
  const twin = tempDir('encumber-built-');
  mkdirSync(join(twin, 'bin'));
  mkdirSync(join(twin, 'dist', 'cli'), { recursive: true });
  copyFileSync(join(REPO_ROOT, 'bin', 'encumber.js'), join(twin, 'bin', 'encumber.js'));
  for (const f of readdirSync(join(dir, 'dist', 'cli'))) copyFileSync(join(dir, 'dist', 'cli', f), join(twin, 'dist', 'cli', f));
  symlinkSync(join(REPO_ROOT, 'src'), join(twin, 'src'));
  symlinkSync(join(REPO_ROOT, 'package-lock.json'), join(twin, 'package-lock.json'));
  mkdirSync(join(twin, 'node_modules'));
  for (const pkg of NATIVE_PACKAGES) symlinkSync(join(REPO_ROOT, 'node_modules', pkg), join(twin, 'node_modules', pkg));
  return twin;
}

test('run from dist/cli/ the command line finds the checkout as from source: measure gives the same source-tree digest', async () => {
  const twin = twinCheckout();
  const built = run(twin, ['measure']);
  assert.equal(built.status, 0, built.stderr);
  const fromSource = await runCli(['measure']);
  assert.equal(fromSource.code, 0);
  type Entry = { name: string; bundleSha384: string };
  const sourceTree = (json: string) => (JSON.parse(json) as { dev: Entry[] }).dev.find((e) => e.name.includes('source tree'));
  const a = sourceTree(built.stdout.slice(0, built.stdout.indexOf('\n}\n') + 2));
  const b = sourceTree(fromSource.out.find((l) => l.startsWith('{'))!);
  assert.ok(a && b);
  assert.deepEqual(a, b);
});

test('serve from the build answers on loopback and serves the page from dist/web (it cannot build it from src/web)', async () => {
  const twin = twinCheckout();
  const web = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'web', 'build.ts'), '--out', join(twin, 'dist', 'web')], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(web.status, 0, web.stderr);
  const child = spawn(process.execPath, [join(twin, 'bin', 'encumber.js'), 'serve', '--port', '0', '--quiet', '--data-dir', join(twin, '.data')], { cwd: twin, env, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    let log = '';
    const url = await new Promise<string>((ok, fail) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        log += d;
        const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
        if (m) ok(m[1]!);
      });
      child.once('exit', (code) => fail(new Error(`serve exited (${code}): ${log}`)));
    });
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.equal(await page.text(), readFileSync(join(twin, 'dist', 'web', 'index.html'), 'utf8'));
    const identity = await fetch(`${url}/xrpc/dev.encumber.getIdentity`);
    assert.equal(identity.status, 200);
    assert.equal(((await identity.json()) as { platform: string }).platform, 'dev');
  } finally {
    child.kill();
  }
});

test('no build: the bin says which command builds it and exits 2', () => {
  const bare = installed(false);
  const r = run(bare, ['--help']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /dist\/cli\/main\.js is missing\): run `npm run build`/);
  assert.equal(r.stdout, '');
});

test('the command-line build is deterministic: two builds are byte-identical', () => {
  const again = tempDir('encumber-built-');
  buildCli(join(again, 'cli'));
  const a = filesOf(join(dir, 'dist', 'cli'));
  const b = filesOf(join(again, 'cli'));
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${name} differs between two builds`);
});

test('the enclave bundle is deterministic: two builds are byte-identical', () => {
  const out = tempDir('encumber-bundle-');
  for (const name of ['a.mjs', 'b.mjs']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'enclave', 'build-bundle.ts'), '--out', join(out, name)], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  assert.ok(readFileSync(join(out, 'a.mjs')).equals(readFileSync(join(out, 'b.mjs'))));
});

/**
 * Which modules a command line loads, from source: a resolve hook (registered after tsx, so it sees what tsx
 * resolved) appends every module URL to a file.
 */
function modulesLoaded(args: string[]): string[] {
  const out = tempDir('encumber-modules-');
  const log = join(out, 'modules.txt');
  const hook = join(out, 'hook.mjs');
  writeFileSync(
    hook,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}
`,
  );
  const register = join(out, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
  const main = pathToFileURL(join(REPO_ROOT, 'src', 'cli', 'main.ts')).href;
  const script = `const { main } = await import(${JSON.stringify(main)}); process.exitCode = await main(${JSON.stringify(args)}, { out() {}, err() {}, readInput: (p) => import('node:fs/promises').then((f) => f.readFile(p, 'utf8')) });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(register).href, '--input-type=module', '-e', script], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

/** What only serve, the attestation/record verifiers and the image tools need. */
const HEAVY = [/\/node_modules\/hono\//, /\/node_modules\/@hono\//, /\/src\/server\//, /\/src\/attestation\//, /\/src\/verifier\//, /\/src\/enclave\//, /\/enclave\/image\//, /\/src\/cli\/commands\/(serve|verify|measure|rebuild|demo)\.ts$/];

test('--help imports no command module; plc verify imports its own and none of the heavy ones', () => {
  const help = modulesLoaded(['--help']);
  assert.ok(help.some((u) => u.endsWith('/src/cli/main.ts')), 'the hook saw main.ts');
  assert.deepEqual(help.filter((u) => u.includes('/src/cli/commands/')), []);
  for (const h of HEAVY) assert.deepEqual(help.filter((u) => h.test(u)), [], String(h));
  const plc = modulesLoaded(['plc', 'verify', fixturePath('plc', 'valid', 'log_nullification_nontrivial.json')]);
  assert.ok(plc.some((u) => u.endsWith('/src/cli/commands/plc-verify.ts')));
  for (const h of HEAVY) assert.deepEqual(plc.filter((u) => h.test(u)), [], String(h));
});

test('a source file newer than the build: a warning naming it and the rebuild command, then the command runs', () => {
  // Last: it edits the checkout the tests above ran in.
  const stale = dir;
  assert.equal(run(stale, ['--help']).stderr, '');
  const edited = join(stale, 'src', 'plc', 'verify.ts');
  mkdirSync(join(stale, 'src', 'plc'));
  writeFileSync(edited, '// edited\n');
  const later = new Date(Date.now() + 60_000);
  utimesSync(edited, later, later);
  const r = run(stale, ['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stderr, /warning: src\/plc\/verify\.ts changed after the command line was built.*`npm run build`/);
  assert.match(r.stdout, /Usage: encumber/);
});
