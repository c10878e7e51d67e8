/**
 * The rule the record and upgrade verifiers share once the co-signers' audit
 * logs are given: each co-signer entry's key is the co-signer's `#keyId` in
 * the PLC operation the receipt names as its head, and that head is still the
 * DID's history. Without the logs the row says the keys rest on the enclave's
 * own PLC check. Pure.
 */
import { CID } from '../data/cid.ts';
import { verifyAuditLog } from '../plc/verify.ts';
import { verificationMethodAtOperation } from '../plc/methods.ts';
import type { PlcAnyOperation } from '../plc/types.ts';
import type { Policy } from '../policy/schema.ts';
import { failRule, type RuleWalk } from './rows.ts';

/** Row cosigner-keys: `entries` (issuer, key) against `heads` (DID → the receipt's head), with `logs` (DID → audit log). */
export function cosignerKeysStep(
  walk: RuleWalk,
  policy: Policy,
  entries: readonly Record<string, unknown>[],
  heads: ReadonlyMap<string, Record<string, unknown>>,
  logs: Record<string, unknown> | undefined,
): void {
  if (!logs) {
    walk.checks.push({ name: 'cosigner-keys', ok: true, skipped: true, detail: 'not re-checked: the keys rest on the enclave\'s PLC check (give the co-signers\' audit logs to re-check)' });
    return;
  }
  const fail = failRule;
  walk.step('cosigner-keys', () => {
    for (const e of entries) {
      const did = String(e.issuer);
      const keyId = policy.signers.find((x) => x.did === did)!.keyId;
      const log = logs[did];
      if (log === undefined) fail('MissingPlcLog', `no audit log given for ${did}`);
      const v = verifyAuditLog(did, log);
      const state = v.ok ? v.state : fail('InvalidPlcLog', `audit log of ${did} is invalid: ${v.error.code}: ${v.error.message}`);
      const head = heads.get(did)!;
      const headCid = head.cid instanceof CID ? head.cid.toString() : String(head.cid);
      const at = (log as { cid: string; operation: PlcAnyOperation }[]).find((x) => x.cid === headCid);
      if (!at) fail('StalePlcLog', `the audit log of ${did} does not contain the receipt's head ${headCid}`);
      // Rule: the head is still the DID's history: an operation nullified since (the DID's owner recovered
      // from it with a higher-priority key) names a key the owner disowned.
      if (state.nullified[state.entryCids.indexOf(headCid)]) {
        fail('StalePlcLog', `the receipt's head ${headCid} of ${did} has since been nullified (the DID recovered from it)`);
      }
      const key = verificationMethodAtOperation(at!.operation, keyId);
      if (key === undefined) fail('SignerKeyMissing', `${did}#${keyId} at head ${headCid} is absent, the entry says ${String(e.key)}`);
      if (key !== e.key) fail('InvalidCosignature', `${did}#${keyId} at head ${headCid} is ${key ?? 'absent'}, the entry says ${String(e.key)}`);
    }
    return true;
  }, () => 'every co-signer\'s key is its #keyId at the receipt\'s PLC head (logs verified)');
}
