/**
 * @did-plc/lib as a second opinion, used two ways:
 *
 * - `libValidate`: validateOperationLog fed the log's non-nullified ops, as a
 *   client that trusts the directory's flags would use it. It checks the DID,
 *   prev links and signatures of the canonical chain only.
 * - `libReplay`: the directory's own path, assureValidNextOp for every entry in
 *   order (nullified ones included), which is where forks and the 72 h window
 *   are judged. The lib reads the clock (Date.now) for the window, so during
 *   each call the clock is pinned to the entry's createdAt, the moment the
 *   directory received it.
 *
 * The lib is not a safe verifier (see the differential test); it is a
 * reference for the rules it does implement.
 */
import * as plc from '@did-plc/lib';
import { CID } from 'multiformats/cid';
import type { PlcAuditEntry } from '../../src/plc/types.ts';

export type LibDoc = { rotationKeys: string[]; verificationMethods: Record<string, string>; alsoKnownAs: string[]; services: Record<string, { type: string; endpoint: string }> };

export type LibVerdict<T> = { ok: true; value: T } | { ok: false; error: string; name: string };

const failed = (e: unknown): { ok: false; error: string; name: string } => ({
  ok: false,
  error: (e as Error)?.message?.slice(0, 200) ?? String(e),
  name: (e as Error)?.constructor?.name ?? 'unknown',
});

/** validateOperationLog on the non-nullified ops; value null = tombstoned. */
export async function libValidate(did: string, log: readonly PlcAuditEntry[]): Promise<LibVerdict<LibDoc | null>> {
  const ops = log.filter((e) => !e.nullified).map((e) => e.operation) as unknown as plc.CompatibleOpOrTombstone[];
  try {
    const doc = await plc.validateOperationLog(did, ops);
    if (doc === null) return { ok: true, value: null };
    const { rotationKeys, verificationMethods, alsoKnownAs, services } = doc;
    return { ok: true, value: { rotationKeys, verificationMethods, alsoKnownAs, services } };
  } catch (e) {
    return failed(e);
  }
}

/** Replay every entry through assureValidNextOp; value = the nullified flags it computes. */
export async function libReplay(did: string, log: readonly PlcAuditEntry[]): Promise<LibVerdict<boolean[]> & { index?: number }> {
  const flags: boolean[] = [];
  const cidToIndex = new Map<string, number>();
  let current: plc.IndexedOperation[] = [];
  const realNow = Date.now;
  for (let i = 0; i < log.length; i++) {
    const entry = log[i]!;
    const proposed = entry.operation as unknown as plc.CompatibleOpOrTombstone;
    let result: { nullified: { toString(): string }[] };
    Date.now = () => Date.parse(entry.createdAt);
    try {
      result = await plc.assureValidNextOp(did, current, proposed);
    } catch (e) {
      return { ...failed(e), index: i };
    } finally {
      Date.now = realNow;
    }
    const gone = new Set(result.nullified.map((c) => c.toString()));
    for (const c of gone) flags[cidToIndex.get(c)!] = true;
    current = current.filter((o) => !gone.has(o.cid.toString()));
    // The lib's own CID of the op (its dag-cbor), checked against the entry's.
    const { cid } = await plc.getLastOpWithCid([proposed]);
    if (cid.toString() !== entry.cid) return { ok: false, error: `lib cid ${cid.toString()} ≠ entry cid ${entry.cid}`, name: 'CidMismatch', index: i };
    current.push({ did, operation: proposed, cid: CID.parse(entry.cid) as unknown as plc.IndexedOperation['cid'], nullified: false, createdAt: new Date(entry.createdAt) });
    cidToIndex.set(entry.cid, i);
    flags[i] = false;
  }
  return { ok: true, value: flags };
}
