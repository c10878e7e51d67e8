/**
 * `encumber attest verify` on every real Nitro document: valid at its own
 * timestamp, invalid 1 s after its leaf expires, debug only with
 * --allow-debug, the non-AWS document refused; and a live dev attestation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturePath, listFixtures, readFixtureBytes, tempDir } from '../support/fixtures.ts';
import { runCli } from '../support/cli.ts';
import { verifyNitroDocument, AWS_NITRO_ROOT_G1_DER } from '../../src/attestation/nitro/index.ts';
import { loadOrCreateDevRoot, devAttestor } from '../../src/enclave/platforms.ts';
import { KeyHolder } from '../../src/enclave/key-holder.ts';
import { parseDidKey } from '../../src/crypto/did-key.ts';
import { cidForValue } from '../../src/data/cid.ts';
import { ipldToJson } from '../../src/data/json.ts';

const docs = listFixtures('nitro').filter((f) => f.endsWith('.cbor'));

for (const name of docs) {
  test(`attest verify ${name}`, async () => {
    const file = fixturePath('nitro', name);
    if (name.includes('nonaws')) {
      const r = await runCli(['attest', 'verify', file, '--json', '--at', '2024-12-13T09:05:45.008Z', '--allow-debug', '--any-measurement']);
      assert.equal(r.code, 1);
      assert.equal(JSON.parse(r.out[0]!).error.code, 'UntrustedRoot');
      return;
    }
    // Learn the document's own timestamp and window (lenient parse), then check the CLI at those times.
    const probe = verifyNitroDocument(readFixtureBytes('nitro', name), { trustRoots: [AWS_NITRO_ROOT_G1_DER], at: new Date(0), allowDebug: true });
    assert.equal(probe.ok, false);
    const ts = (await runCli(['attest', 'verify', file, '--json', '--allow-debug', '--any-measurement', '--at', '2000-01-01T00:00:00Z'])).out[0]!;
    assert.equal(JSON.parse(ts).error.code, 'CertificateExpired');
    const ok = await runCli(['attest', 'verify', file, '--json', '--allow-debug', '--any-measurement', '--at', timestampOf(file)]);
    const okJson = JSON.parse(ok.out[0]!);
    assert.equal(ok.code, 0, JSON.stringify(okJson.error));
    assert.equal(okJson.platform, 'nitro');
    const notAfter = windowEnd(okJson.checks);
    const late = await runCli(['attest', 'verify', file, '--json', '--allow-debug', '--any-measurement', '--at', new Date(notAfter + 1000).toISOString()]);
    assert.equal(late.code, 1);
    assert.equal(JSON.parse(late.out[0]!).error.code, 'CertificateExpired');
    // Without a pinned measurement the same valid document is not accepted; with its own PCR0 it is; with another, PcrMismatch.
    const unpinned = await runCli(['attest', 'verify', file, '--json', '--allow-debug', '--at', timestampOf(file)]);
    assert.equal(unpinned.code, 1);
    assert.equal(JSON.parse(unpinned.out[0]!).error.code, 'MeasurementNotPinned');
    const pcr0 = pcr0Of(file);
    const pinned = await runCli(['attest', 'verify', file, '--json', '--allow-debug', '--expect-pcr0', pcr0, '--at', timestampOf(file)]);
    assert.equal(pinned.code, 0, pinned.out.join('\n'));
    const wrong = await runCli(['attest', 'verify', file, '--json', '--allow-debug', '--expect-pcr0', 'ab'.repeat(48), '--at', timestampOf(file)]);
    assert.equal(JSON.parse(wrong.out[0]!).error.code, 'PcrMismatch');
    if (/-debug-/.test(name)) {
      const strict = await runCli(['attest', 'verify', file, '--json', '--any-measurement', '--at', timestampOf(file)]);
      assert.equal(strict.code, 1);
      assert.equal(JSON.parse(strict.out[0]!).error.code, 'DebugEnclave');
    }
  });
}

function timestampOf(file: string): string {
  const v = verifyNitroDocument(new Uint8Array(require_(file)), { trustRoots: [AWS_NITRO_ROOT_G1_DER], at: new Date('2022-01-01T00:00:00Z'), allowDebug: true });
  const row = v.checks.find((c) => c.name === 'document-structure')!;
  return /(\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(row.detail)![1]!;
}

function pcr0Of(file: string): string {
  const v = verifyNitroDocument(new Uint8Array(require_(file)), { trustRoots: [AWS_NITRO_ROOT_G1_DER], at: new Date(timestampOf(file)), allowDebug: true });
  assert.ok(v.ok);
  return Buffer.from(v.pcrs[0]!).toString('hex');
}

function windowEnd(checks: { name: string; detail: string }[]): number {
  const row = checks.find((c) => c.name === 'validity')!;
  return Date.parse(/\.\. (\S+Z)\)/.exec(row.detail)![1]!);
}

import { readFileSync } from 'node:fs';
const require_ = (f: string) => readFileSync(f);

test('a dev attestation verifies only with its dev root, and binds key, binding and nonce', async () => {
  const dir = tempDir('encumber-att-');
  const { root, pemPath } = loadOrCreateDevRoot(dir, new Date());
  const key = KeyHolder.generate();
  const binding = { $type: 'dev.encumber.binding', version: 1, key: key.did, policy: cidForValue({ p: 1 }), program: { name: 'encumber', version: '0.1.0' }, platform: 'dev', createdAt: new Date().toISOString() };
  const cid = cidForValue(binding);
  const evidence = await devAttestor(root, new Uint8Array(48)).attest({
    publicKey: parseDidKey(key.did).compressed,
    bindingBytes: new Uint8Array(),
    bindingCid: cid.bytes,
    nonce: new Uint8Array([1, 2, 3]),
    now: new Date(),
  });
  const response = { platform: 'dev', evidence: ipldToJson(evidence), binding: ipldToJson(binding), bindingCid: cid.toString() };
  const file = join(dir, 'att.json');
  writeFileSync(file, JSON.stringify(response));
  const ok = await runCli(['attest', 'verify', file, '--root', pemPath, '--nonce', '010203', '--json', '--any-measurement']);
  assert.equal(ok.code, 0, ok.out.join('\n'));
  assert.equal(JSON.parse(ok.out[0]!).platform, 'dev');
  // Without the dev root (AWS root by default): refused.
  const noRoot = await runCli(['attest', 'verify', file, '--json', '--any-measurement']);
  assert.equal(JSON.parse(noRoot.out[0]!).error.code, 'UntrustedRoot');
  // Wrong nonce.
  const nonce = await runCli(['attest', 'verify', file, '--root', pemPath, '--nonce', '010204', '--json', '--any-measurement']);
  assert.equal(JSON.parse(nonce.out[0]!).error.code, 'NonceMismatch');
  // A binding that claims nitro while the evidence chains to the dev root.
  const lying = { ...binding, platform: 'nitro' };
  writeFileSync(file, JSON.stringify({ ...response, binding: ipldToJson(lying), bindingCid: cidForValue(lying).toString() }));
  const lie = await runCli(['attest', 'verify', file, '--root', pemPath, '--json', '--any-measurement']);
  assert.equal(lie.code, 1);
  assert.equal(JSON.parse(lie.out[0]!).error.code, 'BindingMismatch');
  // Usage errors.
  assert.equal((await runCli(['attest', 'verify', join(dir, 'missing')])).code, 2);
  assert.equal((await runCli(['attest', 'verify', file, '--at', 'nope'])).code, 2);
});
