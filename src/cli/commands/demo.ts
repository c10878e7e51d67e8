/**
 * `encumber demo` (npm run demo): the whole flow on one machine.
 * Three members get fresh did:plc identities (made with @did-plc/lib, logs
 * kept locally: policy source "supplied"); the enclave starts on the dev
 * platform with a 2-of-3 policy naming them; two members co-sign a post; the
 * enclave signs; a verifier checks the attestation (fresh nonce, dev root
 * passed explicitly) and the record. Then four bad drafts are refused.
 */
import { requestJson } from '../../http/json.ts';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../enclave/program-digest.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMemberKey, type MemberKey } from '../../member/keys.ts';
import { addKeyOp, auditEntry, createMemberDid } from '../../member/plc-ops.ts';
import { cosignDraft, type Draft } from '../../member/cosign.ts';
import type { PlcAuditEntry, PlcOperation } from '../../plc/types.ts';
import { serve } from './serve.ts';
import { policyDocument } from '../../policy/policy.ts';
import { recordVerify } from './verify.ts';
import { devMeasurements } from './measure.ts';

function recordLogsFile(dir: string, logs: Record<string, unknown>): string {
  const file = join(dir, 'plc-logs.json');
  writeFileSync(file, JSON.stringify(logs));
  return file;
}
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE, type CliIo } from '../io.ts';

interface DemoMember {
  name: string;
  did: string;
  rotationKey: MemberKey;
  key: MemberKey;
  log: PlcAuditEntry[];
  head: PlcOperation;
}

async function newMember(name: string): Promise<DemoMember> {
  const rotationKey = generateMemberKey();
  const key = generateMemberKey();
  const { did, op } = await createMemberDid({ rotationKey, signingKey: key, handle: `${name}.demo.test`, pds: 'https://pds.demo.test' });
  return { name, did, rotationKey, key, log: [auditEntry(did, op, new Date())], head: op };
}

/** The signRecord answer, or an XRPC error, as the demo reads it. */
interface SignAnswer {
  cid?: string;
  error?: string;
  message?: string;
  record?: { signatures?: { issuer: string }[] } & Record<string, unknown>;
  [k: string]: unknown;
}

