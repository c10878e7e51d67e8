/**
 * The whole story against the reference services on loopback: a real PLC
 * directory (@did-plc/server on a throwaway PostgreSQL) and a real PDS
 * (@atproto/pds, test/pds under its pinned Node 22). The organisation and
 * three members get accounts on the PDS; each member adds a co-signing key to
 * its DID with `encumber member add-key --directory`; the enclave (dev
 * platform, fetch mode against the same directory) signs a post two members
 * co-signed with `encumber cosign`; `encumber submit --publish` writes it to
 * the organisation's repository; `encumber record verify at://…` checks it
 * from the network.
 *
 * Shared by the end-to-end test (test/e2e/pds-publish.test.ts) and
 * `npm run demo -- --pds` (tools/demo-pds.ts). Every command is the real CLI
 * (in process); `step` hears each one.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex } from '../../src/crypto/encoding.ts';
import { generateMemberKey, memberKeyFromPrivateKey } from '../../src/member/keys.ts';
import { serve, type RunningServer } from '../../src/cli/commands/serve.ts';
import { runCli, type CliRun } from './cli.ts';
import { tempDir } from './fixtures.ts';
import { auditLogFrom, startPlcDirectory, startPostgres, type PlcDirectory, type Postgres } from './plc-directory.ts';
import { ensurePdsInstalled, startPds, type Pds, type PdsAccount } from './pds.ts';

export const COLLECTION = 'app.bsky.feed.post';
const PASSWORD = 'correct horse battery staple';

export interface StoryMember {
  name: string;
  account: PdsAccount;
  keyFile: string;
  did: string;
}

export interface Story {
  dir: string;
  pg: Postgres;
  plc: PlcDirectory;
  pds: Pds;
  org: PdsAccount;
  members: StoryMember[];
  enclave: RunningServer;
  passwordFile: string;
  /** `record verify` flags for a live check of this enclave (dev root, the directory). */
  verifyFlags(): string[];
  /** An XRPC call to the PDS as `account` (its own session). */
  asAccount(account: PdsAccount, nsid: string, body: unknown): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export type Step = (what: string, run: CliRun | undefined, detail?: string) => void;

/** Run the CLI; a non-zero exit is an error naming the command and its output. */
export async function cli(step: Step, what: string, argv: string[]): Promise<CliRun> {
  const r = await runCli(argv);
  step(what, r);
  if (r.code !== 0) throw new Error(`${what}: encumber ${argv.join(' ')} exited ${r.code}\n${[...r.out, ...r.err].join('\n')}`);
  return r;
}

