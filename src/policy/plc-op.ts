/**
 * Quorum-approved PLC operations for the organisation's DID (docs/did-guard.md).
 *
 * Members co-sign a `dev.encumber.plcOp` document exactly like a record: the
 * payload is the document plus `$sig { repository, collection:
 * "dev.encumber.plcOp" }` (./payload.ts), so a co-signature for an operation
 * can never count for a record (another collection) nor the reverse. The
 * checks against the DID's state are pure and take the verified state.
 */
import { z } from 'zod';
import { EncumberError } from '../errors.ts';
import { encodeCbor } from '../data/cbor.ts';
import { cidForCborBytes } from '../data/cid.ts';
import type { PlcState } from '../plc/types.ts';
import { buildPayload, type Payload } from './payload.ts';

export const PLC_OP_TYPE = 'dev.encumber.plcOp';

const didKey = z.string().regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/, 'must be a did:key');

/** An unsigned current-format operation, as PLC's creation rules want it (1–5 distinct rotation keys). */
export const unsignedPlcOpSchema = z
  .strictObject({
    type: z.literal('plc_operation'),
    rotationKeys: z.array(didKey).min(1).max(5),
    verificationMethods: z.record(z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/), didKey),
    alsoKnownAs: z.array(z.string().min(1).max(512)).max(10),
    services: z.record(z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/), z.strictObject({ type: z.string().min(1).max(256), endpoint: z.string().min(1).max(512) })),
    prev: z.string().min(1).max(128),
  })
  .refine((op) => new Set(op.rotationKeys).size === op.rotationKeys.length, 'a rotation key appears twice');

export type UnsignedPlcOp = z.infer<typeof unsignedPlcOpSchema>;

/** The proposed operation, strictly (`PlcOpInvalid`: no `sig`, no unknown field, no tombstone). */
export function parseUnsignedPlcOp(value: unknown): UnsignedPlcOp {
  const parsed = unsignedPlcOpSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EncumberError('PlcOpInvalid', `operation: ${issue.path.join('.') || '(root)'}: ${issue.message}`, { path: issue.path.join('.') });
  }
  return parsed.data;
}

/** The document members co-sign: `{ $type: dev.encumber.plcOp, did, operation }`. */
export function plcOpDocument(did: string, operation: UnsignedPlcOp): { $type: typeof PLC_OP_TYPE; did: string; operation: UnsignedPlcOp } {
  return { $type: PLC_OP_TYPE, did, operation };
}

/** The payload everyone signs for an operation on `did` (the policy's repository). */
export function plcOpPayload(did: string, operation: UnsignedPlcOp): Payload {
  return buildPayload(plcOpDocument(did, operation), did, PLC_OP_TYPE);
}

/**
 * The rules on the operation against the DID's current verified state, in
 * order: the DID lives (not tombstoned), the guard key may sign it (among the
 * head's rotation keys), the operation follows the head (prev), and the guard
 * key stays first.
 */
export function checkPlcOpAgainstState(operation: UnsignedPlcOp, state: PlcState, guardKey: string, opts: { allowRelease?: boolean } = {}): void {
  // Rule: the guard key can change the DID at all.
  if (state.tombstoned || !state.rotationKeys.includes(guardKey)) {
    throw new EncumberError('DidGuardNotRotationKey', `${state.did} does not list the guard key ${guardKey} among its rotation keys`, {
      expected: guardKey,
      actual: state.rotationKeys,
    });
  }
  // Rule: the operation follows the head of the verified log (not a fork: the guard forks only to revert).
  if (operation.prev !== state.head.cid) {
    throw new EncumberError('PlcOpPrevMismatch', `the operation's prev ${operation.prev} is not the head ${state.head.cid} of ${state.did}`, {
      expected: state.head.cid,
      actual: operation.prev,
    });
  }
  // Rule: the enclave keeps the DID (its guard key stays the highest-priority rotation key), unless the policy's
  // `allowRelease` lets a quorum give it up.
  if (operation.rotationKeys[0] !== guardKey && !opts.allowRelease) {
    throw new EncumberError('PlcOpGuardKeyNotFirst', `the operation's first rotation key is ${operation.rotationKeys[0]}, not the guard key ${guardKey}`, {
      expected: guardKey,
      actual: operation.rotationKeys[0],
    });
  }
}

/** The DAG-CBOR bytes a PLC signature covers (the operation without `sig`), and the signed operation's CID. */
export function plcOpSigningBytes(operation: UnsignedPlcOp): Uint8Array {
  return encodeCbor(operation);
}

export function signedPlcOpCid(signed: UnsignedPlcOp & { sig: string }): string {
  return cidForCborBytes(encodeCbor(signed)).toString();
}