export async function demo(io: CliIo, flags: { pds?: boolean } = {}): Promise<number> {
  if (flags.pds) return demoWithPds(io);
  const work = mkdtempSync(join(tmpdir(), 'encumber-demo-'));
  const say = (s: string) => io.out(s);
  let failures = 0;
  const expect = (what: string, ok: boolean, detail: string) => {
    say(`  ${ok ? 'ok  ' : 'FAIL'} ${what}: ${detail}`);
    if (!ok) failures++;
  };
  try {
    say('1. three org members create did:plc identities (logs kept locally)');
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map(newMember)) as [DemoMember, DemoMember, DemoMember];
    const org = await newMember('org');
    for (const m of [alice, bob, carol]) say(`   ${m.name.padEnd(5)} ${m.did}  #atproto ${m.key.did}`);

    say('2. the enclave starts on the dev platform with a 2-of-3 policy naming them');
    const policy = policyDocument({ repository: org.did, signers: [alice, bob, carol].map((m) => m.did), threshold: 2 });
    const policyFile = join(work, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(policy, null, 2));
    const server = await serve({ policy: policyFile, port: '0', host: '127.0.0.1', platform: 'dev', dataDir: join(work, 'data'), quiet: true }, io);
    try {
      const submit = async (draft: Draft) => {
        const res = await requestJson(`${server.url}/xrpc/dev.encumber.signRecord`, { method: 'POST', body: draft, what: 'the enclave' });
        return { status: res.status, body: res.body as SignAnswer };
      };
      const logsOf = (...ms: DemoMember[]) => Object.fromEntries(ms.map((m) => [m.did, m.log]));
      const draft = (text: string): Draft => ({
        repository: org.did,
        collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() },
        cosignatures: [],
      });
      const sign = (d: Draft, ...ms: DemoMember[]) => ms.reduce((acc, m) => cosignDraft(acc, m.key, m.did).draft, d);

      say('3. alice and bob co-sign a post draft; the enclave signs it');
      const post = { ...sign(draft('Hello from our org, co-signed by 2 of 3 members.'), alice, bob), plcLogs: logsOf(alice, bob) };
      const signed = await submit(post);
      expect('signRecord', signed.status === 200, signed.status === 200 ? `payload ${signed.body.cid}` : `${signed.body.error}: ${signed.body.message}`);
      if (signed.status !== 200) return EXIT_INVALID;
      const recordFile = join(work, 'signed.json');
      writeFileSync(recordFile, JSON.stringify(signed.body, null, 2));
      say(`   signatures: ${(signed.body.record?.signatures ?? []).map((s) => s.issuer).join(', ')}`);

      say('4. a verifier checks the attestation (fresh nonce, dev root given explicitly, measurement and policy repository pinned) and the record');
      // The verifier pins the measurement it computes itself from this checkout (encumber measure).
      const measurementsFile = join(work, 'measurements.json');
      writeFileSync(measurementsFile, JSON.stringify(devMeasurements()));
      const verdict = await recordVerify(
        recordFile,
        {
          identity: server.url,
          root: join(work, 'data', 'dev-root.pem'),
          measurements: measurementsFile,
          plcLogs: recordLogsFile(work, logsOf(alice, bob)),
          // The verifier says which organisation's policy it trusts.
          repository: org.did,
        },
        io,
      );
      expect('record verify', verdict === EXIT_OK, verdict === EXIT_OK ? 'valid' : 'invalid');

      say('5. bad drafts are refused');
      const refused = async (what: string, d: Draft, code: string) => {
        const r = await submit(d);
        expect(what, r.status !== 200 && r.body.error === code, `HTTP ${r.status} ${r.body.error}`);
      };
      await refused('one co-signature', { ...sign(draft('only alice'), alice), plcLogs: logsOf(alice) }, 'InsufficientCosigners');
      const forged = sign(draft('forged bob'), alice, bob);
      forged.cosignatures[1] = { issuer: bob.did, sig: forged.cosignatures[0]!.sig };
      await refused('a forged co-signature', { ...forged, plcLogs: logsOf(alice, bob) }, 'InvalidCosignature');
      const mallory = await newMember('mallory');
      await refused('a non-member co-signature', { ...sign(draft('mallory'), alice, mallory), plcLogs: logsOf(alice, mallory) }, 'UnknownSigner');
      // Carol rotates her key (a new PLC op); once the enclave has used the new
      // state, her old log (with the old key) is a stale replay.
      const oldLog = carol.log;
      const oldKey = carol.key;
      carol.key = generateMemberKey();
      carol.head = await addKeyOp(carol.head, carol.rotationKey, 'atproto', carol.key.did);
      carol.log = [...carol.log, auditEntry(carol.did, carol.head, new Date(Date.now() + 1000))];
      const fresh = await submit({ ...sign(draft('carol after rotation'), alice, carol), plcLogs: logsOf(alice, carol) });
      expect('co-signing with the rotated key', fresh.status === 200, `HTTP ${fresh.status}`);
      const staleDraft = sign(draft('stale carol'), alice, { ...carol, key: oldKey });
      await refused('a stale PLC log (before the rotation)', { ...staleDraft, plcLogs: { [alice.did]: alice.log, [carol.did]: oldLog } }, 'StalePlcLog');
    } finally {
      await server.close();
    }
    say(failures === 0 ? 'demo complete: every step behaved as expected' : `demo: ${failures} step(s) did not behave as expected`);
    return failures === 0 ? EXIT_OK : EXIT_INVALID;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `demo --pds`: tools/demo-pds.ts in the source checkout (it starts PostgreSQL, the PLC directory and the
 * reference PDS, all test tooling), in its own process so its services end with it.
 */
async function demoWithPds(io: CliIo): Promise<number> {
  const script = join(REPO_ROOT, 'tools', 'demo-pds.ts');
  if (!existsSync(script)) {
    io.err(`demo --pds runs from a source checkout (${script} is missing)`);
    return EXIT_USAGE;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  createInterface({ input: child.stdout }).on('line', (l) => io.out(l));
  createInterface({ input: child.stderr }).on('line', (l) => io.err(l));
  const [code] = (await once(child, 'close')) as [number | null];
  return code ?? EXIT_INVALID;
}
