/**
 * Verifying a published record against an enclave identity, with no trust in
 * the enclave beyond its key: rebuild the payload, check the enclave entry,
 * its receipt and binding, and re-check the co-signatures the record carries
 * against the policy with the enclave's own M-of-N count (src/policy/quorum.ts).
 * Pure: the caller fetches identity, record and logs.
 *
 * Returns rows in a fixed order (the first failure ends the walk), the same
 * shape the attestation verifiers return, and on failure the typed code the
 * enclave would give for the same fault (InvalidCosignature, UnknownSigner,
 * InsufficientCosigners, ...) or one of the record codes only a verifier meets
 * (MissingEnclaveSignature, EnclaveSignatureInvalid, ReceiptInvalid).
 */
import { EncumberError, type ErrorCode } from '../errors.ts';
import { verifySignature } from '../crypto/verify.ts';
import { encodeCbor } from '../data/cbor.ts';
import { CID } from '../data/cid.ts';
import { parseRecordJson } from '../data/record.ts';
import { buildPayload, type IpldRecord } from '../policy/payload.ts';
import { countQuorum } from '../policy/quorum.ts';
import type { AttestationCheck } from '../attestation/types.ts';
import { failRule, ruleWalk, WalkEnded } from './rows.ts';
import { cosignerKeysStep } from './cosigner-keys.ts';
import { identitySteps, type Identity } from './identity.ts';
import { checkPolicyPin, describePolicy, type PolicyPin } from './policy-pin.ts';

export type { Identity } from './identity.ts';

export type RecordVerdict =
  | { ok: true; checks: AttestationCheck[]; cid: string; cosigners: string[] }
  | { ok: false; checks: AttestationCheck[]; error: { code: ErrorCode; message: string } };


/** A signature entry has the shape of a map (not null, a scalar, a list, bytes or a link). */
function isEntry(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof CID);
}

export interface RecordVerifyOptions {
  /**
   * Co-signers' audit logs (DID → the directory's /:did/log/audit). With them,
   * each co-signer entry's key is re-derived from the PLC operation the
   * receipt names as that DID's head, so the M-of-N is re-checked without
   * trusting the enclave's PLC check.
   */
  plcLogs?: Record<string, unknown>;
  /** The policy (CID and/or repository) the verifier trusts; absent: a warning row says it was not pinned. */
  pin?: PolicyPin;
  /**
   * Where the record was found (its at:// URI): the repository must be the
   * policy's and the collection the record's $type.
   */
  location?: { repository: string; collection: string; uri?: string };
}

