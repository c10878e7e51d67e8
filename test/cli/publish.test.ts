/**
 * `encumber publish` and `encumber submit --publish` through the CLI, against
 * an in-process enclave (the test world's app on loopback) and a loopback
 * stand-in PDS: output, password sources (file, environment, never a flag),
 * the PDS's errors, and refusals before anything is sent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';
import { startFakePds, type FakePds } from '../support/fake-pds.ts';
import { COLLECTION, cosignBy, draftFor, ORG, signedWorld, withLogs, type Member, type SignedWorld } from '../support/world.ts';
import { listen, type RunningServer } from '../../src/server/app.ts';
import { PASSWORD_ENV } from '../../src/cli/commands/publish.ts';

const HANDLE = 'org.example.com';
const PASSWORD = 'abcd-efgh-ijkl-mnop';

let sw: SignedWorld;
let pds: FakePds;
let dir: string;
let signedFile: string;
let passwordFile: string;

before(async () => {
  sw = await signedWorld('published from the command line');
  pds = await startFakePds({ did: ORG, handle: HANDLE, password: PASSWORD });
  dir = tempDir('encumber-publish-');
  signedFile = join(dir, 'signed.json');
  writeFileSync(signedFile, JSON.stringify(sw.signed, null, 2));
  passwordFile = join(dir, 'app-password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
});
after(() => pds.close());

/** Run with the password in the environment (or not), on a fresh PDS request log. */
async function run(argv: string[], env: string | undefined = undefined) {
  pds.requests.length = 0;
  if (env === undefined) delete process.env[PASSWORD_ENV];
  else process.env[PASSWORD_ENV] = env;
  try {
    return await runCli(argv);
  } finally {
    delete process.env[PASSWORD_ENV];
  }
}
const methods = () => pds.requests.map((r) => r.method);

test('publish with the password from the environment prints the at:// URI and the CID; --json prints { uri, cid }', async () => {
  const r = await run(['publish', signedFile, '--pds', pds.url, '--identifier', HANDLE], PASSWORD);
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal(r.out.length, 2);
  assert.match(r.out[0]!, new RegExp(`^at://${ORG}/${COLLECTION}/\\w+$`));
  assert.match(r.out[1]!, /^bafyrei/);
  assert.deepEqual(methods(), ['com.atproto.server.createSession', 'com.atproto.repo.createRecord']);
  assert.deepEqual(pds.requests[1]!.body.record, sw.signed.record);

  const j = await run(['publish', signedFile, '--pds', pds.url, '--identifier', ORG, '--json'], PASSWORD);
  assert.equal(j.code, 0, j.err.join('\n'));
  const printed = JSON.parse(j.out.join('\n'));
  assert.deepEqual(Object.keys(printed), ['uri', 'cid']);
  assert.match(printed.uri, new RegExp(`^at://${ORG}/${COLLECTION}/`));
});

test('publish reads the password from --app-password-file (one trailing newline dropped) and the record from stdin', async () => {
  pds.requests.length = 0;
  delete process.env[PASSWORD_ENV];
  const r = await runCli(['publish', '-', '--pds', pds.url, '--identifier', HANDLE, '--app-password-file', passwordFile], JSON.stringify(sw.signed));
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal(pds.requests[0]!.body.password, PASSWORD);
});

test('publish checks the record against an identity file\'s policy', async () => {
  const identityFile = join(dir, 'identity.json');
  writeFileSync(identityFile, JSON.stringify(sw.identity));
  const r = await run(['publish', signedFile, '--pds', pds.url, '--identifier', ORG, '--identity', identityFile], PASSWORD);
  assert.equal(r.code, 0, r.err.join('\n'));
});

test('no password is a usage error; a password flag does not exist', async () => {
  const none = await run(['publish', signedFile, '--pds', pds.url, '--identifier', HANDLE]);
  assert.equal(none.code, 2);
  assert.match(none.err.join('\n'), new RegExp(`--app-password-file FILE or set ${PASSWORD_ENV}`));
  for (const flag of ['--password', '--app-password']) {
    const r = await run(['publish', signedFile, '--pds', pds.url, '--identifier', HANDLE, flag, PASSWORD]);
    assert.equal(r.code, 2);
    assert.match(r.err.join('\n'), new RegExp(`unknown option '${flag}'`));
  }
  assert.deepEqual(methods(), []);
});

