/**
 * The public surface is package.json "exports" (encumber/verify, /plc,
 * /attestation, /data), built to plain JavaScript (npm run build:lib). A
 * consumer written in plain JavaScript, run by plain Node without any
 * TypeScript loader, imports only through that map and gets the same answers
 * as the project's own code; anything not exported cannot be imported.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { buildLib, LIB_ENTRIES } from '../../tools/build-lib.ts';
import { REPO } from '../../tools/import-graph.ts';
import { cosignBy, createWorld, draftFor, ORG, withLogs } from '../support/world.ts';
import { SHARED_FIXTURES as FIXTURES } from '../support/fixtures.ts';

const node = (args: string[], input?: string) =>
  spawnSync(process.execPath, args, { cwd: REPO, input, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

before(async () => {
  await buildLib(join(REPO, 'dist', 'lib'), { types: false });
});

test('package.json exports exactly the four public entries (and package.json)', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['./attestation', './data', './package.json', './plc', './verify']);
  assert.deepEqual(Object.keys(LIB_ENTRIES).sort(), ['attestation', 'data', 'plc', 'verify']);
});

test('a plain-JavaScript program verifies a signed record, a PLC log, a Nitro document and a CID through the exports', async () => {
  const w = await createWorld();
  const [alice, bob] = w.members as [never, never];
  const signed = (await w.service.signRecord(withLogs(cosignBy(draftFor('via exports'), alice, bob), w.members))) as { record: Record<string, any> };
  const tampered = structuredClone(signed.record);
  tampered.text = 'changed after signing';
  const job = {
    identity: w.service.identity(),
    repository: ORG,
    at: '2026-01-02T00:00:00.000Z',
    records: { good: signed.record, tampered },
    plc: { did: 'did:plc:z72i7hdynmk6r22z27h6tvur', file: join(FIXTURES, 'plc', 'valid', 'log_bskyapp.json') },
    nitro: { file: join(FIXTURES, 'nitro', 'evervault-beta-nondebug-valid.cbor'), at: '2022-10-13T08:58:02.136Z' },
    data: { $type: 'com.example.x', n: 1, link: { $link: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' } },
  };
  const run = node([join(REPO, 'test', 'exports', 'consumer.mjs')], JSON.stringify(job));
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.equal(out.good.valid, true, JSON.stringify(out.good));
  assert.deepEqual(out.tampered, { valid: false, code: 'EnclaveSignatureInvalid', rows: ['identity-policy', 'identity-binding', 'policy', 'policy-pin', 'record-shape', 'payload', 'enclave-signature'] });
  assert.equal(out.plc.ok, true);
  assert.equal(out.nitro.ok, true, JSON.stringify(out.nitro));
  // The same CID the project's own code computes.
  const { cidForValue, jsonToIpld } = await import('../../src/data/index.ts');
  assert.equal(out.cid, cidForValue(jsonToIpld(job.data)).toString());
});

test('internal modules are not reachable through the package name', () => {
  for (const path of ['encumber/src/verifier/record.ts', 'encumber/dist/lib/verify.js', 'encumber/enclave', 'encumber']) {
    const run = node(['--input-type=module', '-e', `await import(${JSON.stringify(path)})`]);
    assert.notEqual(run.status, 0, `${path} was importable`);
    assert.match(run.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED|ERR_MODULE_NOT_FOUND|ERR_UNSUPPORTED/, path);
  }
});
