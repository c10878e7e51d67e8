/**
 * Quorum-approved upgrades (docs/key-handoff.md "Upgrades"): the
 * `dev.encumber.upgrade` statement members co-sign, and the public check of an
 * approval an enclave published. Pure: statement, identity, co-signatures,
 * receipt and (optionally) audit logs come in; no I/O, no clock.
 *
 * A statement names the policy it is made under and the measurements (the
 * shape of attestation/measurements.json) the key may be handed to. Members
 * co-sign its DAG-CBOR bytes exactly as they co-sign a record payload; the
 * enclave checks them with the signRecord rules, then signs a receipt (a
 * dev.encumber.receipt whose `cid` is the statement's) with the enclave key.
 */
import { EncumberError, type ErrorCode } from '../errors.ts';
import { verifySignature } from '../crypto/verify.ts';
import { encodeCbor } from '../data/cbor.ts';
import { CID, cidForCborBytes } from '../data/cid.ts';
import { ipldToJson, jsonToIpld } from '../data/json.ts';
import type { JsonValue } from '../data/types.ts';
import { isCanonicalUtcMillis } from '../data/syntax/datetime.ts';
import { countQuorum } from '../policy/quorum.ts';
import type { AttestationCheck } from '../attestation/types.ts';
import { failRule, ruleWalk, WalkEnded } from './rows.ts';
import { cosignerKeysStep } from './cosigner-keys.ts';
import { parseMeasurements, type Measurements } from './measurements.ts';
import { identityPolicyStep, type Identity } from './identity.ts';

export const UPGRADE_TYPE = 'dev.encumber.upgrade';

/** A statement: the IPLD value members sign (its DAG-CBOR bytes), its CID, and its measurements parsed. */
export interface UpgradeStatement {
  value: { $type: typeof UPGRADE_TYPE; policy: CID; measurements: Record<string, unknown>; createdAt: string };
  bytes: Uint8Array;
  cid: CID;
  measurements: Measurements;
}

/** What an enclave publishes per approved statement (getUpgrades), and what `upgrade verify` checks. */
export interface PublishedUpgrade {
  statement: JsonValue;
  statementCid: string;
  /** The counted co-signatures: member, the did:key it verified with, the signature. */
  cosignatures: { issuer: string; key: string; sig: { $bytes: string } }[];
  /** A dev.encumber.receipt for the statement's CID, signed by the enclave key. */
  receipt: JsonValue;
  /** The co-signers' audit logs, when they were supplied with the statement (supplied-logs policies). */
  plcLogs?: Record<string, JsonValue>;
}

function invalid(message: string, cause?: unknown): never {
  throw new EncumberError('UpgradeInvalid', message, cause === undefined ? {} : { cause });
}

const FIELDS = ['$type', 'createdAt', 'measurements', 'policy'];

/** A statement from its data-model JSON: exactly the four fields, a policy link, a canonical time, measurements. */
export function parseUpgradeStatement(json: unknown): UpgradeStatement {
  let v: unknown;
  try {
    v = jsonToIpld(json);
  } catch (cause) {
    invalid('the statement is not data-model JSON', cause);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array || v instanceof CID) invalid('the statement must be an object');
  const s = v as Record<string, unknown>;
  // Rule: exactly the statement's fields, so what is signed is what is read.
  const keys = Object.keys(s).sort();
  if (keys.join(',') !== FIELDS.join(',')) invalid(`the statement has fields ${keys.join(', ')}; it must have exactly ${FIELDS.join(', ')}`);
  // Rule: its type.
  if (s.$type !== UPGRADE_TYPE) invalid(`$type is ${String(s.$type)}, not ${UPGRADE_TYPE}`);
  // Rule: the policy is a CID link.
  if (!(s.policy instanceof CID)) invalid('policy must be a CID link ({"$link": ...})');
  // Rule: createdAt is a UTC time with milliseconds.
  if (!isCanonicalUtcMillis(s.createdAt)) invalid('createdAt must be a UTC time with milliseconds (2026-01-01T00:00:00.000Z)');
  // Rule: the measurements have the published shape (attestation/measurements.json), at least one of them.
  if (typeof s.measurements !== 'object' || s.measurements === null || Array.isArray(s.measurements)) invalid('measurements must be an object');
  let measurements: Measurements;
  try {
    measurements = parseMeasurements(s.measurements);
  } catch (cause) {
    invalid(cause instanceof Error ? cause.message : 'measurements are malformed', cause);
  }
  if (measurements.nitro.length + measurements.dev.length + measurements['sev-snp'].length === 0) invalid('the statement approves no measurement');
  const bytes = encodeCbor(s);
  return { value: s as UpgradeStatement['value'], bytes, cid: cidForCborBytes(bytes), measurements };
}

