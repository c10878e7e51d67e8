/**
 * The enclave's did:plc audit-log verifier.
 *
 * Input: a DID and the entries exactly as the directory serves them at
 * `GET /:did/log/audit`. Output: the verified DID state, or a typed error with
 * a stable code and the index of the offending entry. Pure: no I/O, no clock
 * (pass `now` to bound createdAt), never throws on bad input.
 *
 * Rules are applied to each entry in log order, one block per rule. The log
 * contains nullified entries too: we replay forks and recompute every
 * `nullified` flag, then require them to equal the directory's.
 */
import { EncumberError, type PlcErrorCode } from '../errors.ts';
import { decodeBase64Url } from '../crypto/encoding.ts';
import { encodeCbor } from '../data/cbor.ts';
import { cidForCborBytes } from '../data/cid.ts';
import { didForGenesisBytes, PLC_DID } from './did.ts';
import { describeZodIssue, plcAnyOperationSchema, plcAuditEntrySchema } from './schema.ts';
import { findSigner } from './signer.ts';
import { findProtoKey } from '../data/proto-key.ts';
import { stateFromHead } from './state.ts';
import type {
  VerifiedNode,
  PlcAnyOperation,
  PlcAuditEntry,
  PlcState,
  PlcVerdict,
  PlcVerifyOptions,
  PlcWarning,
} from './types.ts';

/** Recovery window: a fork may displace an op at most 72 h (inclusive) after it. */
export const NULLIFICATION_WINDOW_MS = 72 * 60 * 60 * 1000;
const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_SKEW_MS = 5 * 60 * 1000;


function fail(code: PlcErrorCode, index: number, message: string, extra: { expected?: unknown; actual?: unknown; path?: string } = {}): never {
  throw new EncumberError(code, `entry ${index}: ${message}`, { index, ...extra });
}

export function verifyAuditLog(did: string, log: unknown, opts: PlcVerifyOptions = {}): PlcVerdict {
  return verifyAuditLogResumable(did, log, opts).verdict;
}

/**
 * What a verified log leaves behind so that a longer version of the same log
 * can be checked by verifying only its new entries. Opaque to callers.
 */
export interface PlcCheckpoint {
  readonly did: string;
  readonly walk: Readonly<WalkState>;
}

/**
 * Like `verifyAuditLog`, but reuses `from` (the checkpoint of an earlier
 * verification of this DID) when the new log starts with exactly the entries
 * it covered (ignoring `nullified`, which later forks may change); otherwise
 * verifies from scratch. The verdict is the same either way.
 */
export function verifyAuditLogResumable(
  did: string,
  log: unknown,
  opts: PlcVerifyOptions = {},
  from?: PlcCheckpoint,
): { verdict: PlcVerdict; checkpoint?: PlcCheckpoint; resumedAt: number } {
  let start = emptyWalk();
  if (from && from.did === did && Array.isArray(log) && extendsPrefix(log, from.walk.fingerprints)) {
    start = cloneWalk(from.walk);
  }
  const resumedAt = start.nodes.length;
  try {
    const walk = run(did, log, opts, start);
    const state = finish(did, log as unknown[], walk);
    return { verdict: { ok: true, state }, checkpoint: { did, walk }, resumedAt };
  } catch (e) {
    if (e instanceof EncumberError && isPlcCode(e.code)) {
      return { verdict: { ok: false, error: e as EncumberError<PlcErrorCode> }, resumedAt };
    }
    // Anything unexpected is still a refusal: never accept on doubt.
    const error = new EncumberError('InvalidPlcLog', `audit log could not be verified: ${(e as Error)?.message ?? String(e)}`, {
      cause: e,
    });
    return { verdict: { ok: false, error }, resumedAt };
  }
}

/**
 * The verified entries a checkpoint covers, in log order: each with its CID,
 * time, operation, the rotation keys it establishes and the key that signed
 * it (the DID guard reads who signed what: src/policy/did-guard.ts).
 */
export function verifiedNodes(checkpoint: PlcCheckpoint): readonly VerifiedNode[] {
  return checkpoint.walk.nodes;
}

function isPlcCode(code: string): code is PlcErrorCode {
  return code === 'InvalidPlcLog' || code === 'InvalidPlcOperation' || code.startsWith('Plc');
}

