/**
 * `encumber did draft → cosign → cosign → submit` against an in-process
 * enclave and a directory stand-in on loopback: the approved handle change
 * reaches the directory signed by the guard key; one co-signature is refused
 * (exit 1); bad input exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';
import { guardedWorld } from '../support/did-guard.ts';
import { createApp, listen } from '../../src/server/app.ts';

test('did draft, cosign, submit: an approved handle change is signed by the guard key and in the directory\'s log', async () => {
  const dir = tempDir('encumber-did-');
  const g = await guardedWorld();
  const [alice, bob] = g.members;
  const directory = createServer(async (req, res) => {
    const m = /^\/([^/]+)\/log\/audit$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !m) {
      res.writeHead(404).end();
      return;
    }
    try {
      const log = await g.dir.fetchLog(decodeURIComponent(m[1]!));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(log));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => directory.listen(0, '127.0.0.1', ok));
  const dirUrl = `http://127.0.0.1:${(directory.address() as { port: number }).port}`;
  const server = await listen(createApp({ service: g.w.service }), '127.0.0.1', 0);
  try {
    const f = (n: string) => join(dir, n);
    const drafted = await runCli(['did', 'draft', '--did', g.org, '--directory', dirUrl, '--set-handle', 'renamed.test', '--out', f('draft.json')]);
    assert.equal(drafted.code, 0, drafted.err.join('\n'));
    const draft = JSON.parse(readFileSync(f('draft.json'), 'utf8'));
    assert.equal(draft.operation.prev, g.dir.head(g.org).cid);
    assert.deepEqual(draft.operation.alsoKnownAs, ['at://renamed.test']);

    writeFileSync(f('alice.key'), alice!.signingKey.toKeyFile());
    const one = await runCli(['did', 'cosign', f('draft.json'), '--key', f('alice.key'), '--issuer', alice!.did, '--yes']);
    assert.equal(one.code, 0, one.err.join('\n'));
    assert.equal((await runCli(['did', 'submit', f('draft.json'), '--enclave', server.url])).code, 1, 'one co-signature of 2 needed: refused');

    writeFileSync(f('bob.key'), bob!.signingKey.toKeyFile());
    const two = await runCli(['did', 'cosign', f('draft.json'), '--key', f('bob.key'), '--issuer', bob!.did, '--yes']);
    assert.equal(two.code, 0, two.err.join('\n'));
    const submitted = await runCli(['did', 'submit', f('draft.json'), '--enclave', server.url, '--out', f('answer.json')]);
    assert.equal(submitted.code, 0, submitted.err.join('\n'));
    const answer = JSON.parse(readFileSync(f('answer.json'), 'utf8'));
    assert.equal(g.dir.head(g.org).cid, answer.operationCid);
    assert.deepEqual(g.dir.head(g.org).operation.alsoKnownAs, ['at://renamed.test']);

    // Bad input: nothing to change, a draft that is not one, a cosign without --yes and nobody to ask.
    assert.equal((await runCli(['did', 'draft', '--did', g.org, '--directory', dirUrl])).code, 2);
    writeFileSync(f('junk.json'), '{"repository": 1}');
    assert.equal((await runCli(['did', 'submit', f('junk.json'), '--enclave', server.url])).code, 2);
    assert.equal((await runCli(['did', 'cosign', f('draft.json'), '--key', f('bob.key'), '--issuer', bob!.did])).code, 2);
  } finally {
    await server.close();
    directory.close();
  }
});

test('did log: the guard\'s signed log checked against the enclave identity (exit 0); a changed log exit 1; bad input exit 2', async () => {
  const dir = tempDir('encumber-did-log-');
  const g = await guardedWorld();
  await g.dir.update(g.org, g.pds, (op) => ({ ...op, rotationKeys: [g.pds.did] }));
  g.poll();
  for (let i = 0; i < 200 && g.w.service.guardLog().entries.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
  const server = await listen(createApp({ service: g.w.service }), '127.0.0.1', 0);
  try {
    const f = (n: string) => join(dir, n);
    const ok = await runCli(['did', 'log', '--identity', server.url]);
    assert.equal(ok.code, 0, ok.err.join('\n') + ok.out.join('\n'));
    assert.ok(ok.out.some((l) => /1 intrusion\(s\)/.test(l)), ok.out.join('\n'));
    assert.ok(ok.out.some((l) => l.includes('reverted by ')), ok.out.join('\n'));
    const json = await runCli(['did', 'log', '--identity', server.url, '--json']);
    assert.equal(JSON.parse(json.out.join('\n')).valid, true);

    // The log saved, an entry dropped: the signature fails (exit 1), with the rule named.
    const log = await (await fetch(`${server.url}/xrpc/dev.encumber.getGuardLog`)).json();
    log.entries = [];
    writeFileSync(f('log.json'), JSON.stringify(log));
    const bad = await runCli(['did', 'log', '--identity', server.url, '--log', f('log.json')]);
    assert.equal(bad.code, 1);
    assert.ok(bad.out.some((l) => l.includes('FAIL guard-log-signature')), bad.out.join('\n'));

    // An identity file without a log file, a log that is not JSON.
    writeFileSync(f('identity.json'), JSON.stringify(g.w.service.identity()));
    assert.equal((await runCli(['did', 'log', '--identity', f('identity.json')])).code, 2);
    writeFileSync(f('junk.json'), '{');
    assert.equal((await runCli(['did', 'log', '--identity', server.url, '--log', f('junk.json')])).code, 2);
  } finally {
    await server.close();
  }
});
