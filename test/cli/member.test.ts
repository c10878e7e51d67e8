/**
 * Member tools through the CLI: keygen, add-key (verified by our own PLC
 * verifier), draft → cosign → cosign, with the payload signatures checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { REPO_ROOT, tempDir } from '../support/fixtures.ts';
import { createMember } from '../support/world.ts';
import { verifyAuditLog } from '../../src/plc/verify.ts';
import { auditEntry } from '../../src/member/plc-ops.ts';
import { draftPayload, parseDraft } from '../../src/member/cosign.ts';
import { verifySignature } from '../../src/crypto/verify.ts';
import { decodeBase64 } from '../../src/crypto/encoding.ts';
import { parseMemberKeyFile } from '../../src/member/keys.ts';
import defaultPolicy from '../../src/policy/default-policy.json' with { type: 'json' };

const tmp = () => tempDir('encumber-cli-');
const demo = (f: string) => join(REPO_ROOT, 'test', 'fixtures', 'demo', f);

test('member keygen writes a 0600 key file and refuses to overwrite it', async () => {
  const file = join(tmp(), 'me.key');
  const r = await runCli(['member', 'keygen', '--out', file]);
  assert.equal(r.code, 0);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const key = parseMemberKeyFile(readFileSync(file, 'utf8'));
  assert.match(r.err.join('\n'), new RegExp(key.did));
  assert.equal((await runCli(['member', 'keygen', '--out', file])).code, 2);
});

test('member add-key builds an op our verifier accepts, adding #encumber', async () => {
  const dir = tmp();
  const m = await createMember('dana.test');
  writeFileSync(join(dir, 'log.json'), JSON.stringify(m.log));
  writeFileSync(join(dir, 'rot.key'), m.rotationKey.toKeyFile());
  const newKey = (await runCli(['member', 'keygen'])).out.join('\n');
  writeFileSync(join(dir, 'new.key'), newKey);
  const r = await runCli([
    'member', 'add-key', '--did', m.did, '--log', join(dir, 'log.json'),
    '--rotation-key', join(dir, 'rot.key'), '--member-key', join(dir, 'new.key'), '--out', join(dir, 'op.json'),
  ]);
  assert.equal(r.code, 0, r.err.join('\n'));
  const op = JSON.parse(readFileSync(join(dir, 'op.json'), 'utf8'));
  const log = [...m.log, auditEntry(m.did, op, new Date(Date.parse(m.log[0]!.createdAt) + 1000))];
  const v = verifyAuditLog(m.did, log);
  assert.ok(v.ok, v.ok ? '' : v.error.message);
  assert.equal(v.state.verificationMethods.encumber, parseMemberKeyFile(newKey).did);
  assert.equal(v.state.verificationMethods.atproto, m.signingKey.did);

  // A key that is not a rotation key of the DID is refused with a hint.
  const wrong = await runCli([
    'member', 'add-key', '--did', m.did, '--log', join(dir, 'log.json'),
    '--rotation-key', join(dir, 'new.key'), '--member-key', join(dir, 'new.key'),
  ]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err.join('\n'), /not a rotation key/);
});

test('draft, then two demo members co-sign it; each co-signature verifies over the payload', async () => {
  const dir = tmp();
  const draftFile = join(dir, 'draft.json');
  const [alice, bob] = defaultPolicy.signers;
  assert.equal((await runCli(['draft', '--repository', defaultPolicy.repository, '--text', 'hello', '--out', draftFile])).code, 0);
  for (const [who, did] of [['alice', alice!.did], ['bob', bob!.did]] as const) {
    const r = await runCli(['cosign', draftFile, '--key', demo(`${who}.key`), '--issuer', did, '--plc-log', demo(`${who}.plc.json`), '--yes']);
    assert.equal(r.code, 0, r.err.join('\n'));
  }
  const draft = parseDraft(JSON.parse(readFileSync(draftFile, 'utf8')));
  assert.equal(draft.cosignatures.length, 2);
  assert.deepEqual(Object.keys(draft.plcLogs ?? {}).sort(), [alice!.did, bob!.did].sort());
  const payload = draftPayload(draft);
  for (const c of draft.cosignatures) {
    const who = c.issuer === alice!.did ? 'alice' : 'bob';
    const key = parseMemberKeyFile(readFileSync(demo(`${who}.key`), 'utf8'));
    assert.ok(verifySignature(key.did, payload.bytes, decodeBase64(c.sig.$bytes)));
  }
  // Co-signing again as alice replaces her entry instead of adding one.
  await runCli(['cosign', draftFile, '--key', demo('alice.key'), '--issuer', alice!.did, '--yes']);
  assert.equal(parseDraft(JSON.parse(readFileSync(draftFile, 'utf8'))).cosignatures.length, 2);
});

test('cosign and submit refuse bad input with exit 2', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'bad.json'), '{"repository": 1}');
  assert.equal((await runCli(['cosign', join(dir, 'bad.json'), '--key', demo('alice.key'), '--issuer', 'did:plc:x'])).code, 2);
  assert.equal((await runCli(['submit', join(dir, 'bad.json'), '--enclave', 'http://127.0.0.1:9'])).code, 2);
  assert.equal((await runCli(['draft', '--repository', 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'])).code, 2);
});

test('the checked-in demo identities are what the public labels regenerate', async () => {
  const { demoIdentity, demoPolicyDocument } = await import('../../src/member/demo-members.ts');
  assert.deepEqual(await demoPolicyDocument(), defaultPolicy);
  for (const name of ['alice', 'bob', 'carol']) {
    const m = await demoIdentity(name);
    assert.deepEqual(JSON.parse(readFileSync(demo(`${name}.plc.json`), 'utf8')), m.log);
    assert.equal(parseMemberKeyFile(readFileSync(demo(`${name}.key`), 'utf8')).did, m.signingKey.did);
  }
});

/** The CLI in process with a person at the terminal who answers `answer` (or nobody, when undefined). */
async function cosignAs(argv: string[], answer?: boolean) {
  const { main } = await import('../../src/cli/main.ts');
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const io = {
    out: (l: string) => out.push(l),
    err: (l: string) => err.push(l),
    readInput: (p: string) => Promise.resolve(readFileSync(p, 'utf8')),
    ...(answer === undefined ? {} : { confirm: async (q: string) => (asked.push(q), answer) }),
  };
  return { code: await main(['cosign', ...argv], io), out, err, asked };
}

