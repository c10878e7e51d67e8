/** The worked example end to end over a real loopback socket: `encumber demo` exits 0 with every step ok. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.ts';

test('npm run demo: members co-sign, the enclave signs, the verifier checks, bad drafts are refused', async () => {
  const r = await runCli(['demo']);
  const out = r.out.join('\n');
  assert.equal(r.code, 0, out + r.err.join('\n'));
  assert.match(out, /ok {3}signRecord: payload bafyrei/);
  assert.match(out, /ok {2}nonce: nonce equals the expected 32 bytes/);
  assert.match(out, /ok {2}platform: DEV ROOT/);
  for (const code of ['InsufficientCosigners', 'InvalidCosignature', 'UnknownSigner', 'StalePlcLog']) assert.match(out, new RegExp(`ok .*HTTP 422 ${code}`));
  assert.doesNotMatch(out, /FAIL/);
});
