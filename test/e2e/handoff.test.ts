/**
 * The key hand-off between real servers (`encumber serve`, dev platform, one
 * data directory so one dev root) on loopback sockets: A serves; B starts with
 * `--join A` and serves the same key; A stops; B keeps signing; C joins B and
 * signs too. Each binding's attestation verifies against the dev root and the
 * dev measurement of this source tree. An upgrade A approved travels with the
 * key: C publishes it, and it verifies against C's identity.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, type RunningServer } from '../../src/cli/commands/serve.ts';
import { devMeasurements } from '../../src/cli/commands/measure.ts';
import { verifyEvidence } from '../../src/verifier/evidence.ts';
import { parseMeasurements } from '../../src/verifier/measurements.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { cosignBy, createMember, draftFor, policyFor, withLogs } from '../support/world.ts';
import { tempDir } from '../support/fixtures.ts';
import { DIGEST_B, upgradeDraft } from '../support/handoff.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { verifyUpgrade } from '../../src/verifier/upgrade.ts';

const quietIo: CliIo = { out: () => {}, err: () => {}, readInput: async () => '' };
const running: RunningServer[] = [];
after(async () => {
  for (const s of running) await s.close().catch(() => {});
});

async function call(url: string, path: string, init?: RequestInit) {
  const res = await fetch(url + path, init);
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

test('A serves; B joins A; A stops; B signs; C joins B and signs: one key throughout', async () => {
  const dir = tempDir('encumber-handoff-');
  const members = [await createMember('ha.test'), await createMember('hb.test'), await createMember('hc.test')];
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policyFor(members)));
  const dataDir = join(dir, 'data');
  const start = async (joinUrl?: string) => {
    const s = await serve({ policy: policyFile, port: '0', host: '127.0.0.1', platform: 'dev', dataDir, quiet: true, ...(joinUrl ? { join: joinUrl } : {}) }, quietIo);
    running.push(s);
    return s;
  };
  const sign = async (url: string, text: string) =>
    call(url, '/xrpc/dev.encumber.signRecord', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(withLogs(cosignBy(draftFor(text), members[0]!, members[2]!), members)),
    });
  const attested = async (url: string) => {
    const nonce = '5eed'.repeat(8);
    const att = await call(url, `/xrpc/dev.encumber.getAttestation?nonce=${nonce}`);
    const v = await verifyEvidence(
      { evidence: new Uint8Array(Buffer.from(att.json.evidence.$bytes, 'base64')), binding: att.json.binding, bindingCid: att.json.bindingCid },
      { roots: readFileSync(join(dataDir, 'dev-root.pem'), 'utf8'), at: new Date(), nonce: Buffer.from(nonce, 'hex'), measurements: { accept: parseMeasurements(devMeasurements()) } },
    );
    assert.ok(v.ok, JSON.stringify(v.checks.at(-1)));
    return v.ok ? v.key : undefined;
  };

  const a = await start();
  const keyA = (await call(a.url, '/xrpc/dev.encumber.getIdentity')).json.key as string;
  const upgrade = upgradeDraft(parsePolicy(policyFor(members)).cid, [DIGEST_B], [members[0]!, members[1]!]);
  const approved = await call(a.url, '/xrpc/dev.encumber.approveUpgrade', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(upgrade) });
  assert.equal(approved.status, 200, JSON.stringify(approved.json));

  const b = await start(a.url);
  assert.equal((await call(b.url, '/xrpc/_health')).status, 200);
  assert.equal((await call(b.url, '/xrpc/dev.encumber.getIdentity')).json.key, keyA);
  assert.equal(await attested(b.url), keyA);

  await a.close();
  const signedByB = await sign(b.url, 'after A stopped');
  assert.equal(signedByB.status, 200, JSON.stringify(signedByB.json));
  assert.equal(signedByB.json.signature.key, keyA);

  const c = await start(b.url);
  assert.equal((await call(c.url, '/xrpc/dev.encumber.getIdentity')).json.key, keyA);
  assert.equal(await attested(c.url), keyA);
  // The approval moved with the key, A -> B -> C: C publishes it, and it verifies against C's identity.
  assert.deepEqual((await call(c.url, '/xrpc/dev.encumber.getUpgrades')).json.upgrades, [approved.json]);
  const v = verifyUpgrade((await call(c.url, '/xrpc/dev.encumber.getIdentity')).json as never, approved.json);
  assert.ok(v.ok, JSON.stringify(v.checks.at(-1)));
  const signedByC = await sign(c.url, 'by the third instance');
  assert.equal(signedByC.status, 200, JSON.stringify(signedByC.json));
  assert.equal(signedByC.json.signature.key, keyA);

  // Joining a stopped instance fails closed: not serving, and health says why.
  const d = await start(a.url);
  const health = await call(d.url, '/xrpc/_health');
  assert.deepEqual([health.status, health.json.state, health.json.failure.code], [503, 'failed', 'RemoteUnavailable']);
  assert.equal((await sign(d.url, 'never')).status, 503);
});
