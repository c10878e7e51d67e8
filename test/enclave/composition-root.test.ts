/**
 * One composition root (src/enclave/boot.ts): it is the only place in src/
 * and test/ that constructs a SigningService; the enclave image's entry
 * point imports neither the CLI nor commander and reads the same flags as
 * `encumber serve`; the root refuses what must not run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { addServeOptions } from '../../src/cli/commands/serve.ts';
import { Command } from 'commander';
import { bootService } from '../../src/enclave/boot.ts';
import { FlagError, checkServeFlags, parseServeArgs, SERVE_OPTIONS } from '../../src/enclave/flags.ts';
import { loadDefaultPolicy } from '../../src/policy/default-policy.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { echoAttestor } from '../support/world.ts';

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (/\.(ts|mts|js|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

const rel = (p: string) => relative(REPO_ROOT, p).split(sep).join('/');

test('only the composition root constructs a SigningService (src/ and test/ scanned)', () => {
  const needle = ['new', 'SigningService('].join(' ');
  const found = [...tsFiles(join(REPO_ROOT, 'src')), ...tsFiles(join(REPO_ROOT, 'test'))]
    .filter((f) => readFileSync(f, 'utf8').includes(needle))
    .map(rel);
  assert.deepEqual(found, ['src/enclave/boot.ts']);
});

/** The relative imports of a module and the modules they import, transitively (static imports only). */
function importClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(join(file, '..', spec));
      else bare.add(spec);
    }
  };
  visit(entry);
  return new Set([...[...seen].map(rel), ...bare]);
}

/** The enclave bundle's entry, as enclave/build-bundle.ts names it. */
function enclaveEntry(): string {
  const m = /entryPoints:\s*\[\s*'([^']+)'/.exec(readFileSync(join(REPO_ROOT, 'enclave', 'build-bundle.ts'), 'utf8'));
  assert.ok(m, 'enclave/build-bundle.ts names one entry point');
  return join(REPO_ROOT, m[1]!);
}

test('the enclave entry point imports neither the CLI nor commander', () => {
  const closure = importClosure(enclaveEntry());
  assert.ok(closure.has('src/enclave/boot.ts'), 'the scan follows imports');
  const cli = [...closure].filter((f) => f.startsWith('src/cli/') || f === 'commander' || f.startsWith('commander/'));
  assert.deepEqual(cli, []);
});

test('the entry point and `encumber serve` accept the same flags with the same defaults', () => {
  const cmd = addServeOptions(new Command('serve')).exitOverride();
  cmd.parse([], { from: 'user' });
  const parsed = parseServeArgs([]);
  assert.equal(parsed.help, false);
  assert.deepEqual(parsed.help === false && parsed.flags, cmd.opts());
  // What the image's /init passes.
  const init = ['--platform', 'sev-snp', '--host', '0.0.0.0', '--port', '8080', '--data-dir', '/run/encumber', '--policy', '/run/encumber/policy.json'];
  const fromCommander = addServeOptions(new Command('serve')).exitOverride();
  fromCommander.parse(init, { from: 'user' });
  const ours = parseServeArgs(init);
  assert.deepEqual(ours.help === false && ours.flags, fromCommander.opts());
  assert.deepEqual(
    SERVE_OPTIONS.map((o) => o.flag),
    ['policy', 'allow-demo-policy', 'port', 'host', 'platform', 'data-dir', 'snp-certs', 'join', 'quiet'],
  );
  assert.deepEqual(parseServeArgs(['--help']), { help: true });
  assert.deepEqual(parseServeArgs(['-h']), { help: true });
});

test('the entry point refuses unknown flags, missing values and bad platform or port', () => {
  for (const argv of [['--nope'], ['--port'], ['extra'], ['--quiet=yes']]) assert.throws(() => parseServeArgs(argv), FlagError, argv.join(' '));
  const flags = (extra: string[]) => {
    const p = parseServeArgs(extra);
    assert.equal(p.help, false);
    return (p as { flags: Parameters<typeof checkServeFlags>[0] }).flags;
  };
  assert.throws(() => checkServeFlags(flags(['--platform', 'sgx'])), /--platform must be dev, nitro or sev-snp/);
  for (const port of ['65536', '-1', 'x', '8080.5', '', '1e3']) assert.throws(() => checkServeFlags(flags([`--port=${port}`])), /--port must be 0\.\.65535/, port);
  assert.deepEqual(checkServeFlags(flags(['--port', '0', '--platform', 'nitro'])), { platform: 'nitro', port: 0 });
});

test('the root refuses the demo policy on hardware unless allowed, before opening the platform', () => {
  const policy = loadDefaultPolicy();
  for (const platform of ['nitro', 'sev-snp'] as const) {
    // A hardware interface that is absent: reaching it would throw another message.
    const attestor = { platform, dataDir: '/nonexistent', nsmDevice: '/nonexistent/nsm', tsmReportDir: '/nonexistent/tsm' };
    assert.throws(() => bootService({ policy, attestor }), (e: any) => e.code === 'UsageError' && /refusing the demo policy/.test(e.message));
    const lines: string[] = [];
    assert.throws(
      () => bootService({ policy, attestor, allowDemoPolicy: true, log: (l) => lines.push(l) }),
      (e: any) => e.code === 'UsageError' && /is absent/.test(e.message),
    );
    assert.equal(lines.filter((l) => l.startsWith('encumber: WARNING: running the demo policy')).length, 1);
  }
  // dev runs it; a ready attestor says its platform.
  assert.equal(bootService({ policy, attestor: echoAttestor }).state, 'serving');
  assert.throws(() => bootService({ policy, attestor: { ...echoAttestor, platform: 'nitro' } }), /refusing the demo policy/);
});
