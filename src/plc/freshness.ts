/**
 * Receipt audit, the pure part: given a DID's audit log as the directory
 * serves it today (already verified), the head a receipt says the enclave
 * used, and the receipt's `signedAt`, was there a newer operation at that
 * time, i.e. was the enclave fed a stale state? No I/O, no clock.
 *
 * Rule: the head must be in the log; every entry created after the head and
 * at or before `signedAt` is an operation the enclave should have seen (an
 * extension of the head, or a fork that displaced it). Entries created before
 * the head are its ancestors or branches it already displaced.
 */
import type { PlcAuditEntry } from './types.ts';

export interface ReceiptHeadRef {
  did: string;
  cid: string;
  createdAt: string;
}

export type HeadAuditVerdict = 'fresh' | 'stale' | 'unknown-head';

export interface HeadAudit {
  did: string;
  head: string;
  verdict: HeadAuditVerdict;
  /** Operations that existed at `signedAt` but are newer than the head. */
  newer: { cid: string; createdAt: string; nullified: boolean }[];
}

export function auditReceiptHead(log: readonly PlcAuditEntry[], head: ReceiptHeadRef, signedAt: string): HeadAudit {
  const at = Date.parse(signedAt);
  // Rule 1: the head the enclave used is in today's log (else the directory's history was rewritten).
  const entry = log.find((e) => e.cid === head.cid);
  if (!entry) return { did: head.did, head: head.cid, verdict: 'unknown-head', newer: [] };
  // Rule 2: nothing newer than the head had been created by `signedAt`.
  const since = Date.parse(entry.createdAt);
  const newer = log
    .filter((e) => e.cid !== head.cid && Date.parse(e.createdAt) > since && Date.parse(e.createdAt) <= at)
    .map((e) => ({ cid: e.cid, createdAt: e.createdAt, nullified: e.nullified }));
  return { did: head.did, head: head.cid, verdict: newer.length === 0 ? 'fresh' : 'stale', newer };
}