/** Start the directory, the PDS and the enclave; create the accounts; add the members' keys. */
export async function setUpStory(step: Step): Promise<Story> {
  await ensurePdsInstalled();
  const dir = tempDir('encumber-story-');
  const pg = await startPostgres();
  const plc = await startPlcDirectory(pg.url);
  // The PDS's PLC rotation key: the accounts it creates list it, so member add-key can sign with it.
  const rotationHex = toHex(randomBytes(32));
  const pds = await startPds({ plcUrl: plc.url, plcRotationKeyHex: rotationHex });
  step(`PLC directory ${plc.url} (PostgreSQL), PDS ${pds.url} (@atproto/pds, Node ${pds.listening.node})`, undefined);
  const stops: (() => Promise<void>)[] = [() => pds.stop(), () => plc.stop(), () => pg.stop()];
  try {
    const rotationFile = join(dir, 'pds-rotation.key');
    writeFileSync(rotationFile, memberKeyFromPrivateKey(fromHex(rotationHex)).toKeyFile(), { mode: 0o600 });
    const passwordFile = join(dir, 'app-password');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const org = await pds.createAccount('org.test', 'org@example.com', PASSWORD);
    step(`account org.test = ${org.did}`, undefined);
    const members: StoryMember[] = [];
    for (const name of ['ann', 'ben', 'cat']) {
      const account = await pds.createAccount(`${name}.test`, `${name}@example.com`, PASSWORD);
      const key = generateMemberKey();
      const keyFile = join(dir, `${name}.key`);
      writeFileSync(keyFile, key.toKeyFile(), { mode: 0o600 });
      const logFile = join(dir, `${name}.log.json`);
      writeFileSync(logFile, JSON.stringify(await auditLogFrom(plc.url, account.did)));
      await cli(step, `${name}.test adds its co-signing key to ${account.did}`, [
        'member', 'add-key', '--did', account.did, '--log', logFile, '--rotation-key', rotationFile,
        '--member-key', key.did, '--key-id', 'encumber', '--directory', plc.url,
      ]);
      members.push({ name, account, keyFile, did: account.did });
    }
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({
      $type: 'dev.encumber.policy',
      version: 1,
      repository: org.did,
      signers: members.map((m) => ({ did: m.did, keyId: 'encumber' })),
      threshold: 2,
      collections: [COLLECTION],
      plc: { directory: plc.url, source: 'fetch' },
      limits: { maxRecordBytes: 16384 },
    }));
    const quiet = { out: () => {}, err: () => {}, readInput: async () => '' };
    const enclave = await serve({ policy: policyFile, port: '0', host: '127.0.0.1', platform: 'dev', dataDir: join(dir, 'data'), quiet: true }, quiet);
    stops.unshift(() => enclave.close());
    step(`enclave ${enclave.url} (dev platform; policy: 2 of ann, ben, cat for ${org.did}, PLC logs fetched from ${plc.url})`, undefined);
    const sessions = new Map<string, string>();
    const session = async (a: PdsAccount) => {
      if (!sessions.has(a.did)) {
        const r = await fetch(`${pds.loopbackUrl}/xrpc/com.atproto.server.createSession`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ identifier: a.did, password: PASSWORD }) });
        sessions.set(a.did, ((await r.json()) as { accessJwt: string }).accessJwt);
      }
      return sessions.get(a.did)!;
    };
    return {
      dir,
      pg,
      plc,
      pds,
      org,
      members,
      enclave,
      passwordFile,
      verifyFlags: () => ['--identity', enclave.url, '--root', join(dir, 'data', 'dev-root.pem'), '--any-measurement', '--at', new Date(Date.now() + 2000).toISOString(), '--plc', plc.url],
      async asAccount(account, nsid, body) {
        const r = await fetch(`${pds.loopbackUrl}/xrpc/${nsid}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await session(account)}` }, body: JSON.stringify(body) });
        const answer = (await r.json()) as Record<string, unknown>;
        if (r.status !== 200) throw new Error(`${nsid}: HTTP ${r.status} ${JSON.stringify(answer)}`);
        return answer;
      },
      async stop() {
        for (const s of stops) await s().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const s of stops) await s().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Draft, two co-signatures, submit and publish: the at:// URI and CID the PDS answered, and the signed answer's file. */
export async function coSignAndPublish(story: Story, step: Step, text: string): Promise<{ uri: string; cid: string; signedFile: string }> {
  const draft = join(story.dir, `draft-${Date.now()}.json`);
  await cli(step, 'a member drafts the post', ['draft', '--repository', story.org.did, '--text', text, '--out', draft]);
  for (const m of story.members.slice(0, 2)) await cli(step, `${m.name}.test co-signs`, ['cosign', draft, '--key', m.keyFile, '--issuer', m.did, '--yes']);
  const signedFile = join(story.dir, `signed-${Date.now()}.json`);
  const r = await cli(step, 'submit to the enclave and publish to the PDS', [
    'submit', draft, '--enclave', story.enclave.url, '--out', signedFile,
    '--publish', '--pds', story.pds.url, '--identifier', 'org.test', '--app-password-file', story.passwordFile,
  ]);
  const out = r.out.join('\n');
  const uri = /at:\/\/\S+/.exec(out)?.[0];
  const cid = /\bbafyrei[a-z2-7]+\b/.exec(out.slice(out.indexOf(uri ?? '') + (uri?.length ?? 0)))?.[0];
  if (!uri || !cid) throw new Error(`submit --publish printed no at:// URI and CID:\n${out}`);
  JSON.parse(readFileSync(signedFile, 'utf8'));
  return { uri, cid, signedFile };
}
