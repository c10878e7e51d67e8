/**
 * `encumber audit`: the receipt's signature is checked against the enclave
 * key the auditor brings (--identity, an enclave URL or getIdentity file, or
 * --key), never against a key the audited document names itself. A stub PLC
 * directory on loopback serves the members' audit logs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { cosignBy, createWorld, draftFor, withLogs, type World } from '../support/world.ts';
import { generateMemberKey } from '../../src/member/keys.ts';
import { encodeCbor } from '../../src/data/cbor.ts';
import { ipldToJson, jsonToIpld } from '../../src/data/json.ts';

let w: World;
let dir: string;
let server: Server;
let url: string;
let answer: Record<string, any>;
const file = (name: string, value: unknown) => {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(value));
  return f;
};

before(async () => {
  w = await createWorld();
  const [alice, bob] = w.members as [any, any];
  answer = (await w.service.signRecord(withLogs(cosignBy(draftFor('audited'), alice, bob), w.members) as never)) as never;
  dir = mkdtempSync(join(tmpdir(), 'encumber-audit-'));
  const logs = new Map(w.members.map((m) => [m.did, m.log]));
  // The directory (GET /:did/log/audit) and, on the same origin, the enclave's getIdentity.
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    if (path === '/xrpc/dev.encumber.getIdentity') return void res.end(JSON.stringify(w.service.identity()));
    const log = logs.get(path.replace(/^\//, '').replace(/\/log\/audit$/, ''));
    if (!log) res.statusCode = 404;
    res.end(JSON.stringify(log ?? { message: 'DID not registered' }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  rmSync(dir, { recursive: true, force: true });
});

const audit = async (doc: unknown, ...extra: string[]) => {
  const r = await runCli(['audit', file(`doc-${Math.random().toString(36).slice(2)}.json`, doc), '--directory', url, '--json', ...extra]);
  return { code: r.code, report: r.out.length ? JSON.parse(r.out.join('\n')) : undefined, err: r.err };
};

/** The attack: re-sign the receipt with one's own key and name that key in the enclave entry. */
function forgedByAttacker(): Record<string, any> {
  const attacker = generateMemberKey();
  const forged = structuredClone(answer);
  const receipt = jsonToIpld(forged.receipt) as Record<string, unknown>;
  receipt.signedAt = '2030-01-01T00:00:00.000Z';
  const { sig: _sig, ...unsigned } = receipt;
  forged.receipt = ipldToJson({ ...unsigned, sig: attacker.sign(encodeCbor(unsigned)) } as never);
  forged.signature = { ...forged.signature, key: attacker.did, issuer: attacker.did };
  return forged;
}

test('audit without --identity/--key: the key the document names is never used, the signature is NOT CHECKED', async () => {
  const forged = await audit(forgedByAttacker());
  assert.notEqual(forged.report.signature, 'valid', 'a receipt signed by whoever the document names is not "valid"');
  assert.equal(forged.report.signature, 'not checked');
  assert.match(forged.report.signatureDetail, /NOT CHECKED/);
  const genuine = await audit(answer);
  assert.equal(genuine.report.signature, 'not checked');
  const text = await runCli(['audit', file('text.json', answer), '--directory', url]);
  assert.match(text.out.join('\n'), /signature was NOT CHECKED/);
});

test('audit --identity URL|FILE or --key: the genuine receipt is valid, the forged one invalid (exit 1)', async () => {
  const identityFile = file('identity.json', w.service.identity());
  for (const trust of [['--identity', url], ['--identity', identityFile], ['--key', w.key.did]]) {
    const ok = await audit(answer, ...trust);
    assert.equal(ok.code, 0, JSON.stringify(ok.report ?? ok.err));
    assert.equal(ok.report.signature, 'valid');
    assert.equal(ok.report.fresh, true);
    const bad = await audit(forgedByAttacker(), ...trust);
    assert.equal(bad.code, 1);
    assert.equal(bad.report.signature, 'invalid');
  }
  // A receipt from another enclave (another key, policy and binding) against this identity: invalid.
  const other = await createWorld({ members: w.members });
  const [alice, bob] = w.members as [any, any];
  const theirs = await other.service.signRecord(withLogs(cosignBy(draftFor('elsewhere'), alice, bob), w.members) as never);
  assert.equal((await audit(theirs, '--identity', identityFile)).report.signature, 'invalid');
  // Usage: a malformed key, or a key that is not the identity's.
  assert.equal((await audit(answer, '--key', 'did:key:nope')).code, 2);
  assert.equal((await audit(answer, '--identity', identityFile, '--key', other.key.did)).code, 2);
});
