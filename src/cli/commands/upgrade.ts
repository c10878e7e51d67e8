/**
 * `encumber upgrade draft | cosign | submit | verify` (docs/key-handoff.md
 * "Upgrades"): members draft a dev.encumber.upgrade statement naming the
 * enclave's policy and the new release's measurements, co-sign it, submit it
 * (dev.encumber.approveUpgrade); anyone checks the approvals an enclave
 * publishes (dev.encumber.getUpgrades) against its identity.
 */
import { CID } from '../../data/cid.ts';
import { toCanonicalUtcMillis } from '../../data/syntax/datetime.ts';
import { cosignUpgradeDraft, parseUpgradeDraft, type UpgradeDraft } from '../../member/cosign.ts';
import { parseMeasurements } from '../../verifier/measurements.ts';
import { describeMeasurements, draftUpgradeStatement, parseUpgradeStatement, verifyUpgrade } from '../../verifier/upgrade.ts';
import { EXIT_INVALID, EXIT_OK, UsageProblem, consentToSign, output, outputCosigned, readJsonInput, readMemberKey, submitToEnclave, usageOf, type CliIo } from '../io.ts';
import { loadEnclaveAnswer, loadIdentity } from './publish.ts';

/** A new upgrade draft: the enclave's policy CID (from its identity) and the measurements file. */
export async function upgradeDraft(flags: { measurements: string; enclave: string; out?: string }, io: CliIo, now = new Date()): Promise<number> {
  const file = await readJsonInput(io, flags.measurements, 'measurements', { strict: true });
  const measurements = usageOf(() => parseMeasurements(file), flags.measurements);
  const identity = await loadIdentity(flags.enclave, io);
  const statement = draftUpgradeStatement(CID.parse(identity.policyCid), measurements, toCanonicalUtcMillis(now));
  const draft: UpgradeDraft = { statement: statement as Record<string, unknown>, cosignatures: [] };
  const parsed = usageOf(() => parseUpgradeStatement(draft.statement), 'the statement');
  await output(io, draft, flags.out);
  io.err(`upgrade statement ${parsed.cid} under policy ${identity.policyCid}: ${describeMeasurements(parsed.measurements)}`);
  return EXIT_OK;
}

/** Show the statement, ask (unless --yes), add the member's co-signature over its bytes. */
export async function upgradeCosign(
  draftPath: string,
  flags: { key: string; issuer: string; plcLog?: string; out?: string; yes?: boolean },
  io: CliIo,
): Promise<number> {
  // Strict: a draft with duplicate keys could show one value and sign another.
  const raw = await readJsonInput(io, draftPath, 'upgrade draft', { strict: true });
  const draft = usageOf(() => parseUpgradeDraft(raw), draftPath);
  const statement = usageOf(() => parseUpgradeStatement(draft.statement), 'the statement');
  const key = await readMemberKey(io, flags.key);
  io.err(`You are asked to approve an upgrade, as ${flags.issuer} (key ${key.did}):`);
  io.err(`  statement  ${statement.cid}`);
  io.err(`  policy     ${statement.value.policy}`);
  io.err(`  createdAt  ${statement.value.createdAt}`);
  io.err('  the enclave key may then be handed to programs with these measurements:');
  for (const line of JSON.stringify(draft.statement.measurements, null, 2).split('\n')) io.err(`    ${line}`);
  if (!(await consentToSign(io, { draftPath, yes: flags.yes, what: 'statement', question: `Approve upgrade ${statement.cid} as ${flags.issuer}?` }))) return EXIT_INVALID;
  let { draft: next } = cosignUpgradeDraft(draft, key, flags.issuer);
  if (flags.plcLog) {
    const log = await readJsonInput(io, flags.plcLog, 'audit log');
    next = { ...next, plcLogs: { ...(next.plcLogs ?? {}), [flags.issuer]: log } };
  }
  await outputCosigned(io, next, draftPath, flags.out);
  io.err(`co-signed upgrade ${statement.cid} as ${flags.issuer} (${next.cosignatures.length} co-signature(s))`);
  return EXIT_OK;
}

/** Send a co-signed upgrade draft to the enclave (approveUpgrade); prints the approval. */
export async function upgradeSubmit(draftPath: string, flags: { enclave: string; out?: string }, io: CliIo): Promise<number> {
  const raw = await readJsonInput(io, draftPath, 'upgrade draft', { strict: true });
  const draft = usageOf(() => parseUpgradeDraft(raw), draftPath);
  const body = await submitToEnclave(io, flags.enclave, 'dev.encumber.approveUpgrade', draft);
  if (!body) return EXIT_INVALID;
  await output(io, body, flags.out);
  io.err(`approved: upgrade ${String(body.statementCid)}`);
  return EXIT_OK;
}

/**
 * Check every approval an enclave publishes against its identity: exit 0
 * when there is at least one and all verify, 1 otherwise. The identity's key
 * is taken as given here: `encumber verify` checks its attestation.
 */
export async function upgradeVerify(flags: { identity: string; upgrades?: string; plcLogs?: string; json?: boolean }, io: CliIo): Promise<number> {
  const identity = await loadIdentity(flags.identity, io);
  const doc = await loadEnclaveAnswer(flags.identity, 'dev.encumber.getUpgrades', flags.upgrades, io, 'upgrades');
  const list = (doc as { upgrades?: unknown })?.upgrades;
  if (!Array.isArray(list)) throw new UsageProblem('not a getUpgrades answer ({ upgrades: [...] })');
  const plcLogs = flags.plcLogs ? ((await readJsonInput(io, flags.plcLogs, 'audit logs')) as Record<string, unknown>) : undefined;
  const verdicts = list.map((u) => verifyUpgrade(identity, u, plcLogs ? { plcLogs } : {}));
  if (flags.json) {
    io.out(JSON.stringify(verdicts, null, 2));
  } else {
    io.out(`enclave key ${identity.key}, policy ${identity.policyCid}: ${list.length} upgrade(s)`);
    for (const [i, v] of verdicts.entries()) {
      // A refused approval is named by the statementCid it publishes (required: without one it is refused).
      const named = (list[i] as { statementCid?: unknown } | null)?.statementCid;
      io.out(v.ok ? `upgrade ${v.cid}: OK` : `upgrade ${typeof named === 'string' ? named : '(no statementCid)'}: REFUSED ${v.error.code}: ${v.error.message}`);
      for (const c of v.checks) io.out(`  ${c.ok ? (c.skipped ? 'skip' : 'ok  ') : 'FAIL'} ${c.name}: ${c.detail}`);
    }
    io.out('(the key is taken from the identity: check its attestation with `encumber verify`)');
  }
  return verdicts.length > 0 && verdicts.every((v) => v.ok) ? EXIT_OK : EXIT_INVALID;
}
