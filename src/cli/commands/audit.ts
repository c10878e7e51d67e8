/**
 * `encumber audit RECEIPT --directory URL [--key did:key] [--json]`
 * Later audit of a receipt (DESIGN.md "Receipt"): for each signer head the
 * enclave used, fetch the DID's audit log from the directory now, verify it,
 * and report whether a newer operation already existed at `signedAt` (the
 * enclave was fed a stale state). RECEIPT is a receipt, a signRecord answer
 * or a published record (its enclave entry). The receipt's signature is
 * checked when the enclave key is known (from the answer/record or --key).
 * Exit 0 all fresh, 1 stale/unknown head/invalid, 2 usage or directory error.
 */
import { CID } from 'multiformats/cid';
import { encodeCbor } from '../../data/cbor.ts';
import { jsonToIpld } from '../../data/json.ts';
import { verifySignature } from '../../crypto/verify.ts';
import { isEncumberError } from '../../errors.ts';
import { fetchAuditLog } from '../../plc/directory/client.ts';
import { auditReceiptHead, type HeadAudit } from '../../plc/freshness.ts';
import { verifyAuditLog } from '../../plc/verify.ts';
import type { PlcAuditEntry } from '../../plc/types.ts';
import { EXIT_INVALID, EXIT_OK, UsageProblem, type CliIo } from '../io.ts';

export interface AuditFlags {
  directory: string;
  key?: string;
  json?: boolean;
}

type Doc = Record<string, unknown>;
const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof CID);

/** The receipt and, when the document names it, the enclave key that signed it. */
function findReceipt(doc: Doc): { receipt: Doc; key?: string } {
  if (doc.$type === 'dev.encumber.receipt') return { receipt: doc };
  if (isDoc(doc.receipt)) {
    const sig = isDoc(doc.signature) ? doc.signature : undefined;
    return { receipt: doc.receipt, ...(typeof sig?.key === 'string' ? { key: sig.key } : {}) };
  }
  const record = isDoc(doc.record) ? doc.record : doc;
  const entries = Array.isArray(record.signatures) ? record.signatures.filter(isDoc) : [];
  const enclave = [...entries].reverse().find((e) => isDoc(e.receipt));
  if (enclave) return { receipt: enclave.receipt as Doc, ...(typeof enclave.key === 'string' ? { key: enclave.key } : {}) };
  throw new UsageProblem('no receipt found: give a dev.encumber.receipt, a signRecord answer or a signed record');
}

export async function audit(file: string, flags: AuditFlags, io: CliIo): Promise<number> {
  let doc: unknown;
  try {
    doc = jsonToIpld(JSON.parse(await io.readInput(file)));
  } catch (e) {
    throw new UsageProblem(`cannot read ${file} as atproto JSON: ${(e as Error).message}`);
  }
  if (!isDoc(doc)) throw new UsageProblem(`${file} is not a JSON object`);
  const found = findReceipt(doc);
  const { receipt } = found;
  const key = flags.key ?? found.key;
  const signedAt = receipt.signedAt;
  const heads = Array.isArray(receipt.heads) ? receipt.heads.filter(isDoc) : [];
  if (typeof signedAt !== 'string' || Number.isNaN(Date.parse(signedAt)) || heads.length === 0) {
    throw new UsageProblem('the receipt has no signedAt or no heads');
  }

  // The receipt's signature, when we know whose it should be.
  let signature: 'valid' | 'invalid' | 'not checked' = 'not checked';
  if (key) {
    const { sig, ...unsigned } = receipt;
    signature = sig instanceof Uint8Array && verifySignature(key, encodeCbor(unsigned), sig) ? 'valid' : 'invalid';
  }

  const results: (HeadAudit | { did: string; head: string; verdict: 'invalid-log'; error: string })[] = [];
  for (const h of heads) {
    const did = String(h.did);
    const head = h.cid instanceof CID ? h.cid.toString() : String(h.cid);
    let log: unknown;
    try {
      log = await fetchAuditLog(flags.directory, did);
    } catch (e) {
      throw new UsageProblem(`directory ${flags.directory}, ${did}: ${isEncumberError(e) ? `${e.code}: ` : ''}${(e as Error).message}`);
    }
    const verdict = verifyAuditLog(did, log);
    if (!verdict.ok) {
      results.push({ did, head, verdict: 'invalid-log', error: `${verdict.error.code}: ${verdict.error.message}` });
      continue;
    }
    results.push(auditReceiptHead(log as PlcAuditEntry[], { did, cid: head, createdAt: String(h.createdAt) }, signedAt));
  }

  const fresh = signature !== 'invalid' && results.every((r) => r.verdict === 'fresh');
  if (flags.json) {
    io.out(JSON.stringify({ fresh, signedAt, signature, heads: results }, null, 2));
  } else {
    io.out(`receipt signed at ${signedAt}; signature ${signature}${signature === 'not checked' ? ' (pass --key)' : ''}`);
    for (const r of results) {
      const detail =
        r.verdict === 'stale'
          ? `: ${r.newer.length} newer op(s) existed then: ${r.newer.map((n) => `${n.cid} (${n.createdAt})`).join(', ')}`
          : r.verdict === 'unknown-head'
            ? ': the directory no longer has this head (history rewritten?)'
            : r.verdict === 'invalid-log'
              ? `: ${r.error}`
              : '';
      io.out(`${r.verdict.toUpperCase()} ${r.did} head ${r.head}${detail}`);
    }
    io.out(fresh ? 'fresh: the enclave used the newest state of every signer' : 'NOT FRESH: see above');
  }
  return fresh ? EXIT_OK : EXIT_INVALID;
}
