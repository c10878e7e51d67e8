/** `encumber record verify` with identity and record files: valid, tampered, usage errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { cosignBy, createWorld, draftFor, withLogs } from '../support/world.ts';
import { tempDir } from '../support/fixtures.ts';

test('record verify: a signed record is valid; a tampered one is not; the answer of signRecord is accepted too', async () => {
  const w = await createWorld();
  const [alice, bob] = w.members as [any, any];
  const answer = await w.service.signRecord(withLogs(cosignBy(draftFor('cli verify'), alice, bob), w.members) as never);
  const dir = tempDir('encumber-rv-');
  const idFile = join(dir, 'identity.json');
  writeFileSync(idFile, JSON.stringify(w.service.identity()));
  writeFileSync(join(dir, 'answer.json'), JSON.stringify(answer));
  writeFileSync(join(dir, 'record.json'), JSON.stringify(answer.record));
  const tampered = structuredClone(answer.record) as Record<string, unknown>;
  tampered.text = 'not what they signed';
  writeFileSync(join(dir, 'tampered.json'), JSON.stringify(tampered));

  for (const f of ['answer.json', 'record.json']) {
    const r = await runCli(['record', 'verify', join(dir, f), '--identity', idFile, '--trust-identity', '--json']);
    const j = JSON.parse(r.out[0]!);
    assert.equal(r.code, 0, JSON.stringify(j.error));
    assert.equal(j.valid, true);
    assert.equal(j.checks[0].name, 'attestation');
    assert.equal(j.checks[0].skipped, true);
  }
  const bad = await runCli(['record', 'verify', join(dir, 'tampered.json'), '--identity', idFile, '--trust-identity', '--json']);
  assert.equal(bad.code, 1);
  assert.equal(JSON.parse(bad.out[0]!).checks.at(-1).name, 'enclave-signature');
  // Without evidence and without --trust-identity, an identity file proves nothing: refused.
  const unattested = await runCli(['record', 'verify', join(dir, 'record.json'), '--identity', idFile, '--json']);
  assert.equal(unattested.code, 1);
  assert.equal(JSON.parse(unattested.out[0]!).error.code, 'EvidenceMissing');
  assert.equal((await runCli(['record', 'verify', join(dir, 'nope.json'), '--identity', idFile])).code, 2);
  writeFileSync(join(dir, 'garbage.json'), 'not json');
  assert.equal((await runCli(['record', 'verify', join(dir, 'garbage.json'), '--identity', idFile])).code, 2);
  assert.equal((await runCli(['record', 'verify', join(dir, 'record.json'), '--identity', join(dir, 'garbage.json')])).code, 2);
  assert.equal((await runCli(['record', 'verify', join(dir, 'record.json'), '--identity', 'http://127.0.0.1:9'])).code, 2);
});
