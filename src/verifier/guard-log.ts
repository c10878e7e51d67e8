/**
 * The DID guard's public log, checked by anyone (docs/did-guard.md "Guard
 * log"): the enclave answers getGuardLog with a `dev.encumber.guardLog`
 * document signed by its enclave key, like a receipt. Given the enclave's
 * identity (whose attestation the caller verifies separately), this checks
 * the identity, that the log is about the policy's repository and names the
 * bound guard key, and the signature. Pure: no I/O, no clock.
 */
import { verifySignature } from '../crypto/verify.ts';
import { encodeCbor } from '../data/cbor.ts';
import { CID } from '../data/cid.ts';
import { jsonToIpld } from '../data/json.ts';
import type { ErrorCode } from '../errors.ts';
import { didGuardOf } from '../policy/schema.ts';
import type { AttestationCheck } from '../attestation/types.ts';
import { identitySteps, type Identity } from './identity.ts';
import { failRule, ruleWalk, WalkEnded } from './rows.ts';

export const GUARD_LOG_TYPE = 'dev.encumber.guardLog';

/** One intrusion as the log states it. */
export interface GuardLogEntryView {
  intruder: { cid: string; createdAt: string; signer: string };
  detectedAt: string;
  outcome: string;
  recovery?: { cid: string; prev: string; submittedAt: string };
  code?: string;
  message?: string;
  attempts: number;
}

export type GuardLogVerdict =
  | { ok: true; checks: AttestationCheck[]; did: string; signedAt: string; entries: GuardLogEntryView[] }
  | { ok: false; checks: AttestationCheck[]; error: { code: ErrorCode; message: string } };

/** The members of a signed guard log (the watcher's report, policy, signedAt, sig). */
const GUARD_LOG_MEMBERS: ReadonlySet<string> = new Set(['$type', 'did', 'guardKey', 'revert', 'pollSeconds', 'baseline', 'lastPoll', 'entries', 'policy', 'signedAt', 'sig']);

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof CID);

/** Check a getGuardLog answer against the enclave's identity. */
export function verifyGuardLog(identity: Identity, logJson: unknown): GuardLogVerdict {
  const walk = ruleWalk();
  const { checks, step } = walk;
  const fail = failRule;
  try {
    // 1. The identity: policy and binding hash to their CIDs and name the keys.
    const { policy, binding } = identitySteps(walk, identity);
    step('guard-enabled', () => {
      const guard = didGuardOf(policy);
      if (!guard) fail('DidGuardDisabled', 'the policy does not enable the DID guard: there is no guard log');
      return guard!;
    }, (g) => `the policy enables the DID guard (revert ${g.revert}, every ${g.pollSeconds} s)`);

    // 2. The document: a guard log about this policy's repository, naming the bound guard key.
    const doc = step('guard-log-document', () => {
      let v: unknown;
      try {
        v = jsonToIpld(logJson);
      } catch (e) {
        fail('ReceiptInvalid', `the guard log is not valid data-model JSON: ${(e as Error).message}`);
      }
      if (!isMap(v) || v.$type !== GUARD_LOG_TYPE) fail('ReceiptInvalid', `not a ${GUARD_LOG_TYPE} document`);
      const d = v as Record<string, unknown>;
      // Exactly the members the enclave writes: nothing else can ride on its signature (a record payload's $sig,
      // for instance).
      const extra = Object.keys(d).filter((k) => !GUARD_LOG_MEMBERS.has(k));
      if (extra.length > 0) fail('ReceiptInvalid', `the guard log has member(s) the enclave does not write: ${extra.join(', ')}`);
      if (d.did !== policy.repository) fail('ReceiptInvalid', `the log is about ${String(d.did)}, the policy's repository is ${policy.repository}`);
      if (!(d.policy instanceof CID) || d.policy.toString() !== identity.policyCid) fail('ReceiptInvalid', 'the log names another policy');
      if (d.guardKey !== binding.guardKey) fail('ReceiptInvalid', `the log names guard key ${String(d.guardKey)}, the binding ${String(binding.guardKey)}`);
      if (typeof d.signedAt !== 'string') fail('ReceiptInvalid', 'the log has no signedAt');
      if (!Array.isArray(d.entries) || !d.entries.every(isEntry)) fail('ReceiptInvalid', 'the log\'s entries are not a list of intrusions');
      return d;
    }, (d) => `the guard log of ${String(d.did)} under policy ${identity.policyCid}, ${(d.entries as unknown[]).length} entries, signed at ${String(d.signedAt)}`);

    // 3. The enclave key's signature over the document without `sig`.
    step('guard-log-signature', () => {
      const { sig, ...unsigned } = doc;
      if (!(sig instanceof Uint8Array) || !verifySignature(identity.key, encodeCbor(unsigned), sig)) {
        fail('ReceiptInvalid', 'the guard log\'s signature does not verify with the enclave key');
      }
    }, () => `signed by the enclave key ${identity.key}`);

    return { ok: true, checks, did: doc.did as string, signedAt: doc.signedAt as string, entries: doc.entries as GuardLogEntryView[] };
  } catch (e) {
    if (!(e instanceof WalkEnded)) throw e;
    return { ok: false, checks, error: walk.failure };
  }
}

function isEntry(v: unknown): v is GuardLogEntryView {
  if (!isMap(v) || !isMap(v.intruder)) return false;
  const i = v.intruder;
  return (
    typeof i.cid === 'string' &&
    typeof i.createdAt === 'string' &&
    typeof i.signer === 'string' &&
    typeof v.detectedAt === 'string' &&
    typeof v.outcome === 'string' &&
    Number.isSafeInteger(v.attempts) &&
    (v.recovery === undefined || isMap(v.recovery))
  );
}