test('cosign shows the payload it signs and asks; no terminal and no --yes → refused; a draft with duplicate keys → refused', async () => {
  const dir = tmp();
  const draftFile = join(dir, 'draft.json');
  const [alice] = defaultPolicy.signers;
  assert.equal((await runCli(['draft', '--repository', defaultPolicy.repository, '--text', 'read me first', '--out', draftFile])).code, 0);
  const original = readFileSync(draftFile, 'utf8');
  const args = [draftFile, '--key', demo('alice.key'), '--issuer', alice!.did];

  // Nobody to ask (a pipe, a script): refused, with a message that says what to do; the draft is unchanged.
  const piped = await cosignAs(args);
  assert.equal(piped.code, 2);
  assert.match(piped.err.join('\n'), /--yes/);
  assert.equal(readFileSync(draftFile, 'utf8'), original);

  // The person says no: not signed (exit 1), the draft unchanged; what they were shown names repository, collection and the text.
  const no = await cosignAs(args, false);
  assert.equal(no.code, 1);
  assert.equal(no.asked.length, 1);
  const shown = no.err.join('\n');
  assert.ok(shown.includes(defaultPolicy.repository) && shown.includes('app.bsky.feed.post') && shown.includes('read me first'), shown);
  assert.match(shown, /"\$sig"/);
  assert.equal(readFileSync(draftFile, 'utf8'), original);

  // Yes: signed.
  const yes = await cosignAs(args, true);
  assert.equal(yes.code, 0, yes.err.join('\n'));
  assert.equal(parseDraft(JSON.parse(readFileSync(draftFile, 'utf8'))).cosignatures.length, 1);

  // A draft whose record has the same key twice: which value would be signed depends on the reader → refused.
  const dup = join(dir, 'dup.json');
  writeFileSync(dup, original.replace('"text": "read me first"', '"text": "shown to the member", "text": "what gets signed"'));
  assert.notEqual(readFileSync(dup, 'utf8'), original);
  const refused = await cosignAs([dup, '--key', demo('alice.key'), '--issuer', alice!.did, '--yes']);
  assert.equal(refused.code, 2);
  assert.match(refused.err.join('\n'), /duplicate key "text"/);
  assert.equal((await runCli(['submit', dup, '--enclave', 'http://127.0.0.1:9'])).code, 2);
});
