/**
 * The Node edges install libsecp256k1 for k256 verification: the composition
 * root (bootService: the enclave program, `encumber serve`, the test worlds)
 * and the CLI (every command; `--help` alone does not load it). Without the
 * binding the module refuses to load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installK256Backend, k256Backend } from '../../src/crypto/k256-backend.ts';
import { libsecp256k1Backend } from '../../src/crypto/k256-libsecp256k1.ts';
import { createWorld } from '../support/world.ts';
import { runCli } from '../support/cli.ts';

test('bootService installs the libsecp256k1 backend', async () => {
  installK256Backend(undefined);
  await createWorld();
  assert.equal(k256Backend(), libsecp256k1Backend);
});

test('the CLI installs it for a command, not for --help', async () => {
  installK256Backend(undefined);
  await runCli(['--help']);
  assert.equal(k256Backend(), undefined);
  await runCli(['plc', 'verify', '/nonexistent/log.json']);
  assert.equal(k256Backend(), libsecp256k1Backend);
});

test('a missing native binding is an error at import, never a fall back to pure-JS elliptic', () => {
  // node-gyp-build looks for the .node under $SECP256K1_PREBUILD when it is set: an empty directory hides it.
  const empty = mkdtempSync(join(tmpdir(), 'no-secp256k1-'));
  try {
    const url = new URL('../../src/crypto/k256-libsecp256k1.ts', import.meta.url).href;
    const script = `import(${JSON.stringify(url)}).then(() => console.log('loaded'), (e) => console.log(e.code, e.message))`;
    const r = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], {
      env: { ...process.env, SECP256K1_PREBUILD: empty },
      encoding: 'utf8',
    });
    assert.match(r.stdout, /^InternalError cannot load libsecp256k1 .*No native build was found/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
