/**
 * Building member PLC operations with @did-plc/lib (creation only; the
 * enclave verifies with its own verifier). Used by `encumber member add-key`
 * and by the demo to create member identities.
 */
import * as plc from '@did-plc/lib';
import type { PlcAuditEntry, PlcOperation } from '../plc/types.ts';
import { cidForValue } from '../data/cid.ts';
import { plcSigner, type MemberKey } from './keys.ts';

export interface NewMemberDid {
  did: string;
  op: PlcOperation;
}

/** A genesis op: `rotationKey` may change the DID; `signingKey` is #atproto. */
export async function createMemberDid(opts: { rotationKey: MemberKey; signingKey: MemberKey; handle: string; pds: string }): Promise<NewMemberDid> {
  const { op, did } = await plc.createOp({
    signingKey: opts.signingKey.did,
    rotationKeys: [opts.rotationKey.did],
    handle: opts.handle,
    pds: opts.pds,
    signer: plcSigner(opts.rotationKey) as never,
  });
  return { did, op: op as unknown as PlcOperation };
}

/** An update op that adds (or replaces) verification method `keyId` → `key`. */
export async function addKeyOp(lastOp: PlcOperation, rotationKey: MemberKey, keyId: string, key: string): Promise<PlcOperation> {
  const op = await plc.createUpdateOp(lastOp as never, plcSigner(rotationKey) as never, (normalized) => ({
    ...normalized,
    verificationMethods: { ...normalized.verificationMethods, [keyId]: key },
  }));
  return op as unknown as PlcOperation;
}

/** An audit-log entry as a directory would serve it for a newly accepted op. */
export function auditEntry(did: string, op: PlcOperation, createdAt: Date): PlcAuditEntry {
  return { did, operation: op, cid: cidForValue(op).toString(), nullified: false, createdAt: createdAt.toISOString() };
}
