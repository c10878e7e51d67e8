/**
 * Member tools: `member keygen`, `member add-key`, `draft`, `cosign`, `submit`.
 * These run on members' machines, never in the enclave.
 */
import { writeFile } from 'node:fs/promises';
import { EncumberError } from '../../errors.ts';
import { generateMemberKey } from '../../member/keys.ts';
import { addKeyOp } from '../../member/plc-ops.ts';
import { cosignDraft, draftPayload, parseDraft, type Draft } from '../../member/cosign.ts';
import { ipldToJson } from '../../data/json.ts';
import { verifyAuditLog } from '../../plc/verify.ts';
import type { PlcOperation } from '../../plc/types.ts';
import { EXIT_INVALID, EXIT_OK, UsageProblem, consentToSign, output, outputCosigned, readJsonInput, readMemberKey, send, submitToEnclave, type CliIo } from '../io.ts';
import { xrpcErrorText } from '../../http/json.ts';
import { loadIdentity, publishDocument, resolvePassword } from './publish.ts';
import { checkPdsUrl, identifierKind } from '../../member/publish.ts';



export async function memberKeygen(flags: { out?: string }, io: CliIo): Promise<number> {
  const key = generateMemberKey();
  if (flags.out) {
    // 0600: the file holds the member's private key.
    await writeFile(flags.out, key.toKeyFile(), { mode: 0o600, flag: 'wx' }).catch((e) => {
      throw new UsageProblem(`cannot write ${flags.out}: ${(e as Error).message}`);
    });
    io.err(`wrote ${flags.out} (keep it private)`);
  } else {
    io.out(key.toKeyFile().trimEnd());
  }
  io.err(`public key: ${key.did}`);
  return EXIT_OK;
}

/**
 * Build the PLC operation that adds `--key-id` → the member key to the DID,
 * signed by the DID's rotation key, after verifying the current log.
 */
export async function memberAddKey(
  flags: { did: string; log: string; rotationKey: string; memberKey: string; keyId: string; directory?: string; out?: string },
  io: CliIo,
): Promise<number> {
  const log = await readJsonInput(io, flags.log, 'audit log');
  const verdict = verifyAuditLog(flags.did, log);
  if (!verdict.ok) {
    io.err(`the current audit log does not verify: ${verdict.error.code}: ${verdict.error.message}`);
    return EXIT_INVALID;
  }
  const head = (log as { operation: PlcOperation }[])[verdict.state.head.index]!.operation;
  if (head.type !== 'plc_operation') throw new UsageProblem('the DID head is not a plc_operation (tombstoned or legacy); cannot add a key');
  const rotationKey = await readMemberKey(io, flags.rotationKey);
  if (!verdict.state.rotationKeys.includes(rotationKey.did)) {
    throw new UsageProblem(`${rotationKey.did} is not a rotation key of ${flags.did}; use one of: ${verdict.state.rotationKeys.join(', ')}`);
  }
  const memberKey = flags.memberKey.startsWith('did:key:') ? flags.memberKey : (await readMemberKey(io, flags.memberKey)).did;
  const op = await addKeyOp(head, rotationKey, flags.keyId, memberKey);
  if (flags.directory) {
    const url = new URL(encodeURIComponent(flags.did), flags.directory.endsWith('/') ? flags.directory : flags.directory + '/');
    io.err(`submitting to ${url} …`);
    const res = await send(url, { method: 'POST', body: op, what: `the PLC directory ${url.origin}`, allowNonJson: true });
    if (res.status !== 200) {
      io.err(`the directory refused the operation: HTTP ${res.status}${xrpcErrorText(res.body) || (res.body === undefined ? '' : ` ${JSON.stringify(res.body)}`)}`);
      return EXIT_INVALID;
    }
    io.err('accepted by the directory');
  }
  await output(io, op, flags.out);
  return EXIT_OK;
}

export async function draftNew(
  flags: { repository: string; collection: string; text?: string; record?: string; out?: string },
  io: CliIo,
): Promise<number> {
  let record: Record<string, unknown>;
  if (flags.record) {
    record = (await readJsonInput(io, flags.record, 'record', { strict: true })) as Record<string, unknown>;
  } else if (flags.text !== undefined) {
    record = { $type: flags.collection, text: flags.text, createdAt: new Date().toISOString() };
  } else {
    throw new UsageProblem('give --text TEXT (a post) or --record FILE');
  }
  const draft = parseOrUsage({ repository: flags.repository, collection: flags.collection, record, cosignatures: [] });
  await output(io, draft, flags.out);
  return EXIT_OK;
}