/** The walk's working state after some number of entries. */
interface WalkState {
  nodes: VerifiedNode[];
  /** The canonical chain: nodes that are not nullified, genesis first. */
  canonical: VerifiedNode[];
  canonicalPos: Map<string, number>;
  nullifiedCids: Set<string>;
  computedNullified: boolean[];
  warnings: PlcWarning[];
  /** A copy of each verified entry, to recognise an extended log (compared without `nullified`). */
  fingerprints: unknown[];
}

function emptyWalk(): WalkState {
  return {
    nodes: [],
    canonical: [],
    canonicalPos: new Map(),
    nullifiedCids: new Set(),
    computedNullified: [],
    warnings: [],
    fingerprints: [],
  };
}

function cloneWalk(w: Readonly<WalkState>): WalkState {
  return {
    nodes: [...w.nodes],
    canonical: [...w.canonical],
    canonicalPos: new Map(w.canonicalPos),
    nullifiedCids: new Set(w.nullifiedCids),
    computedNullified: [...w.computedNullified],
    warnings: [...w.warnings],
    fingerprints: [...w.fingerprints],
  };
}

/** What the checkpoint keeps of a verified entry: a copy of its JSON (the caller's objects may change later). */
function fingerprint(entry: unknown): unknown {
  return structuredClone(entry);
}

/**
 * Equal JSON values (parsed JSON: no undefined, functions or cycles; key order does not matter), compared in
 * place without allocating; `skip` names one top-level key to leave out.
 */
function sameJson(a: unknown, b: unknown, skip?: string): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let n = 0;
  for (const k in ra) {
    if (!Object.hasOwn(ra, k) || k === skip) continue;
    if (!Object.hasOwn(rb, k) || !sameJson(ra[k], rb[k])) return false;
    n++;
  }
  for (const k in rb) if (Object.hasOwn(rb, k) && k !== skip) n--;
  return n === 0;
}

function extendsPrefix(log: unknown[], fingerprints: readonly unknown[]): boolean {
  if (fingerprints.length === 0 || log.length < fingerprints.length) return false;
  for (let i = 0; i < fingerprints.length; i++) {
    const e = log[i];
    // `nullified` is left out of the comparison, so check its type here as the schema would.
    if (typeof e !== 'object' || e === null || typeof (e as { nullified?: unknown }).nullified !== 'boolean') return false;
    if (!sameJson(e, fingerprints[i], 'nullified')) return false;
  }
  return true;
}