/** A new statement's data-model JSON (the draft's): the policy, the measurements (without a comment), the time. */
export function draftUpgradeStatement(policy: CID, measurements: Measurements, createdAt: string): JsonValue {
  const { $comment: _dropped, ...kept } = measurements;
  return ipldToJson({ $type: UPGRADE_TYPE, policy, measurements: kept, createdAt } as never);
}

/** Rule: the statement is made under this policy (a statement for another policy approves nothing here). */
export function checkStatementPolicy(statement: UpgradeStatement, policyCid: CID | string): void {
  if (statement.value.policy.toString() !== policyCid.toString()) {
    throw new EncumberError('UpgradePolicyMismatch', `the statement names policy ${statement.value.policy}, the enforced policy is ${policyCid}`, {
      expected: policyCid.toString(),
      actual: statement.value.policy.toString(),
    });
  }
}

/** The union of approved sets (entries kept in order, duplicates dropped). */
export function unionMeasurements(...sets: Measurements[]): Measurements {
  const out: Measurements = { nitro: [], dev: [], 'sev-snp': [] };
  const seen = new Set<string>();
  const fresh = (k: string): boolean => !seen.has(k) && seen.add(k) !== undefined;
  for (const m of sets) {
    for (const p of ['nitro', 'dev'] as const) {
      for (const e of m[p]) if (fresh(`${p}:${JSON.stringify(Object.entries(e.pcrs).sort())}`)) out[p].push(e);
    }
    for (const e of m['sev-snp']) if (fresh(`sev-snp:${e.measurement}`)) out['sev-snp'].push(e);
  }
  return out;
}

export type UpgradeVerdict =
  | { ok: true; checks: AttestationCheck[]; cid: string; cosigners: string[]; measurements: Measurements }
  | { ok: false; checks: AttestationCheck[]; error: { code: ErrorCode; message: string } };


function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof CID);
}

/**
 * Anyone's check that an enclave identity's key approved this statement on a
 * quorum's word: the statement well-formed, hashing to the `statementCid` the
 * approval names (required), and for the identity's policy, the receipt for
 * that statement and signed by the identity's key, the co-signatures the record
 * verifier's rules (members once, enough, each verifying with the key the
 * receipt names) and, with the audit logs, each key re-derived from the PLC
 * head the receipt names. Rows in a fixed order; the first failure ends it.
 */
