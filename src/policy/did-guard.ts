/**
 * The DID guard's decision, pure (docs/did-guard.md "Guard"): given the
 * organisation's verified audit log (each entry with the key that signed it),
 * its key, the policy's `revert` option and `now`, either nothing to do, or the first operation to revert and the
 * unsigned recovery operation that nullifies it, or a typed reason it cannot.
 *
 * Rules in order, one block each. Nothing here signs; doubt means no action.
 */
import type { DidGuardErrorCode } from '../errors.ts';
import { NULLIFICATION_WINDOW_MS } from '../plc/verify.ts';
import type { PlcOperation, PlcState, VerifiedNode } from '../plc/types.ts';
import type { DidGuardPolicy } from './schema.ts';
import type { UnsignedPlcOp } from './plc-op.ts';

export interface Intruder {
  cid: string;
  createdAt: string;
  /** The did:key that signed it. */
  signer: string;
}

/** An operation the guard saw but may not revert, and why. */
export interface Unrevertable {
  intruder: Intruder;
  code: DidGuardErrorCode;
  message: string;
}

export type GuardPlan =
  /** Nothing to revert; `unrevertable` lists what the guard saw and may not undo. */
  | { action: 'none'; unrevertable: Unrevertable[] }
  | { action: 'revert'; intruder: Intruder; forkAt: string; recovery: UnsignedPlcOp; unrevertable: Unrevertable[] };

export interface GuardPlanInput {
  state: PlcState;
  /** Every verified entry of the log, in log order (src/plc/verify.ts `verifiedNodes`). */
  nodes: readonly VerifiedNode[];
  guardKey: string;
  revert: DidGuardPolicy['revert'];
  now: Date;
}

/** Does `op` change what 'keys-and-pds' protects: rotation keys, #atproto, the atproto_pds endpoint (a tombstone changes all)? */
export function changesKeysOrPds(prev: PlcOperation, op: VerifiedNode['op']): boolean {
  if (op.type !== 'plc_operation') return true;
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  return (
    !same(prev.rotationKeys, op.rotationKeys) ||
    prev.verificationMethods.atproto !== op.verificationMethods.atproto ||
    prev.services.atproto_pds?.endpoint !== op.services.atproto_pds?.endpoint ||
    prev.services.atproto_pds?.type !== op.services.atproto_pds?.type
  );
}

export function planGuard(input: GuardPlanInput): GuardPlan {
  const { state, nodes, guardKey, revert, now } = input;
  const byCid = new Map(nodes.map((n) => [n.cid, n]));
  const canonical = state.canonicalCids;
  const unrevertable: Unrevertable[] = [];

  // The whole canonical chain, not only what came after the guard first read it: the guard key exists only in
  // the enclave (and the instances it was handed to), so every operation made while the DID listed it happened
  // under its watch, whether or not it could read the directory then (a host that keeps the directory from the
  // guard until an intrusion is made gains nothing).
  for (let i = 1; i < canonical.length; i++) {
    const node = byCid.get(canonical[i]!)!;
    const parent = byCid.get(canonical[i - 1]!)!;
    // Rule: the guard's own operations (approved by a quorum, or its recoveries) stand.
    if (node.signerKey === guardKey) continue;
    // Rule: an operation made while the DID did not list the guard key is
    // history the guard never held (e.g. the one that installs the guard key).
    if (!parent.keys.includes(guardKey)) continue;
    // Rule: the `revert` option: 'keys-and-pds' leaves what changes none of rotation keys, #atproto, atproto_pds.
    if (parent.op.type !== 'plc_operation') continue;
    if (revert === 'keys-and-pds' && !changesKeysOrPds(parent.op, node.op)) continue;
    const intruder = intruderOf(node);

    // Rule: the guard key outranks the intruder's signer in the parent's rotation keys (PLC's fork rule).
    const guardIndex = parent.keys.indexOf(guardKey);
    if (guardIndex >= node.signerIndex) {
      unrevertable.push({ intruder, code: 'DidGuardCannotRevert', message: `${node.cid} was signed by ${node.signerKey} (priority ${node.signerIndex}); the guard key is at priority ${guardIndex}` });
      continue;
    }
    // Rule: within PLC's 72-hour recovery window (inclusive), measured from the intruder's createdAt.
    if (now.getTime() - node.createdAtMs > NULLIFICATION_WINDOW_MS) {
      unrevertable.push({ intruder, code: 'DidGuardWindowPassed', message: `${node.cid} (${node.createdAt}) is older than 72 hours` });
      continue;
    }
    // The recovery: the parent's state again, forked from the parent, which nullifies the intruder and all after it.
    const p = parent.op;
    const recovery: UnsignedPlcOp = {
      type: 'plc_operation',
      rotationKeys: [...p.rotationKeys],
      verificationMethods: { ...p.verificationMethods },
      alsoKnownAs: [...p.alsoKnownAs],
      services: Object.fromEntries(Object.entries(p.services).map(([k, v]) => [k, { type: v.type, endpoint: v.endpoint }])),
      prev: parent.cid,
    };
    return { action: 'revert', intruder, forkAt: parent.cid, recovery, unrevertable };
  }
  return { action: 'none', unrevertable };
}

function intruderOf(node: VerifiedNode): Intruder {
  return { cid: node.cid, createdAt: node.createdAt, signer: node.signerKey };
}
