/**
 * `encumber audit RECEIPT --directory URL [--identity URL|FILE | --key did:key] [--json]`
 * Later audit of a receipt (DESIGN.md "Receipt"): for each signer head the
 * enclave used, fetch the DID's audit log from the directory now, verify it,
 * and report whether a newer operation already existed at `signedAt` (the
 * enclave was fed a stale state). RECEIPT is a receipt, a signRecord answer
 * or a published record (its enclave entry). The receipt's signature is
 * checked against the enclave key the auditor brings (--identity: the
 * getIdentity answer whose attestation they verified; or --key), never
 * against a key the audited document names itself: anyone can sign a receipt
 * with their own key and name that key.
 * Exit 0 all fresh, 1 stale/unknown head/invalid, 2 usage or directory error.
 */
import { CID } from 'multiformats/cid';
import { encodeCbor } from '../../data/cbor.ts';
import { jsonToIpld } from '../../data/json.ts';
import { verifySignature } from '../../crypto/verify.ts';
import { parseDidKey } from '../../crypto/did-key.ts';
import { isEncumberError } from '../../errors.ts';
import { fetchAuditLog } from '../../plc/directory/client.ts';
import { getJsonObject } from '../../http/json.ts';
import { auditReceiptHead, type HeadAudit } from '../../plc/freshness.ts';
import { verifyAuditLog } from '../../plc/verify.ts';
import type { PlcAuditEntry } from '../../plc/types.ts';
import { EXIT_INVALID, EXIT_OK, UsageProblem, readJsonInput, type CliIo } from '../io.ts';

export interface AuditFlags {
  directory: string;
  /** The enclave's getIdentity answer (URL of the enclave, or a file): its key, binding and policy. */
  identity?: string;
  key?: string;
  json?: boolean;
}

/** What the auditor trusts about the enclave: its key, and (from an identity) its binding and policy CIDs. */
interface TrustedEnclave {
  key: string;
  source: string;
  bindingCid?: string;
  policyCid?: string;
}

async function trustedEnclave(flags: AuditFlags, io: CliIo): Promise<TrustedEnclave | undefined> {
  if (flags.key !== undefined) {
    try {
      parseDidKey(flags.key);
    } catch (e) {
      throw new UsageProblem(`--key: ${(e as Error).message}`);
    }
  }
  if (flags.identity === undefined) return flags.key !== undefined ? { key: flags.key, source: '--key' } : undefined;
  let id: Record<string, unknown>;
  if (/^https?:\/\//.test(flags.identity)) {
    const url = new URL('/xrpc/dev.encumber.getIdentity', flags.identity);
    try {
      id = await getJsonObject(url, { what: `the enclave at ${url.origin}` });
    } catch (e) {
      throw new UsageProblem(`cannot read the identity at ${url}: ${(e as Error).message}`);
    }
  } else {
    id = (await readJsonInput(io, flags.identity, 'identity')) as Record<string, unknown>;
  }
  if (!isDoc(id) || typeof id.key !== 'string' || typeof id.bindingCid !== 'string' || typeof id.policyCid !== 'string') {
    throw new UsageProblem(`${flags.identity} is not a getIdentity answer (key, bindingCid, policyCid)`);
  }
  if (flags.key !== undefined && flags.key !== id.key) throw new UsageProblem(`--key ${flags.key} is not the identity's key ${id.key}`);
  return { key: id.key, source: `identity ${flags.identity}`, bindingCid: id.bindingCid, policyCid: id.policyCid };
}

type Doc = Record<string, unknown>;
const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof CID);

/**
 * The receipt and, when the document has one, the enclave entry carrying it
 * (its `key` is only what the document claims; its `binding` is compared with
 * the identity's).
 */