function run(did: string, log: unknown, opts: PlcVerifyOptions, w: WalkState): WalkState {
  // Rule: the DID is a well-formed did:plc (24 base32 characters, exactly).
  if (typeof did !== 'string' || !PLC_DID.test(did)) {
    throw new EncumberError('PlcDidMismatch', `not a did:plc identifier: ${JSON.stringify(String(did).slice(0, 64))}`);
  }
  // Rule: the log is a non-empty array within the size limit (checked before any work).
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Array.isArray(log)) throw new EncumberError('InvalidPlcLog', 'audit log must be a JSON array');
  if (log.length === 0) throw new EncumberError('InvalidPlcLog', 'audit log is empty');
  if (log.length > maxEntries) {
    throw new EncumberError('InvalidPlcLog', `audit log has ${log.length} entries, limit ${maxEntries}`, {
      expected: maxEntries,
      actual: log.length,
    });
  }

  const { nodes, canonical, canonicalPos, nullifiedCids, computedNullified, warnings } = w;
  const maxFutureMs = opts.now ? opts.now.getTime() + (opts.maxClockSkewMs ?? DEFAULT_SKEW_MS) : undefined;

  for (let i = nodes.length; i < log.length; i++) {
    // Rule: no own "__proto__" key anywhere. JSON.parse makes it an own
    // property, but schema parsing (and any object copy) silently drops it, so
    // the op would be hashed and checked without bytes that came with it.
    const protoPath = findProtoKey(log[i], '');
    if (protoPath !== undefined) fail('InvalidPlcOperation', i, `forbidden key "__proto__" at ${protoPath || '(entry)'}`, { path: protoPath });

    // Rule: the entry has exactly the directory's fields.
    const parsedEntry = plcAuditEntrySchema.safeParse(log[i]);
    if (!parsedEntry.success) {
      const { message, path } = describeZodIssue(parsedEntry.error);
      fail('InvalidPlcLog', i, `malformed audit entry: ${message}`, { path });
    }
    const entry = parsedEntry.data;

    // Rule: every entry is about this DID.
    if (entry.did !== did) fail('PlcDidMismatch', i, 'entry is for another DID', { expected: did, actual: entry.did });

    // Rule: the operation matches one of the three strict schemas.
    const parsedOp = plcAnyOperationSchema.safeParse(entry.operation);
    if (!parsedOp.success) {
      const { message, path } = describeZodIssue(parsedOp.error);
      fail('InvalidPlcOperation', i, `malformed operation: ${message}`, { path: `operation.${path}` });
    }
    const op = parsedOp.data as PlcAnyOperation;

    // Rule: createdAt is a real instant and moves strictly forward.
    const createdAtMs = Date.parse(entry.createdAt);
    if (!Number.isFinite(createdAtMs) || new Date(createdAtMs).toISOString() !== entry.createdAt) {
      fail('InvalidPlcLog', i, `createdAt is not a valid instant: ${entry.createdAt}`, { path: 'createdAt' });
    }
    const previous = nodes[i - 1];
    if (previous && createdAtMs <= previous.createdAtMs) {
      fail('PlcCreatedAtOrder', i, `createdAt ${entry.createdAt} is not after entry ${i - 1} (${previous.createdAt})`);
    }
    if (maxFutureMs !== undefined && createdAtMs > maxFutureMs) {
      fail('PlcCreatedInFuture', i, `createdAt ${entry.createdAt} is in the future`);
    }

    // Rule: sig is canonical unpadded base64url of exactly 64 bytes.
    let sig: Uint8Array;
    try {
      sig = decodeBase64Url(op.sig);
    } catch (e) {
      fail('PlcBadSignatureEncoding', i, `sig: ${(e as Error).message}`, { path: 'operation.sig' });
    }
    if (sig.length !== 64) {
      fail('PlcBadSignatureEncoding', i, `sig must decode to 64 bytes (r‖s), got ${sig.length}`, {
        expected: 64,
        actual: sig.length,
      });
    }

    // Rule: the entry's cid is the CID of the signed operation.
    const signedBytes = encodeCbor(op);
    const cid = cidForCborBytes(signedBytes).toString();
    if (cid !== entry.cid) fail('PlcCidMismatch', i, 'cid is not the CID of the operation', { expected: cid, actual: entry.cid });

    const { sig: _sig, ...unsigned } = op;
    const unsignedBytes = encodeCbor(unsigned);
    const ownKeys = rotationKeysOf(op);

    // Rule: rotation-key creation rules (1 key minimum, no duplicates) are
    // warnings for history, errors only in spec-strict mode.
    if (op.type === 'plc_operation') checkRotationKeyRules(op.rotationKeys, i, opts, warnings);

    let node: VerifiedNode;
    if (i === 0) {
      // Rule: the genesis has prev = null and is not a tombstone.
      if (op.type === 'plc_tombstone') fail('PlcTombstoneGenesis', i, 'a tombstone cannot be the genesis operation');
      if (op.prev !== null) fail('PlcPrevMismatch', i, 'the genesis operation must have prev = null', { actual: op.prev });
      // Rule: the DID is derived from the signed genesis.
      const derived = didForGenesisBytes(signedBytes);
      if (derived !== did) fail('PlcDidMismatch', i, 'DID is not derived from the genesis operation', { expected: derived, actual: did });
      // Rule: the genesis is signed by one of its own rotation keys
      // (legacy create: [recoveryKey, signingKey]).
      const signer = findSigner(ownKeys, unsignedBytes, sig);
      if (!signer.found) signatureFailure(i, signer.reason);
      node = { index: i, cid, createdAt: entry.createdAt, createdAtMs, op, keys: ownKeys, signerIndex: signer.index, signerKey: signer.key };
    } else {
      // Rule: legacy create is only valid as the genesis.
      if (op.type === 'create') fail('PlcLegacyCreateNotGenesis', i, 'legacy create operation after the genesis');
      // Rule: prev names an operation of the canonical chain.
      if (op.prev === null) fail('PlcPrevMismatch', i, 'a second genesis (prev = null) in the log');
      const p = canonicalPos.get(op.prev);
      if (p === undefined) {
        if (nullifiedCids.has(op.prev)) fail('PlcPrevNullified', i, `prev ${op.prev} is a nullified operation`);
        fail('PlcPrevMismatch', i, `prev ${op.prev} is not an earlier operation of this log`);
      }
      const parent = canonical[p]!;
      // Rule: nothing extends a tombstone; nothing is signed by an empty key set.
      if (parent.op.type === 'plc_tombstone') fail('PlcPrevTombstoned', i, `prev ${op.prev} is a tombstone`);
      if (parent.keys.length === 0) fail('PlcNoRotationKeys', i, `prev ${op.prev} has no rotation keys to verify against`);
      // Rule: the signer is one of prev's rotation keys.
      const signer = findSigner(parent.keys, unsignedBytes, sig, parent.signerKey);
      if (!signer.found) signatureFailure(i, signer.reason);
      node = { index: i, cid, createdAt: entry.createdAt, createdAtMs, op, keys: ownKeys, signerIndex: signer.index, signerKey: signer.key };

      const displaced = canonical[p + 1];
      if (displaced) {
        // Rule (nullification): a fork displaces the canonical op after prev only
        // if signed by a strictly higher-priority (lower-index) key of prev than
        // the one that signed the displaced op …
        if (signer.index >= displaced.signerIndex) {
          fail('PlcForkKeyNotHigherPriority', i, `fork is signed by rotation key ${signer.index} of prev, but the op it would nullify (entry ${displaced.index}) was signed by key ${displaced.signerIndex}; a lower index is required`, {
            expected: `< ${displaced.signerIndex}`,
            actual: signer.index,
          });
        }
        // … and comes within 72 h (inclusive) of the displaced op.
        const gap = createdAtMs - displaced.createdAtMs;
        if (gap > NULLIFICATION_WINDOW_MS) {
          fail('PlcLateNullification', i, `fork would nullify entry ${displaced.index} but comes ${gap} ms after it (limit ${NULLIFICATION_WINDOW_MS} ms)`, {
            expected: NULLIFICATION_WINDOW_MS,
            actual: gap,
          });
        }
        for (const gone of canonical.splice(p + 1)) {
          canonicalPos.delete(gone.cid);
          nullifiedCids.add(gone.cid);
          computedNullified[gone.index] = true;
        }
      }
    }

    nodes.push(node);
    computedNullified[i] = false;
    canonicalPos.set(cid, canonical.length);
    canonical.push(node);
    w.fingerprints.push(fingerprint(log[i]));
  }
  return w;
}