export function verifyPublishedRecord(identity: Identity, recordJson: unknown, opts: RecordVerifyOptions = {}): RecordVerdict {
  const walk = ruleWalk();
  const { checks, step } = walk;
  const fail = failRule;

  try {
    // 1. The identity is self-consistent: policy and binding hash to their CIDs and name the key.
    const { policy } = identitySteps(walk, identity);

    // 1b. What the policy allows, on a row of its own, and whether it is the one the verifier trusts.
    checks.push({ name: 'policy', ok: true, detail: describePolicy(identity.policyCid, policy) });
    const pinned = checkPolicyPin(opts.pin, { policyCid: identity.policyCid, policy });
    checks.push(pinned.check);
    if (pinned.error) walk.stop(pinned.error);

    // 2. The record: data model, with signatures, its $type an allowed collection.
    const record = step('record-shape', () => {
      const r = parseRecordJson(recordJson) as IpldRecord;
      if (!Array.isArray(r.signatures) || r.signatures.length === 0) fail('MissingEnclaveSignature', 'record has no signatures');
      if (typeof r.$type !== 'string' || !policy.collections.includes(r.$type)) fail('CollectionNotAllowed', `record $type ${String(r.$type)} is not an allowed collection`);
      return r;
    }, (r) => `${String(r.$type)} with ${(r.signatures as unknown[]).length} signature entries`);
    // 2b. Where it was published: an at:// record lives in the policy's repository, in its $type's collection.
    if (opts.location) {
      const loc = opts.location;
      step('record-location', () => {
        const where = loc.uri ?? `${loc.repository}/${loc.collection}`;
        if (loc.repository !== policy.repository) {
          throw new EncumberError('RepositoryNotAllowed', `${where} is in repository ${loc.repository}, the policy governs ${policy.repository}`);
        }
        if (loc.collection !== record.$type) {
          throw new EncumberError('CollectionNotAllowed', `${where} is in collection ${loc.collection}, the record is a ${String(record.$type)}`);
        }
        return where;
      }, (where) => `${where} is in the policy's repository ${policy.repository}`);
    }
    const payload = step('payload', () => buildPayload(record, policy.repository, record.$type as string), (p) => `payload ${p.cid} (repository ${policy.repository})`);
    const entries = record.signatures as Record<string, unknown>[];
    const enclave = entries[entries.length - 1]!;

    // 3. The enclave entry: last, by the enclave key, over the payload, naming the binding.
    step('enclave-signature', () => {
      if (!isEntry(enclave) || enclave.$type !== 'dev.encumber.signature') fail('MissingEnclaveSignature', 'last entry is not a dev.encumber.signature');
      if (enclave.issuer !== identity.key || enclave.key !== identity.key) fail('MissingEnclaveSignature', `last entry is not by the enclave key ${identity.key}`);
      if (!(enclave.binding instanceof CID) || enclave.binding.toString() !== identity.bindingCid) fail('EnclaveSignatureInvalid', 'enclave entry does not name the identity binding');
      if (!(enclave.sig instanceof Uint8Array) || !verifySignature(identity.key, payload.bytes, enclave.sig)) fail('EnclaveSignatureInvalid', 'enclave signature does not verify over the payload');
      return true;
    }, () => `verifies with ${identity.key}`);

    // 4. The receipt: for this payload and policy, signed by the enclave.
    const receipt = step('receipt', () => {
      const r = enclave.receipt as Record<string, unknown> | undefined;
      if (r?.$type !== 'dev.encumber.receipt') fail('ReceiptInvalid', 'enclave entry has no receipt');
      const { sig, ...unsigned } = r!;
      if (!(r!.cid instanceof CID) || !r!.cid.equals(payload.cid)) fail('ReceiptInvalid', 'receipt is for another payload');
      if (!(r!.policy instanceof CID) || r!.policy.toString() !== identity.policyCid) fail('ReceiptInvalid', 'receipt names another policy');
      if (!(sig instanceof Uint8Array) || !verifySignature(identity.key, encodeCbor(unsigned), sig)) fail('ReceiptInvalid', 'receipt signature does not verify');
      if (!Array.isArray(r!.heads) || !r!.heads.every(isEntry)) fail('ReceiptInvalid', 'receipt heads are not a list of PLC heads');
      return r!;
    }, (r) => `signed at ${String(r.signedAt)}, ${(r.heads as unknown[]).length} PLC head(s)`);

    // 5. The co-signatures: each by a policy member, verifying over the payload,
    //    with a PLC head in the receipt that names the entry's key (the receipt,
    //    signed by the enclave, binds which key each member's signature was
    //    verified with); at least `threshold` distinct members.
    const headByDid = new Map(((receipt.heads as Record<string, unknown>[]) ?? []).map((h) => [String(h.did), h]));
    const cosigners = step('cosignatures', () => {
      const cosigning = entries.slice(0, -1);
      // Rules: each entry is a signature entry by a policy member, named once,
      // and enough of them for the threshold: the enclave's own count, before
      // any signature work.
      // (An entry is not covered by the enclave's signature: anyone can rewrite it, so its shape is checked.)
      const counted = countQuorum(policy, cosigning.map((e) => (isEntry(e) && typeof e.issuer === 'string' ? e.issuer : '')), (i) => {
        const e = cosigning[i];
        if (!isEntry(e) || e.$type !== 'dev.encumber.signature') fail('InvalidCosignature', `entry ${i} is not a dev.encumber.signature`);
        if (typeof e!.issuer !== 'string') fail('InvalidCosignature', `entry ${i}: issuer is not a DID string`);
      });
      for (const [i, e] of cosigning.entries()) {
        const issuer = String(e.issuer);
        // Rule: the co-signature verifies over the payload with the entry's key.
        if (typeof e.key !== 'string' || !(e.sig instanceof Uint8Array) || !verifySignature(e.key, payload.bytes, e.sig)) {
          fail('InvalidCosignature', `entry ${i}: co-signature by ${issuer} does not verify with ${String(e.key)}`);
        }
        // Rule: the receipt has a PLC head for the issuer naming that same key.
        const head = headByDid.get(issuer);
        if (!head) fail('ReceiptInvalid', `entry ${i}: the receipt has no PLC head for ${issuer}`);
        if (typeof head!.key !== 'string') fail('ReceiptInvalid', `entry ${i}: the receipt's head for ${issuer} names no key`);
        if (head!.key !== e.key) fail('ReceiptInvalid', `entry ${i}: ${issuer} signed with ${String(e.key)}, the receipt says the enclave verified ${String(head!.key)}`);
      }
      return counted;
    }, (s) => `${s.length} of ${policy.signers.length} members (threshold ${policy.threshold}) signed the payload with the keys the receipt names`);

    // 6. Each entry's key is the one the co-signer's PLC state named at the
    //    receipt's head (needs the logs; otherwise it rests on the enclave's check).
    cosignerKeysStep(walk, policy, entries.slice(0, -1), headByDid, opts.plcLogs);
    return { ok: true, checks, cid: payload.cid.toString(), cosigners };
  } catch (e) {
    if (!(e instanceof WalkEnded)) throw e;
    return { ok: false, checks, error: walk.failure };
  }
}