function parseOrUsage(value: unknown): Draft {
  try {
    return parseDraft(value);
  } catch (e) {
    throw new UsageProblem((e as Error).message);
  }
}

/**
 * What exactly will be signed, for the member to read before signing: the
 * payload (the record with its `$sig`: repository and collection) as the data
 * model sees it, i.e. after the strict parse, so what is shown is what is signed.
 */
function showPayload(io: CliIo, draft: Draft, issuer: string, keyDid: string): string {
  const payload = draftPayload(draft);
  io.err(`You are asked to co-sign, as ${issuer} (key ${keyDid}):`);
  io.err(`  repository  ${draft.repository}`);
  io.err(`  collection  ${draft.collection}`);
  io.err(`  payload     ${payload.cid}`);
  io.err('  the payload (record fields and $sig), exactly as signed:');
  for (const line of JSON.stringify(ipldToJson(payload.value as never), null, 2).split('\n')) io.err(`    ${line}`);
  return payload.cid.toString();
}

export async function cosign(
  draftPath: string,
  flags: { key: string; issuer: string; plcLog?: string; out?: string; yes?: boolean },
  io: CliIo,
): Promise<number> {
  // Strict: a draft with duplicate keys could show one value and sign another.
  const draft = parseOrUsage(await readJsonInput(io, draftPath, 'draft', { strict: true }));
  const key = await readMemberKey(io, flags.key);
  let next: Draft;
  let cid: string;
  try {
    const shown = showPayload(io, draft, flags.issuer, key.did);
    if (!(await consentToSign(io, { draftPath, yes: flags.yes, what: 'payload', question: `Sign payload ${shown} as ${flags.issuer}?` }))) return EXIT_INVALID;
    ({ draft: next, cid } = cosignDraft(draft, key, flags.issuer));
  } catch (e) {
    if (e instanceof EncumberError) throw new UsageProblem(`the draft's record cannot be signed: ${e.code}: ${e.message}`);
    throw e;
  }
  if (flags.plcLog) {
    const log = await readJsonInput(io, flags.plcLog, 'audit log');
    next = { ...next, plcLogs: { ...(next.plcLogs ?? {}), [flags.issuer]: log } };
  }
  await outputCosigned(io, next, draftPath, flags.out);
  io.err(`co-signed payload ${cid} as ${flags.issuer} (${next.cosignatures.length} co-signature(s))`);
  return EXIT_OK;
}

export async function submit(
  draftPath: string,
  flags: { enclave: string; out?: string; publish?: boolean; pds?: string; identifier?: string; appPasswordFile?: string },
  io: CliIo,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  // --publish: everything it needs is checked before anything is signed.
  let publishTo: { pds: string; identifier: string; password: string } | undefined;
  if (flags.publish) {
    if (flags.pds === undefined || flags.identifier === undefined) throw new UsageProblem('--publish needs --pds URL and --identifier HANDLE|DID');
    try {
      checkPdsUrl(flags.pds);
      identifierKind(flags.identifier);
    } catch (e) {
      if (e instanceof EncumberError) throw new UsageProblem(e.message);
      throw e;
    }
    publishTo = { pds: flags.pds, identifier: flags.identifier, password: await resolvePassword(flags, io, env) };
  } else if (flags.pds !== undefined || flags.identifier !== undefined || flags.appPasswordFile !== undefined) {
    throw new UsageProblem('--pds, --identifier and --app-password-file go with --publish');
  }
  const draft = parseOrUsage(await readJsonInput(io, draftPath, 'draft', { strict: true }));
  if (publishTo && identifierKind(publishTo.identifier) === 'did' && publishTo.identifier !== draft.repository) {
    throw new UsageProblem(`--identifier ${publishTo.identifier} is not the draft's repository ${draft.repository}: nothing was signed`);
  }
  const body = await submitToEnclave(io, flags.enclave, 'dev.encumber.signRecord', draft, ' (is it running? try: npm start)');
  if (!body) return EXIT_INVALID;
  await output(io, body, flags.out);
  io.err(`signed: payload ${String(body.cid)}`);
  if (!publishTo) return EXIT_OK;
  // The enclave that just signed names its policy: the record is verified against it before it is published.
  return publishDocument(body, { ...publishTo, identity: () => loadIdentity(flags.enclave, io) }, io);
}
