/**
 * Black box: `encumber serve` (dev platform, the embedded demo policy) signs a
 * record the demo members co-signed; `record verify` and `attest verify` say
 * when the policy was not pinned, refuse another policy or repository, refuse
 * an at:// record outside the policy's repository, and say when only the
 * platform and measurement were checked. `serve` refuses the demo policy on
 * hardware platforms unless told otherwise. SEV-SNP: a nonce asked for is
 * checked even without a binding.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { startNet, type Net, type NetRepo } from '../support/atproto-net.ts';
import { fixturePath } from '../support/fixtures.ts';
import { serve, type RunningServer } from '../../src/cli/commands/serve.ts';
import { parseMemberKeyFile } from '../../src/member/keys.ts';
import { cosignDraft, type Draft } from '../../src/member/cosign.ts';
import { loadDefaultPolicy } from '../../src/policy/default-policy.ts';

const DEMO = join(import.meta.dirname, '..', 'fixtures', 'demo');
const OTHER_REPO = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const quiet = { out: () => {}, err: () => {}, readInput: async () => '' };

let dir: string;
let server: RunningServer;
let net: Net;
let other: NetRepo;
let answerFile: string;
let identityFile: string;
let root: string;
const demo = loadDefaultPolicy();
const demoLog = (name: string): [string, unknown] => {
  const log = JSON.parse(readFileSync(join(DEMO, `${name}.plc.json`), 'utf8')) as { did: string }[];
  return [log[0]!.did, log];
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'encumber-pin-'));
  server = await serve({ port: '0', host: '127.0.0.1', platform: 'dev', dataDir: join(dir, 'data'), quiet: true }, quiet);
  root = join(dir, 'data', 'dev-root.pem');
  let draft: Draft = {
    repository: demo.policy.repository,
    collection: 'app.bsky.feed.post',
    record: { $type: 'app.bsky.feed.post', text: 'pinned or not', createdAt: '2026-01-01T00:00:00.000Z' },
    cosignatures: [],
    plcLogs: {},
  };
  for (const name of ['alice', 'bob']) {
    const key = parseMemberKeyFile(readFileSync(join(DEMO, `${name}.key`), 'utf8'));
    const log = JSON.parse(readFileSync(join(DEMO, `${name}.plc.json`), 'utf8')) as { did: string }[];
    draft = { ...cosignDraft(draft, key, log[0]!.did).draft, plcLogs: { ...draft.plcLogs, [log[0]!.did]: log } };
  }
  const draftFile = join(dir, 'draft.json');
  writeFileSync(draftFile, JSON.stringify(draft));
  answerFile = join(dir, 'answer.json');
  const submitted = await runCli(['submit', draftFile, '--enclave', server.url, '--out', answerFile]);
  assert.equal(submitted.code, 0, submitted.err.join('\n'));
  identityFile = join(dir, 'identity.json');
  writeFileSync(identityFile, JSON.stringify(await (await fetch(`${server.url}/xrpc/dev.encumber.getIdentity`)).json()));
  // Another repository, on a loopback atproto network, holding a copy of the signed record.
  net = await startNet();
  other = await net.createRepo('other.test', [{ collection: 'app.bsky.feed.post', rkey: '3k', record: JSON.parse(readFileSync(answerFile, 'utf8')).record }]);
  for (const name of ['alice', 'bob']) net.addLog(...demoLog(name));
});

after(async () => {
  await server?.close();
  await net?.close();
  rmSync(dir, { recursive: true, force: true });
});

// The dev leaf's notBefore is its issue time rounded up to the second: check a moment later.
const soon = () => new Date(Date.now() + 2000).toISOString();
const live = () => ['--identity', server.url, '--root', root, '--any-measurement', '--at', soon(), '--json'];

test('record verify without --policy-cid/--repository: valid, but a warning row and policyPinned=false say the policy was not pinned', async () => {
  const r = await runCli(['record', 'verify', answerFile, ...live()]);
  const j = JSON.parse(r.out[0]!);
  assert.equal(r.code, 0, JSON.stringify(j.error));
  assert.equal(j.policyPinned, false);
  const row = j.checks.find((c: { name: string }) => c.name === 'policy-pin');
  assert.equal(row.skipped, true);
  assert.match(row.detail, /NOT PINNED/);
  assert.ok(j.warnings.some((w: string) => w.startsWith('policy-pin:')), JSON.stringify(j.warnings));
  const policyRow = j.checks.find((c: { name: string }) => c.name === 'policy');
  assert.ok(policyRow.detail.includes(demo.policy.repository));
  const text = await runCli(['record', 'verify', answerFile, '--identity', server.url, '--root', root, '--any-measurement', '--at', soon()]);
  assert.match(text.out.at(-1)!, /policy NOT pinned/);
});

test('record verify pinned to the right policy or repository: valid and pinned; to another: PolicyPinMismatch', async () => {
  for (const pin of [['--policy-cid', demo.cid.toString()], ['--repository', demo.policy.repository]]) {
    const r = await runCli(['record', 'verify', answerFile, ...live(), ...pin]);
    const j = JSON.parse(r.out[0]!);
    assert.equal(r.code, 0, JSON.stringify(j.error));
    assert.equal(j.policyPinned, true);
  }
  for (const pin of [['--policy-cid', 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'], ['--repository', OTHER_REPO]]) {
    const r = await runCli(['record', 'verify', answerFile, ...live(), ...pin]);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.out[0]!).error.code, 'PolicyPinMismatch');
  }
  assert.equal((await runCli(['record', 'verify', answerFile, ...live(), '--policy-cid', 'nope'])).code, 2);
});

test('record verify of an at:// record: refused when its repository is not the policy\'s', async () => {
  // The signed record copied into another repository on a loopback network: proved there, refused by the policy.
  const elsewhere = await runCli(['record', 'verify', `at://${other.did}/app.bsky.feed.post/3k`, '--plc', net.plcUrl, ...live()]);
  assert.equal(elsewhere.code, 1, elsewhere.out.join('\n'));
  const j = JSON.parse(elsewhere.out[0]!);
  assert.equal(j.error.code, 'RepositoryNotAllowed');
  assert.equal(j.checks.at(-1).name, 'record-location');
  assert.equal(j.checks.find((c: { name: string }) => c.name === 'repo-record').ok, true, 'the proof itself held');
  // A getRecord answer saved to a file carries its uri: the same rule.
  const saved = join(dir, 'get-record.json');
  writeFileSync(saved, JSON.stringify({ uri: `at://${OTHER_REPO}/app.bsky.feed.post/3k`, value: JSON.parse(readFileSync(answerFile, 'utf8')).record }));
  assert.equal(JSON.parse((await runCli(['record', 'verify', saved, ...live()])).out[0]!).error.code, 'RepositoryNotAllowed');
});

test('attest verify: the policy pin, and a verdict that says when no binding was checked', async () => {
  const nonce = '0a0b0c';
  const att = await (await fetch(`${server.url}/xrpc/dev.encumber.getAttestation?nonce=${nonce}`)).json() as Record<string, any>;
  const attFile = join(dir, 'att.json');
  writeFileSync(attFile, JSON.stringify(att));
  const base = ['attest', 'verify', attFile, '--root', root, '--any-measurement', '--nonce', nonce, '--at', soon(), '--json'];

  const open = JSON.parse((await runCli([...base, '--binding', identityFile])).out[0]!);
  assert.equal(open.valid, true, JSON.stringify(open.error));
  assert.equal(open.scope, 'binding');
  assert.equal(open.policyPinned, false);
  assert.ok(open.warnings.some((w: string) => /policy-pin: NOT PINNED/.test(w)));
  const pinned = JSON.parse((await runCli([...base, '--binding', identityFile, '--repository', demo.policy.repository])).out[0]!);
  assert.equal(pinned.valid, true, JSON.stringify(pinned.error));
  assert.equal(pinned.policyPinned, true);
  const other = JSON.parse((await runCli([...base, '--binding', identityFile, '--repository', OTHER_REPO])).out[0]!);
  assert.equal(other.error.code, 'PolicyPinMismatch');
  const wrongCid = JSON.parse((await runCli([...base, '--policy-cid', 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'])).out[0]!);
  assert.equal(wrongCid.error.code, 'PolicyPinMismatch');
  // --repository needs the policy document: the getAttestation answer alone has only the binding.
  const cannot = JSON.parse((await runCli([...base, '--repository', demo.policy.repository])).out[0]!);
  assert.equal(cannot.valid, false);
  assert.equal(cannot.error.code, 'CheckNotPossible');

  // The raw evidence alone: valid for platform and measurement only, and it says so.
  const raw = join(dir, 'evidence.bin');
  writeFileSync(raw, Buffer.from(att.evidence.$bytes, 'base64'));
  const bare = await runCli(['attest', 'verify', raw, '--root', root, '--any-measurement', '--at', soon(), '--json']);
  const b = JSON.parse(bare.out[0]!);
  assert.equal(bare.code, 0, JSON.stringify(b.error));
  assert.equal(b.scope, 'platform-and-measurement');
  assert.ok(b.warnings.some((w: string) => /^binding: NOT CHECKED/.test(w)), JSON.stringify(b.warnings));
  const text = await runCli(['attest', 'verify', raw, '--root', root, '--any-measurement', '--at', soon()]);
  assert.match(text.out.at(-1)!, /^valid: dev attestation .*platform and measurement only/);
  const noBinding = JSON.parse((await runCli(['attest', 'verify', raw, '--root', root, '--any-measurement', '--at', soon(), '--policy-cid', demo.cid.toString(), '--json'])).out[0]!);
  assert.equal(noBinding.error.code, 'CheckNotPossible');
});

test('serve refuses the demo policy on nitro and sev-snp unless --allow-demo-policy', async () => {
  for (const platform of ['nitro', 'sev-snp']) {
    const data = join(dir, `data-${platform}`);
    const hw = { nsmDevice: join(dir, 'no-nsm'), tsmReportDir: join(dir, 'no-tsm') };
    await assert.rejects(serve({ port: '0', host: '127.0.0.1', platform, dataDir: data, quiet: true, ...hw }, quiet), /refusing the demo policy/);
    const policyFile = join(dir, 'demo-policy.json');
    writeFileSync(policyFile, JSON.stringify(demo.policy));
    await assert.rejects(serve({ policy: policyFile, port: '0', host: '127.0.0.1', platform, dataDir: data, quiet: true, ...hw }, quiet), /refusing the demo policy/);
    // Allowed: it gets past the policy rule (and then stops at the missing hardware).
    await assert.rejects(serve({ port: '0', host: '127.0.0.1', platform, dataDir: data, quiet: true, allowDemoPolicy: true, ...hw }, quiet), (e: Error) => !/refusing the demo policy/.test(e.message));
  }
});

test('SEV-SNP: --nonce without a binding is checked against report_data, never skipped', async () => {
  // A report that passes as of this time; its report_data is not about nonce 00.
  const report = fixturePath('sev-snp', 'milan-v3-vcek-azure', 'report.bin');
  const at = ['--at', '2025-03-01T00:00:00Z', '--any-measurement', '--json'];
  const r = await runCli(['attest', 'verify', report, ...at, '--nonce', '00']);
  const j = JSON.parse(r.out[0]!);
  assert.equal(r.code, 1);
  assert.equal(j.error.code, 'NonceMismatch');
  assert.equal(j.checks.at(-1).name, 'report-data');
  const none = await runCli(['attest', 'verify', report, ...at]);
  const n = JSON.parse(none.out[0]!);
  assert.equal(none.code, 0, JSON.stringify(n.error));
  assert.equal(n.scope, 'platform-and-measurement');
  assert.ok(n.warnings.some((w: string) => /^binding: NOT CHECKED/.test(w)));
});
