/**
 * The enclave bundle run with the image's Node flags and allocator settings
 * (enclave/image/rootfs/init: a capped old generation keeps RSS small) still takes the largest requests
 * the API accepts, many at once, answers each, and keeps serving: the heap cap
 * is no way to crash the enclave.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageNodeEnv, imageNodeFlags } from '../../enclave/image/node-flags.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/server/app.ts';
import { policyDocument } from '../../src/policy/policy.ts';
import { ORG, cosignBy, createMember, draftFor, withLogs, type Member } from '../support/world.ts';
import { REPO_ROOT, tempDir } from '../support/fixtures.ts';

let dir: string;
let bundleDir: string;
let child: ChildProcess;
let url: string;
let members: Member[];
const SIGN = '/xrpc/dev.encumber.signRecord';

before(async () => {
  dir = tempDir('encumber-memory-');
  // Inside the checkout, so the bundle resolves its native packages (libsecp256k1) from node_modules as in the image.
  mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true });
  bundleDir = mkdtempSync(join(REPO_ROOT, 'dist', 'memory-test-'));
  const bundle = join(bundleDir, 'encumber-enclave.mjs');
  const built = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'enclave', 'build-bundle.ts'), '--out', bundle], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  members = [await createMember('m1.test'), await createMember('m2.test'), await createMember('m3.test')];
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policyDocument({ repository: ORG, signers: members.map((m) => m.did), threshold: 2 })));
  const flags = imageNodeFlags();
  assert.ok(flags.some((f) => f.startsWith('--max-old-space-size=')), `the image caps the old generation: ${flags.join(' ')}`);
  child = spawn(process.execPath, [...flags, bundle, '--policy', join(dir, 'policy.json'), '--port', '0', '--host', '127.0.0.1', '--quiet', '--data-dir', join(dir, 'data')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...imageNodeEnv() } });
  url = await new Promise<string>((ok, fail) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /serving on (http:\/\/\S+)/.exec(err);
      if (m) ok(m[1]!);
    });
    child.once('exit', (c) => fail(new Error(`the bundle exited ${c}: ${err}`)));
  });
});
after(() => {
  child?.kill();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

const post = (body: string) => fetch(url + SIGN, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

test('32 bodies of just under the size limit at once, each ~90k JSON objects: each answered 400, then the enclave still signs', async () => {
  // Valid JSON the size of the limit, as many small objects as fit (the most heap a parse can take),
  // with the co-signed draft around it so the body is refused only at the schema.
  const draft = withLogs(cosignBy(draftFor('heap'), members[0]!, members[1]!), members);
  const one = '{"a":1},';
  const room = DEFAULT_MAX_BODY_BYTES - JSON.stringify(draft).length - 32;
  const pad = `[${one.repeat(Math.floor(room / one.length) - 1)}{"a":1}]`;
  const big = JSON.stringify({ ...draft, pad: 0 }).replace('"pad":0', `"pad":${pad}`);
  assert.ok(big.length <= DEFAULT_MAX_BODY_BYTES && big.length > DEFAULT_MAX_BODY_BYTES - 1024, String(big.length));
  const answers = await Promise.all(Array.from({ length: 32 }, async () => {
    const res = await post(big);
    return { status: res.status, error: ((await res.json()) as { error?: string }).error };
  }));
  for (const a of answers) assert.deepEqual(a, { status: 400, error: 'InvalidRequest' });
  assert.equal(child.exitCode, null, 'the enclave is still running');
  assert.equal((await fetch(url + '/xrpc/_health')).status, 200);
  const ok = await post(JSON.stringify(draft));
  assert.equal(ok.status, 200, await ok.text());
});

test('504 signRecords, 8 at a time, under the capped heap: all signed', async () => {
  const body = JSON.stringify(withLogs(cosignBy(draftFor('many'), members[1]!, members[2]!), members));
  let signed = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let i = 0; i < 63; i++) {
      const res = await post(body);
      await res.arrayBuffer();
      if (res.status === 200) signed++;
    }
  }));
  assert.equal(signed, 504);
  assert.equal(child.exitCode, null);
});
