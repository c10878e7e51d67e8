/**
 * `encumber record verify at://…` from the network (loopback atproto network:
 * test/support/atproto-net.ts) against a live dev enclave: the repository DID,
 * the PDS read, the signed commit and the inclusion proof come first as rows,
 * then the attestation and every record check, with the co-signers' logs
 * fetched from the same directory. Exit 0 valid, 1 invalid, 2 unreachable.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';
import { addMembers, startNet, type Net, type NetRepo } from '../support/atproto-net.ts';
import { serve, type RunningServer } from '../../src/cli/commands/serve.ts';
import { policyDocument } from '../../src/policy/policy.ts';
import { COLLECTION, cosignBy, createMember, draftFor, withLogs, type Member } from '../support/world.ts';

const quiet = { out: () => {}, err: () => {}, readInput: async () => '' };
let dir: string;
let net: Net;
let org: NetRepo;
let server: RunningServer;
let signedRecord: Record<string, unknown>;

before(async () => {
  dir = tempDir('encumber-netcli-');
  net = await startNet();
  org = await net.createRepo('org.test');
  const members = [await createMember('m1.test'), await createMember('m2.test'), await createMember('m3.test')];
  addMembers(net, members);
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policyDocument({ repository: org.did, signers: members.map((m) => m.did), threshold: 2 })));
  server = await serve({ policy: join(dir, 'policy.json'), port: '0', host: '127.0.0.1', platform: 'dev', dataDir: join(dir, 'data'), quiet: true }, quiet);
  const draft = withLogs(cosignBy({ ...draftFor('verified from the network'), repository: org.did }, members[0] as Member, members[1] as Member), members);
  const res = await fetch(`${server.url}/xrpc/dev.encumber.signRecord`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(draft) });
  assert.equal(res.status, 200);
  signedRecord = ((await res.json()) as { record: Record<string, unknown> }).record;
  await net.write(org, [{ collection: COLLECTION, rkey: 'post1', record: signedRecord }, { collection: COLLECTION, rkey: 'edited', record: { ...signedRecord, text: 'edited on the PDS' } }]);
});
after(async () => {
  await server?.close();
  await net?.close();
});

const soon = () => new Date(Date.now() + 2000).toISOString();
const live = () => ['--identity', server.url, '--root', join(dir, 'data', 'dev-root.pem'), '--any-measurement', '--at', soon(), '--plc', net.plcUrl];

test('at://: valid, the network rows first, then the attestation and every record check (co-signer keys re-checked)', async () => {
  const r = await runCli(['record', 'verify', `at://${org.did}/${COLLECTION}/post1`, ...live(), '--repository', org.did, '--json']);
  const j = JSON.parse(r.out[0]!);
  assert.equal(r.code, 0, JSON.stringify(j.error));
  const names = j.checks.map((c: { name: string }) => c.name);
  assert.deepEqual(names.slice(0, 8), ['repository-did', 'repository-pds', 'repo-proof-car', 'repo-commit', 'repo-commit-did', 'repo-commit-signature', 'repo-mst-path', 'repo-record']);
  for (const n of ['nonce', 'record-location', 'enclave-signature', 'receipt', 'cosignatures', 'cosigner-keys']) assert.ok(names.includes(n), n);
  const keys = j.checks.find((c: { name: string }) => c.name === 'cosigner-keys');
  assert.ok(keys.ok && !keys.skipped, 'the co-signers\' logs came from the directory');
  const text = await runCli(['record', 'verify', `at://${org.did}/${COLLECTION}/post1`, ...live()]);
  assert.equal(text.code, 0);
  assert.match(text.out.join('\n'), /ok {2}repo-commit-signature: commit .* signed by did:key:/);
  assert.match(text.out.at(-1)!, /^valid: record signed by/);
});

test('a bsky.app URL with a handle, resolved by the PDS and claimed back by the DID', async () => {
  const r = await runCli(['record', 'verify', `https://bsky.app/profile/org.test/post/post1`, ...live(), '--handle-resolver', net.pdsUrl, '--json']);
  const j = JSON.parse(r.out[0]!);
  assert.equal(r.code, 0, JSON.stringify(j.error));
  assert.equal(j.checks[0].name, 'handle');
});

test('a record edited on the PDS after signing: exit 1, the proof holds and the enclave signature row fails', async () => {
  const r = await runCli(['record', 'verify', `at://${org.did}/${COLLECTION}/edited`, ...live(), '--json']);
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out[0]!);
  assert.equal(j.error.code, 'EnclaveSignatureInvalid');
  assert.equal(j.checks.find((c: { name: string }) => c.name === 'repo-record').ok, true);
});

test('a record not in the repository: exit 1 with the proof rows; an unreachable PDS: exit 2', async () => {
  const missing = await runCli(['record', 'verify', `at://${org.did}/${COLLECTION}/nothere`, ...live(), '--json']);
  assert.equal(missing.code, 1);
  assert.equal(JSON.parse(missing.out[0]!).error.code, 'RecordNotInRepo');
  const down = await runCli(['record', 'verify', `at://${org.did}/${COLLECTION}/post1`, ...live(), '--pds', 'http://127.0.0.1:9']);
  assert.equal(down.code, 2, down.err.join('\n'));
  const badUrl = await runCli(['record', 'verify', `at://${org.did}/${COLLECTION}/post1`, ...live(), '--pds', 'not a url']);
  assert.equal(badUrl.code, 2, badUrl.err.join('\n'));
});