function finish(did: string, log: unknown[], w: WalkState): PlcState {
  // Rule: the directory's nullified flags equal the ones the rules give.
  for (let i = 0; i < log.length; i++) {
    const claimed = (log[i] as PlcAuditEntry).nullified;
    if (claimed !== w.computedNullified[i]) {
      fail('PlcNullifiedMismatch', i, `nullified is ${claimed}, the rules give ${w.computedNullified[i]}`, {
        expected: w.computedNullified[i],
        actual: claimed,
      });
    }
  }
  return stateFromHead(did, w.nodes, w.canonical, w.computedNullified, w.warnings);
}

function rotationKeysOf(op: PlcAnyOperation): string[] {
  switch (op.type) {
    case 'plc_operation':
      return op.rotationKeys;
    case 'create':
      return [op.recoveryKey, op.signingKey];
    case 'plc_tombstone':
      return [];
  }
}

function checkRotationKeyRules(keys: string[], i: number, opts: PlcVerifyOptions, warnings: PlcWarning[]): void {
  const problems: PlcWarning[] = [];
  if (keys.length === 0) problems.push({ code: 'EmptyRotationKeys', index: i, message: `entry ${i}: rotationKeys is empty` });
  if (new Set(keys).size !== keys.length) {
    problems.push({ code: 'DuplicateRotationKeys', index: i, message: `entry ${i}: rotationKeys has duplicates` });
  }
  if (problems.length > 0 && opts.specStrict) {
    fail('PlcRotationKeysRule', i, problems.map((p) => p.message).join('; '));
  }
  warnings.push(...problems);
}

function signatureFailure(i: number, reason: 'no-key-verifies' | 'high-s'): never {
  if (reason === 'high-s') fail('PlcSignatureNotLowS', i, 'signature verifies only as high-S (s > n/2); atproto requires low-S');
  fail('PlcInvalidSignature', i, 'no allowed rotation key verifies the signature');
}
