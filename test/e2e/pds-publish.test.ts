/**
 * From signature to post, against the reference services on loopback
 * (test/support/pds-story.ts: @atproto/pds under Node 22, @did-plc/server on
 * PostgreSQL, the enclave on the dev platform in fetch mode): members add keys
 * to their DIDs, co-sign, the enclave signs, `submit --publish` writes the
 * post to the organisation's repository, and `record verify at://…` checks it
 * from the network (DID from its verified log, the PDS's signed commit and
 * the inclusion proof, then every record check); the page does the same in
 * Chromium. A record edited on the PDS after signing fails the enclave
 * signature; the signed record written into another repository fails the
 * policy's repository.
 *
 * Under CI=true this must run; elsewhere it skips when a prerequisite is missing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pdsSkip } from '../support/pds.ts';
import { COLLECTION, coSignAndPublish, setUpStory, type Story } from '../support/pds-story.ts';
import { runCli } from '../support/cli.ts';
import { CHROMIUM, launch, readVerdict, screenshotResults, settled, act } from '../browser/support.ts';
import { devMeasurements } from '../../src/cli/commands/measure.ts';

const skip = pdsSkip() || (existsSync(CHROMIUM) ? false : process.env.CI === 'true' ? false : `${CHROMIUM} is absent`);
const steps: string[] = [];
const step = (what: string) => void steps.push(what);
let story: Story;
let published: { uri: string; cid: string; signedFile: string };

before(
  async () => {
    if (skip) return;
    story = await setUpStory(step);
    published = await coSignAndPublish(story, step, 'co-signed by two of three members, signed in the enclave');
  },
  { timeout: 600_000 },
);
after(async () => {
  await story?.stop();
});

const verify = (target: string, ...extra: string[]) => runCli(['record', 'verify', target, ...story.verifyFlags(), '--json', ...extra]);
const rkeyOf = (uri: string) => uri.split('/').at(-1)!;

test('the post lands in the organisation\'s repository as the enclave signed it', { skip }, async () => {
  assert.match(published.uri, new RegExp(`^at://${story.org.did}/${COLLECTION.replace(/\./g, '\\.')}/[a-z0-9]+$`));
  const got = await (await fetch(`${story.pds.loopbackUrl}/xrpc/com.atproto.repo.getRecord?repo=${story.org.did}&collection=${COLLECTION}&rkey=${rkeyOf(published.uri)}`)).json() as { cid: string; value: Record<string, unknown> };
  assert.equal(got.cid, published.cid);
  const signed = JSON.parse(readFileSync(published.signedFile, 'utf8')) as { record: Record<string, unknown> };
  assert.deepEqual(got.value, signed.record, 'the PDS stores exactly the signed record');
});

test('record verify at://: valid from the network — DID, PDS, commit signature, inclusion, attestation, co-signers', { skip }, async () => {
  const r = await verify(published.uri, '--repository', story.org.did);
  const j = JSON.parse(r.out[0]!);
  assert.equal(r.code, 0, JSON.stringify(j.error));
  const row = (name: string) => j.checks.find((c: { name: string }) => c.name === name);
  assert.match(row('repository-did').detail, new RegExp(`audit log from ${new URL(story.plc.url).origin} verified .*PDS ${story.pds.url}`));
  assert.match(row('repo-commit-signature').detail, /signed by did:key:.*the DID's atproto key/);
  assert.equal(row('repo-record').ok, true);
  assert.equal(row('cosigner-keys').ok, true);
  assert.notEqual(row('cosigner-keys').skipped, true, 'the co-signers\' keys were re-checked in their directory logs');
  assert.equal(j.policyPinned, true);
});

test('a record edited on the PDS after signing (putRecord): the proof holds, the enclave signature fails', { skip }, async () => {
  const copy = await coSignAndPublish(story, step, 'a second post, to be edited');
  const rkey = rkeyOf(copy.uri);
  const stored = await (await fetch(`${story.pds.loopbackUrl}/xrpc/com.atproto.repo.getRecord?repo=${story.org.did}&collection=${COLLECTION}&rkey=${rkey}`)).json() as { value: Record<string, unknown> };
  await story.asAccount(story.org, 'com.atproto.repo.putRecord', { repo: story.org.did, collection: COLLECTION, rkey, record: { ...stored.value, text: 'edited by the PDS account after signing' } });
  const r = await verify(copy.uri);
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out[0]!);
  assert.equal(j.error.code, 'EnclaveSignatureInvalid');
  assert.equal(j.checks.find((c: { name: string }) => c.name === 'repo-record').ok, true, 'the PDS did sign the edited record');
});

test('the signed record written into another repository: proved there, refused by the policy\'s repository', { skip }, async () => {
  const signed = JSON.parse(readFileSync(published.signedFile, 'utf8')) as { record: Record<string, unknown> };
  // `encumber publish` refuses this before any request; a member's own client does not.
  const refused = await runCli(['publish', published.signedFile, '--pds', story.pds.url, '--identifier', story.members[0]!.did, '--app-password-file', story.passwordFile]);
  assert.equal(refused.code, 1);
  const ann = story.members[0]!.account;
  const put = await story.asAccount(ann, 'com.atproto.repo.createRecord', { repo: ann.did, collection: COLLECTION, record: signed.record });
  const r = await verify(String(put.uri));
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out[0]!);
  assert.equal(j.error.code, 'RepositoryNotAllowed');
  assert.equal(j.error.check, 'record-location');
});

test('the page verifies the same at:// URI in Chromium, asking only the enclave, the directory and the PDS', { skip }, async () => {
  const origins = [new URL(story.enclave.url).origin, new URL(story.plc.url).origin, new URL(story.pds.url).origin];
  const browser = await launch(() => origins);
  try {
    const page = await browser.context.newPage();
    await page.goto(story.enclave.url + '/');
    await settled(page);
    await act(page, () => page.fill('#dev-root', readFileSync(join(story.dir, 'data', 'dev-root.pem'), 'utf8')));
    await act(page, () => page.fill('#measurements', JSON.stringify(devMeasurements())));
    await act(page, () => page.fill('#policy-repository', story.org.did));
    await page.fill('#at-uri', published.uri);
    await page.fill('#plc-url', story.plc.url);
    await act(page, () => page.click('#fetch-record'));
    const v = await readVerdict(page);
    assert.equal(v.verdict, 'valid', v.reason);
    for (const check of ['repository-did', 'repository-pds', 'repo-commit-signature', 'repo-record', 'enclave-signature', 'cosigner-keys']) {
      assert.equal(v.rows.find((x) => x.check === check)?.status, 'pass', check);
    }
    assert.deepEqual(browser.blocked, []);
    await screenshotResults(page, 'verification-pds.png');
  } finally {
    await browser.close();
  }
});

test('the story ran through the real commands', { skip }, () => {
  for (const s of ['ann.test adds its co-signing key', 'ann.test co-signs', 'ben.test co-signs', 'submit to the enclave and publish to the PDS']) {
    assert.ok(steps.some((x) => x.startsWith(s)), s);
  }
});