function findReceipt(doc: Doc): { receipt: Doc; entry?: Doc } {
  if (doc.$type === 'dev.encumber.receipt') return { receipt: doc };
  if (isDoc(doc.receipt)) {
    const sig = isDoc(doc.signature) ? doc.signature : undefined;
    return { receipt: doc.receipt, ...(sig ? { entry: sig } : {}) };
  }
  const record = isDoc(doc.record) ? doc.record : doc;
  const entries = Array.isArray(record.signatures) ? record.signatures.filter(isDoc) : [];
  const enclave = [...entries].reverse().find((e) => isDoc(e.receipt));
  if (enclave) return { receipt: enclave.receipt as Doc, entry: enclave };
  throw new UsageProblem('no receipt found: give a dev.encumber.receipt, a signRecord answer or a signed record');
}

/** The receipt's signature against the key the auditor brought; the document's own claims are only compared. */
function checkReceiptSignature(receipt: Doc, entry: Doc | undefined, trusted: TrustedEnclave | undefined): { signature: 'valid' | 'invalid' | 'not checked'; detail: string } {
  const claimed = typeof entry?.key === 'string' ? entry.key : undefined;
  if (!trusted) {
    return {
      signature: 'not checked',
      detail: `NOT CHECKED: give --identity (the enclave's attested getIdentity answer) or --key${claimed ? `; the key the document names (${claimed}) proves nothing on its own` : ''}`,
    };
  }
  const invalid = (detail: string) => ({ signature: 'invalid' as const, detail });
  if (claimed !== undefined && claimed !== trusted.key) return invalid(`the document names enclave key ${claimed}, the ${trusted.source} has ${trusted.key}`);
  if (trusted.policyCid !== undefined && (!(receipt.policy instanceof CID) || receipt.policy.toString() !== trusted.policyCid)) {
    return invalid(`the receipt names policy ${String(receipt.policy)}, the ${trusted.source} has ${trusted.policyCid}`);
  }
  if (trusted.bindingCid !== undefined && entry?.binding !== undefined && String(entry.binding) !== trusted.bindingCid) {
    return invalid(`the enclave entry names binding ${String(entry.binding)}, the ${trusted.source} has ${trusted.bindingCid}`);
  }
  const { sig, ...unsigned } = receipt;
  const ok = sig instanceof Uint8Array && verifySignature(trusted.key, encodeCbor(unsigned), sig);
  return ok ? { signature: 'valid', detail: `verifies with ${trusted.key} (from ${trusted.source})` } : invalid(`does not verify with ${trusted.key} (from ${trusted.source})`);
}

export async function audit(file: string, flags: AuditFlags, io: CliIo): Promise<number> {
  let doc: unknown;
  try {
    doc = jsonToIpld(JSON.parse(await io.readInput(file)));
  } catch (e) {
    throw new UsageProblem(`cannot read ${file} as atproto JSON: ${(e as Error).message}`);
  }
  if (!isDoc(doc)) throw new UsageProblem(`${file} is not a JSON object`);
  const trusted = await trustedEnclave(flags, io);
  const found = findReceipt(doc);
  const { receipt } = found;
  const signedAt = receipt.signedAt;
  const heads = Array.isArray(receipt.heads) ? receipt.heads.filter(isDoc) : [];
  if (typeof signedAt !== 'string' || Number.isNaN(Date.parse(signedAt)) || heads.length === 0) {
    throw new UsageProblem('the receipt has no signedAt or no heads');
  }

  // The receipt's signature, against the key the auditor brought (never the document's own).
  const { signature, detail: signatureDetail } = checkReceiptSignature(receipt, found.entry, trusted);

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
    io.out(JSON.stringify({ fresh, signedAt, signature, signatureDetail, heads: results }, null, 2));
  } else {
    io.out(`receipt signed at ${signedAt}; signature ${signature}: ${signatureDetail}`);
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
    io.out(
      !fresh
        ? 'NOT FRESH: see above'
        : signature === 'valid'
          ? 'fresh: the enclave used the newest state of every signer'
          : 'fresh heads, but the receipt\'s signature was NOT CHECKED: whether this enclave signed it is not shown',
    );
  }
  return fresh ? EXIT_OK : EXIT_INVALID;
}
