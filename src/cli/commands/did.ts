/**
 * `encumber did draft | cosign | submit` (docs/did-guard.md): members draft a
 * PLC operation for the organisation's DID on its verified head (read from
 * the directory), co-sign its dev.encumber.plcOp payload, and submit it to
 * the enclave (dev.encumber.signPlcOp), which signs it with the guard key and
 * hands it to the directory. `did log` checks the guard's signed public log.
 */
import { EncumberError } from '../../errors.ts';
import { fetchAuditLog } from '../../plc/directory/client.ts';
import { cosignPlcOpDraft, draftDidOp, parsePlcOpDraft } from '../../member/did-ops.ts';
import { plcOpPayload } from '../../policy/plc-op.ts';
import { verifyGuardLog } from '../../verifier/guard-log.ts';
import { loadEnclaveAnswer, loadIdentity } from './publish.ts';
import { EXIT_INVALID, EXIT_OK, UsageProblem, consentToSign, output, outputCosigned, readJsonInput, readMemberKey, submitToEnclave, usageOf, type CliIo } from '../io.ts';

export interface DidDraftFlags {
  did: string;
  directory: string;
  setHandle?: string;
  setPds?: string;
  setAtprotoKey?: string;
  out?: string;
}

/** A new draft: the DID's log from the directory, verified here, and the change applied to its head. */
export async function didDraft(flags: DidDraftFlags, io: CliIo, now = new Date()): Promise<number> {
  let log: unknown;
  try {
    log = await fetchAuditLog(flags.directory, flags.did);
  } catch (e) {
    if (e instanceof EncumberError) throw new UsageProblem(`cannot read the audit log of ${flags.did}: ${e.message}`);
    throw e;
  }
  const change = {
    ...(flags.setHandle !== undefined ? { handle: flags.setHandle } : {}),
    ...(flags.setPds !== undefined ? { pds: flags.setPds } : {}),
    ...(flags.setAtprotoKey !== undefined ? { atprotoKey: flags.setAtprotoKey } : {}),
  };
  const draft = usageOf(() => draftDidOp(flags.did, log, change, now), flags.did);
  await output(io, draft, flags.out);
  io.err(`DID operation draft for ${flags.did} on head ${draft.operation.prev}: payload ${plcOpPayload(draft.repository, draft.operation).cid}`);
  return EXIT_OK;
}

/** Show the operation, ask (unless --yes), add the member's co-signature over its dev.encumber.plcOp payload. */
export async function didCosign(draftPath: string, flags: { key: string; issuer: string; out?: string; yes?: boolean }, io: CliIo): Promise<number> {
  const raw = await readJsonInput(io, draftPath, 'DID operation draft', { strict: true });
  const draft = usageOf(() => parsePlcOpDraft(raw), draftPath);
  const key = await readMemberKey(io, flags.key);
  const payload = plcOpPayload(draft.repository, draft.operation);
  io.err(`You are asked to approve a change of the organisation's DID ${draft.repository}, as ${flags.issuer} (key ${key.did}):`);
  io.err(`  payload  ${payload.cid}`);
  for (const line of JSON.stringify(draft.operation, null, 2).split('\n')) io.err(`    ${line}`);
  if (!(await consentToSign(io, { draftPath, yes: flags.yes, what: 'operation', question: `Approve this DID operation as ${flags.issuer}?` }))) return EXIT_INVALID;
  const { draft: next } = cosignPlcOpDraft(draft, key, flags.issuer);
  await outputCosigned(io, next, draftPath, flags.out);
  io.err(`co-signed ${payload.cid} as ${flags.issuer} (${next.cosignatures.length} co-signature(s))`);
  return EXIT_OK;
}

/** Send a co-signed draft to the enclave (signPlcOp); prints its answer (the signed operation and the directory's). */
export async function didSubmit(draftPath: string, flags: { enclave: string; out?: string }, io: CliIo): Promise<number> {
  const raw = await readJsonInput(io, draftPath, 'DID operation draft', { strict: true });
  const draft = usageOf(() => parsePlcOpDraft(raw), draftPath);
  const body = await submitToEnclave(io, flags.enclave, 'dev.encumber.signPlcOp', draft);
  if (!body) return EXIT_INVALID;
  await output(io, body, flags.out);
  io.err(`signed and submitted: operation ${String(body.operationCid)}`);
  return EXIT_OK;
}

/**
 * `did log`: the DID guard's public log (getGuardLog), checked against the enclave's identity: the log is about
 * the policy's repository, names the bound guard key, and is signed by the enclave key. Exit 0 valid, 1 invalid.
 */
export async function didLog(flags: { identity: string; log?: string; json?: boolean }, io: CliIo): Promise<number> {
  const identity = await loadIdentity(flags.identity, io);
  const doc = await loadEnclaveAnswer(flags.identity, 'dev.encumber.getGuardLog', flags.log, io, 'guard log');
  const v = verifyGuardLog(identity, doc);
  if (flags.json) {
    const note = 'the key is taken from the identity: check its attestation with `encumber attest verify`';
    io.out(JSON.stringify(v.ok ? { valid: true, did: v.did, signedAt: v.signedAt, entries: v.entries, checks: v.checks, note } : { valid: false, error: v.error, checks: v.checks }, null, 2));
    return v.ok ? EXIT_OK : EXIT_INVALID;
  }
  for (const c of v.checks) io.out(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  if (!v.ok) {
    io.out(`guard log INVALID: ${v.error.code}: ${v.error.message}`);
    return EXIT_INVALID;
  }
  io.out(`guard log of ${v.did}, signed at ${v.signedAt}: ${v.entries.length} intrusion(s)`);
  for (const e of v.entries) {
    io.out(`  ${e.intruder.cid} (signed by ${e.intruder.signer}, ${e.intruder.createdAt}): ${e.outcome}${e.recovery ? ` by ${e.recovery.cid}` : ''}${e.code ? ` [${e.code}]` : ''}`);
  }
  io.out('(the key is taken from the identity: check its attestation with `encumber verify`)');
  return EXIT_OK;
}
