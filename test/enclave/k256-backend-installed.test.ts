/**
 * The Node edges install libsecp256k1 for k256 verification: the composition
 * root (bootService: the enclave program, `encumber serve`, the test worlds)
 * and the CLI (every command; `--help` alone does not load it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
