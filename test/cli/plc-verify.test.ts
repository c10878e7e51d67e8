/**
 * `encumber plc verify` on every fixture file: exit codes and the --json shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturePath, listFixtures, REPO_ROOT } from '../support/fixtures.ts';
import { runCli } from '../support/cli.ts';

for (const verdict of ['valid', 'invalid'] as const) {
  for (const name of listFixtures('plc', verdict)) {
    test(`plc verify --json ${verdict}/${name}`, async () => {
      const file = fixturePath('plc', verdict, name);
      const r = await runCli(['plc', 'verify', file, '--json']);
      assert.equal(r.code, verdict === 'valid' ? 0 : 1);
      assert.equal(r.out.length, 1);
      const j = JSON.parse(r.out[0]!);
      const log = JSON.parse(readFileSync(file, 'utf8'));
      assert.equal(j.valid, verdict === 'valid');
      assert.equal(j.did, log[0].did);
      if (verdict === 'valid') {
        assert.equal(typeof j.head, 'string');
        assert.equal(j.error, null);
      } else {
        assert.equal(j.head, null);
        assert.match(j.error.code, /^Plc|^InvalidPlc/);
        assert.equal(typeof j.error.message, 'string');
        assert.equal(typeof j.error.index, 'number');
      }
    });
  }
}

test('plc verify reads stdin and prints a human summary', async () => {
  const text = readFileSync(fixturePath('plc', 'valid', 'log_nullification.json'), 'utf8');
  const r = await runCli(['plc', 'verify', '-'], text);
  assert.equal(r.code, 0);
  assert.match(r.out.join('\n'), /^valid: did:plc:/);
  assert.match(r.out.join('\n'), /1 nullified/);
});

test('plc verify --did with another DID is invalid', async () => {
  const r = await runCli(['plc', 'verify', fixturePath('plc', 'valid', 'log_bskyapp.json'), '--did', 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', '--json']);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.out[0]!).error.code, 'PlcDidMismatch');
});

test('plc verify --spec-strict rejects duplicate rotation keys', async () => {
  const r = await runCli(['plc', 'verify', fixturePath('plc', 'valid', 'log_duplicate_rotation_keys.json'), '--spec-strict', '--json']);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.out[0]!).error.code, 'PlcRotationKeysRule');
});

test('usage and I/O errors exit 2', async () => {
  assert.equal((await runCli(['plc', 'verify', join(REPO_ROOT, 'no-such-file.json')])).code, 2);
  assert.equal((await runCli(['plc', 'verify', '-'], 'not json')).code, 2);
  assert.equal((await runCli(['plc', 'verify', '-'], '[]')).code, 2); // no DID to be had
  assert.equal((await runCli(['plc', 'verify', '-', '--did', 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'], '[]')).code, 1);
  assert.equal((await runCli(['plc', 'verify'])).code, 2);
  assert.equal((await runCli(['plc', 'verify', 'x', '--at', 'yesterday'])).code, 2);
  assert.equal((await runCli(['nonsense'])).code, 2);
});

test('key inspect prints the curve and compressed key; bad keys exit 1', async () => {
  const k = await runCli(['key', 'inspect', 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme', '--json']);
  assert.equal(k.code, 0);
  const j = JSON.parse(k.out[0]!);
  assert.equal(j.curve, 'k256');
  assert.match(j.compressed, /^0[23][0-9a-f]{64}$/);
  const p = await runCli(['key', 'inspect', 'did:key:zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo']);
  assert.equal(p.code, 0);
  assert.match(p.out[0]!, /p256/);
  const bad = await runCli(['key', 'inspect', 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', '--json']);
  assert.equal(bad.code, 1);
  assert.equal(JSON.parse(bad.out[0]!).error.code, 'UnsupportedKeyType');
});

test('the installed binary runs: encumber --help and an exit code through a real process', () => {
  const bin = join(REPO_ROOT, 'bin', 'encumber.js');
  assert.match(execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' }), /Usage: encumber/);
  const r = spawnSync(process.execPath, [bin, 'plc', 'verify', fixturePath('plc', 'invalid', 'log_invalid_sig_der.json')], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /PlcInvalidSignature/);
});
