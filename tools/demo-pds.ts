/**
 * `npm run demo -- --pds`: the story against a local reference PDS and PLC
 * directory, started and stopped here (test/support/pds-story.ts: PostgreSQL,
 * @did-plc/server, @atproto/pds under Node 22; the first run installs
 * test/pds, about two minutes). A newcomer sees the post land and verify:
 * members add keys, co-sign, the enclave signs, the post is published, then
 * verified from the network by its at:// URI; an edited copy is refused.
 */
import { runCli } from '../test/support/cli.ts';
import { pdsUnavailable } from '../test/support/pds.ts';
import { coSignAndPublish, setUpStory, type Step } from '../test/support/pds-story.ts';

const say = (s: string) => process.stdout.write(`${s}\n`);
const step: Step = (what, run) => say(`  ${run ? (run.code === 0 ? 'ok  ' : 'FAIL') : '··· '} ${what}`);

const missing = pdsUnavailable();
if (missing) {
  say(`demo --pds needs: ${missing}`);
  process.exit(2);
}
say('encumber demo --pds: a local PLC directory and PDS, three members, one enclave');
const story = await setUpStory(step);
let failures = 0;
try {
  const post = await coSignAndPublish(story, step, 'Hello from the org: co-signed by two of three members, signed in an enclave.');
  say(`  ok   published ${post.uri} (cid ${post.cid})`);
  say(`\n$ encumber record verify ${post.uri} --plc ${story.plc.url} --identity ${story.enclave.url} --root … --any-measurement --repository ${story.org.did}`);
  const v = await runCli(['record', 'verify', post.uri, ...story.verifyFlags(), '--repository', story.org.did]);
  for (const line of v.out) say(`  ${line}`);
  if (v.code !== 0) failures++;
  // The same post edited on the PDS after signing: the PDS signs the new commit, the enclave's signature no longer holds.
  const rkey = post.uri.split('/').at(-1)!;
  const got = (await (await fetch(`${story.pds.loopbackUrl}/xrpc/com.atproto.repo.getRecord?repo=${story.org.did}&collection=app.bsky.feed.post&rkey=${rkey}`)).json()) as { value: Record<string, unknown> };
  await story.asAccount(story.org, 'com.atproto.repo.putRecord', { repo: story.org.did, collection: 'app.bsky.feed.post', rkey, record: { ...got.value, text: 'edited after signing' } });
  const edited = await runCli(['record', 'verify', post.uri, ...story.verifyFlags()]);
  const verdict = edited.out.at(-1) ?? '';
  const refused = edited.code === 1 && verdict.includes('EnclaveSignatureInvalid');
  say(`\n  ${refused ? 'ok  ' : 'FAIL'} the post edited on the PDS after signing is refused: ${verdict}`);
  if (!refused) failures++;
} finally {
  await story.stop();
}
say(failures === 0 ? '\ndemo --pds: every step as expected' : `\ndemo --pds: ${failures} step(s) not as expected`);
process.exit(failures === 0 ? 0 : 1);