export function verifyUpgrade(identity: Pick<Identity, 'key' | 'policy' | 'policyCid'>, upgrade: unknown, opts: { plcLogs?: Record<string, unknown> } = {}): UpgradeVerdict {
  const walk = ruleWalk();
  const { checks, step } = walk;
  const fail = failRule;

  try {
    // 1. The identity's policy hashes to its CID.
    const policy = identityPolicyStep(walk, identity);

    // 2. The statement: well-formed, hashing to the CID published with it (always given: an approval names
    //    the statement it is for), for the identity's policy.
    const u = isMap(upgrade) ? upgrade : {};
    const statement = step('statement', () => {
      const s = parseUpgradeStatement(u.statement);
      if (typeof u.statementCid !== 'string') fail('UpgradeInvalid', 'the approval names no statementCid');
      if (u.statementCid !== s.cid.toString()) fail('UpgradeInvalid', `the statement hashes to ${s.cid}, published as ${String(u.statementCid)}`);
      checkStatementPolicy(s, identity.policyCid);
      return s;
    }, (s) => `statement ${s.cid} (${s.value.createdAt}): ${describeMeasurements(s.measurements)}`);

    // 3. The receipt: for this statement and policy, signed by the enclave key.
    const receipt = step('receipt', () => {
      let r: unknown;
      try {
        r = jsonToIpld(u.receipt);
      } catch {
        fail('ReceiptInvalid', 'the receipt is not data-model JSON');
      }
      if (!isMap(r) || r.$type !== 'dev.encumber.receipt') fail('ReceiptInvalid', 'no dev.encumber.receipt');
      const { sig, ...unsigned } = r as Record<string, unknown>;
      const rec = r as Record<string, unknown>;
      if (!(rec.cid instanceof CID) || !rec.cid.equals(statement.cid)) fail('ReceiptInvalid', 'the receipt is for another statement');
      if (!(rec.policy instanceof CID) || rec.policy.toString() !== identity.policyCid) fail('ReceiptInvalid', 'the receipt names another policy');
      if (!(sig instanceof Uint8Array) || !verifySignature(identity.key, encodeCbor(unsigned), sig)) fail('ReceiptInvalid', `the receipt signature does not verify with ${identity.key}`);
      if (!Array.isArray(rec.heads) || !rec.heads.every(isMap)) fail('ReceiptInvalid', 'receipt heads are not a list of PLC heads');
      return rec;
    }, (r) => `signed by ${identity.key} at ${String(r.signedAt)}`);

    // 4. The co-signatures: members once, enough of them, each verifying over the statement with the key the receipt names.
    const heads = new Map((receipt.heads as Record<string, unknown>[]).map((h) => [String(h.did), h]));
    const cosignatures: unknown[] = Array.isArray(u.cosignatures) ? u.cosignatures : [];
    const entries = cosignatures.map((c) => (isMap(c) ? c : {}));
    const cosigners = step('cosignatures', () => {
      const counted = countQuorum(policy, entries.map((e) => (typeof e.issuer === 'string' ? e.issuer : '')));
      for (const [i, e] of entries.entries()) {
        let sig: unknown;
        try {
          sig = jsonToIpld(e.sig);
        } catch {
          sig = undefined;
        }
        if (typeof e.key !== 'string' || !(sig instanceof Uint8Array) || !verifySignature(e.key, statement.bytes, sig)) {
          fail('InvalidCosignature', `co-signature ${i} by ${String(e.issuer)} does not verify over the statement with ${String(e.key)}`);
        }
        const head = heads.get(String(e.issuer));
        if (!head || head.key !== e.key) fail('ReceiptInvalid', `co-signature ${i}: the receipt does not name ${String(e.key)} as the key of ${String(e.issuer)}`);
      }
      return counted;
    }, (s) => `${s.length} of ${policy.signers.length} members (threshold ${policy.threshold}) signed the statement with the keys the receipt names`);

    // 5. Each key is the co-signer's #keyId at the receipt's PLC head (needs the logs).
    const logs = opts.plcLogs ?? (isMap(u.plcLogs) ? u.plcLogs : undefined);
    cosignerKeysStep(walk, policy, entries, heads, logs);
    return { ok: true, checks, cid: statement.cid.toString(), cosigners, measurements: statement.measurements };
  } catch (e) {
    if (!(e instanceof WalkEnded)) throw e;
    return { ok: false, checks, error: walk.failure };
  }
}

export function describeMeasurements(m: Measurements): string {
  const parts = [
    ...m.nitro.map((e) => `nitro PCR0 ${String(e.pcrs[0] ?? '').slice(0, 16)}…`),
    ...m.dev.map((e) => `dev PCR0 ${String(e.pcrs[0] ?? '').slice(0, 16)}…`),
    ...m['sev-snp'].map((e) => `sev-snp ${e.measurement.slice(0, 16)}…`),
  ];
  return parts.join(', ');
}