test('the PDS\'s error is shown with its XRPC name and message (exit 1)', async () => {
  const r = await run(['publish', signedFile, '--pds', pds.url, '--identifier', HANDLE], 'wrong');
  assert.equal(r.code, 1);
  assert.match(r.err.join('\n'), /refused by the PDS: com\.atproto\.server\.createSession: HTTP 401 AuthenticationRequired: Invalid identifier or password/);
});

test('refusals before any request: another repository, an integer above 2^53 (exit 1, typed code)', async () => {
  // The enclave named by --identity is not asked either (nothing listens there: asking would be exit 2).
  const other = await run(['publish', signedFile, '--pds', pds.url, '--identifier', 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', '--identity', 'http://127.0.0.1:9'], PASSWORD);
  assert.equal(other.code, 1);
  assert.match(other.err.join('\n'), /refused: RepositoryNotAllowed/);
  // Written as JSON text: the number JSON.parse reads is 2^53, beyond the safe range.
  const bigFile = join(dir, 'big.json');
  writeFileSync(bigFile, readFileSync(signedFile, 'utf8').replace('"text":', '"count": 9007199254740993, "text":'));
  const big = await run(['publish', bigFile, '--pds', pds.url, '--identifier', HANDLE], PASSWORD);
  assert.equal(big.code, 1, big.err.join('\n'));
  assert.match(big.err.join('\n'), /refused: InvalidDataModel: integer is outside/);
  assert.deepEqual(methods(), []);
});

test('submit --publish: the enclave signs, then the record is verified against its identity and published', async () => {
  const [alice, bob] = sw.w.members as [Member, Member];
  const draftFile = join(dir, 'draft.json');
  writeFileSync(draftFile, JSON.stringify(withLogs(cosignBy(draftFor('signed and published in one step'), alice, bob), sw.w.members)));
  const answerFile = join(dir, 'answer.json');
  const enclave: RunningServer = await listen(sw.w.app as never, '127.0.0.1', 0);
  try {
    // Without a password nothing is signed or sent.
    const none = await run(['submit', draftFile, '--enclave', enclave.url, '--publish', '--pds', pds.url, '--identifier', HANDLE]);
    assert.equal(none.code, 2);
    assert.deepEqual(methods(), []);
    assert.equal((await run(['submit', draftFile, '--enclave', enclave.url, '--pds', pds.url], PASSWORD)).code, 2);
    // A PDS URL that publishing would refuse, or a DID that is not the draft's repository: refused before the enclave signs.
    const signedBefore = sw.w.logs.filter((l) => l.includes('signRecord')).length;
    for (const bad of [['--pds', 'http://pds.example.com', '--identifier', HANDLE], ['--pds', 'no url', '--identifier', HANDLE], ['--pds', pds.url, '--identifier', 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa']]) {
      assert.equal((await run(['submit', draftFile, '--enclave', enclave.url, '--publish', ...bad, '--app-password-file', passwordFile])).code, 2, bad.join(' '));
    }
    assert.equal(sw.w.logs.filter((l) => l.includes('signRecord')).length, signedBefore, 'the enclave was not asked');
    assert.deepEqual(methods(), []);

    const r = await run(['submit', draftFile, '--enclave', enclave.url, '--out', answerFile, '--publish', '--pds', pds.url, '--identifier', HANDLE, '--app-password-file', passwordFile]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.equal(sw.w.logs.filter((l) => l.includes('signRecord')).length, signedBefore + 1, 'the request log counts signRecord calls');
    const answer = JSON.parse(readFileSync(answerFile, 'utf8'));
    assert.equal(answer.record.text, 'signed and published in one step');
    assert.deepEqual(methods(), ['com.atproto.server.createSession', 'com.atproto.repo.createRecord']);
    assert.deepEqual(pds.requests[1]!.body, { repo: ORG, collection: COLLECTION, record: answer.record, validate: true });
    assert.match(r.out[0]!, new RegExp(`^at://${ORG}/${COLLECTION}/`));

    // publish --identity URL reads the live enclave's identity.
    const live = await run(['publish', answerFile, '--pds', pds.url, '--identifier', ORG, '--identity', enclave.url, '--json'], PASSWORD);
    assert.equal(live.code, 0, live.err.join('\n'));
    assert.deepEqual(pds.requests[1]!.body.record, answer.record);
  } finally {
    await enclave.close();
  }
});
