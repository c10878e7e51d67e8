/**
 * The key hand-off's documents and the check of a peer's evidence
 * (docs/key-handoff.md). Pure: bytes, roots, approved measurements and time
 * come in as parameters; the I/O side is src/enclave/handoff.ts.
 *
 * Both documents are DAG-CBOR `dev.encumber.handoff` documents, attested the
 * way a binding is: their CID is the Nitro/dev `user_data` (SEV-SNP:
 * report_data = SHA-256(document) ‖ SHA-256(nonce)), the nonce is the other
 * side's fresh value, and `public_key` is the key the document hands over or
 * asks with (the sender's enclave key; the joiner's X25519 HPKE key).
 */
import { EncumberError, type ErrorCode } from '../errors.ts';
import { parseDidKey } from '../crypto/did-key.ts';
import { toHex } from '../crypto/encoding.ts';
import { encodeCbor } from '../data/cbor.ts';
import { CID, encodeDocument, type EncodedDocument } from '../data/cid.ts';
import { jsonToIpld } from '../data/json.ts';
import { verifyNitroDocument, AWS_NITRO_ROOT_G1_SHA256 } from '../attestation/nitro/index.ts';
import { verifySnpReport } from '../attestation/sev-snp/index.ts';
import { detectEvidence } from '../attestation/evidence/detect.ts';
import { splitSnpEvidence } from '../attestation/evidence/snp-cert-table.ts';
import { checkPcrs, checkSnpMeasurement, type Measurements } from './measurements.ts';
import type { EvidencePlatform } from './evidence.ts';

export const HANDOFF_TYPE = 'dev.encumber.handoff';
export const HANDOFF_TRANSCRIPT_TYPE = 'dev.encumber.handoffTranscript';
/** Nonces and challenges: 32 bytes from the CSPRNG. */
export const HANDOFF_NONCE_BYTES = 32;
/** An X25519 public key. */
export const HANDOFF_HPKE_KEY_BYTES = 32;

interface HandoffCommon {
  $type: typeof HANDOFF_TYPE;
  version: 1;
  /** The policy both instances enforce (a new policy is a new key: never handed over). */
  policy: CID;
  platform: EvidencePlatform;
  program: { name: string; version: string };
  /** The sender's single-use challenge Sn. */
  challenge: Uint8Array;
  createdAt: string;
}

/** Round 1, sender → joiner: "this key, under this policy, answering your nonce Rn; my challenge is Sn". */
export interface HandoffOffer extends HandoffCommon {
  purpose: 'handoff-offer';
  /** The enclave key (did:key, k256) the sender holds and would hand over. */
  key: string;
  /**
   * The DID guard's key (did:key, k256), exactly when the policy enables the guard: it travels with the
   * enclave key, in the same seal (docs/did-guard.md).
   */
  guardKey?: string;
  /** The joiner's nonce Rn, echoed. */
  requesterNonce: Uint8Array;
}

/** Round 2, joiner → sender: "answering your challenge Sn about that offer, seal the key to this HPKE key". */
export interface HandoffRequest extends HandoffCommon {
  purpose: 'handoff-request';
  /** The CID of the offer this request answers. */
  offer: CID;
  /** The joiner's fresh ephemeral X25519 public key (32 bytes). */
  hpkeKey: Uint8Array;
}

/** A hand-off document is encoded like every other document: its DAG-CBOR bytes and their CID. */
export type EncodedHandoff<T> = EncodedDocument<T>;
export const encodeHandoff = encodeDocument;

function invalid(message: string, details: { cause?: unknown; path?: string } = {}): never {
  throw new EncumberError('HandoffEvidenceInvalid', message, details);
}

const PLATFORMS: readonly EvidencePlatform[] = ['nitro', 'sev-snp', 'dev'];

function bytesField(doc: Record<string, unknown>, name: string, length: number): Uint8Array {
  const v = doc[name];
  if (!(v instanceof Uint8Array) || v.length !== length) invalid(`${name} must be ${length} bytes`, { path: name });
  return v;
}

function commonFields(doc: Record<string, unknown>, purpose: string, keys: readonly string[]): void {
  const allowed = new Set(['$type', 'version', 'purpose', 'policy', 'platform', 'program', 'challenge', 'createdAt', ...keys]);
  const extra = Object.keys(doc).filter((k) => !allowed.has(k));
  if (extra.length > 0) invalid(`unknown field(s) ${extra.join(', ')}`);
  if (doc.$type !== HANDOFF_TYPE || doc.version !== 1) invalid(`not a ${HANDOFF_TYPE} v1 document`);
  if (doc.purpose !== purpose) invalid(`purpose must be ${purpose}, got ${String(doc.purpose)}`, { path: 'purpose' });
  if (!(doc.policy instanceof CID)) invalid('policy must be a CID link', { path: 'policy' });
  if (!PLATFORMS.includes(doc.platform as EvidencePlatform)) invalid('platform must be nitro, sev-snp or dev', { path: 'platform' });
  const p = doc.program as Record<string, unknown> | undefined;
  if (!p || typeof p !== 'object' || typeof p.name !== 'string' || typeof p.version !== 'string' || Object.keys(p).length !== 2) {
    invalid('program must be { name, version }', { path: 'program' });
  }
  bytesField(doc, 'challenge', HANDOFF_NONCE_BYTES);
  if (typeof doc.createdAt !== 'string' || doc.createdAt.length > 64) invalid('createdAt must be a date-time string', { path: 'createdAt' });
}

/** A document from data-model JSON, with the CID it must hash to (the one the evidence names). */
function decode(json: unknown): EncodedHandoff<Record<string, unknown>> {
  let value: unknown;
  try {
    value = jsonToIpld(json);
  } catch (cause) {
    invalid(`the document is not valid data-model JSON: ${(cause as Error).message}`, { cause });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array || value instanceof CID) invalid('the document must be an object');
  return encodeHandoff(value as Record<string, unknown>);
}

export function parseHandoffOffer(json: unknown): EncodedHandoff<HandoffOffer> {
  const d = decode(json);
  commonFields(d.value, 'handoff-offer', ['key', 'guardKey', 'requesterNonce']);
  bytesField(d.value, 'requesterNonce', HANDOFF_NONCE_BYTES);
  k256DidField(d.value, 'key');
  if ('guardKey' in d.value) {
    k256DidField(d.value, 'guardKey');
    if (d.value.guardKey === d.value.key) invalid('guardKey must differ from key', { path: 'guardKey' });
  }
  return d as unknown as EncodedHandoff<HandoffOffer>;
}

function k256DidField(doc: Record<string, unknown>, name: string): void {
  let curve: string;
  try {
    curve = parseDidKey(String(doc[name])).curve;
  } catch (cause) {
    invalid(`${name} must be a did:key`, { cause, path: name });
  }
  if (curve !== 'k256') invalid(`${name} must be a k256 did:key`, { path: name });
}

export function parseHandoffRequest(json: unknown): EncodedHandoff<HandoffRequest> {
  const d = decode(json);
  commonFields(d.value, 'handoff-request', ['offer', 'hpkeKey']);
  if (!(d.value.offer instanceof CID)) invalid('offer must be a CID link', { path: 'offer' });
  bytesField(d.value, 'hpkeKey', HANDOFF_HPKE_KEY_BYTES);
  return d as unknown as EncodedHandoff<HandoffRequest>;
}

/** A high-water mark as the hand-off carries it: the DID and the CID of the head the sender acted on. */
export interface HandoffMark {
  did: string;
  cid: string;
}

/** What one hand-off seals and authenticates, besides the two rounds' documents. */
export interface HandoffTranscriptInput {
  offer: CID;
  request: CID;
  challenge: Uint8Array;
  requesterNonce: Uint8Array;
  policy: CID;
  key: string;
  /** The DID guard's key, when the policy enables the guard (sealed with the enclave key). */
  guardKey?: string;
  marks: readonly HandoffMark[];
  /** The DID guard's state (DAG-CBOR, src/enclave/did-guard.ts), when the policy enables the guard. */
  guardState?: Uint8Array;
}

/**
 * HPKE `info`: the DAG-CBOR transcript of both rounds (both documents' CIDs, Sn, Rn, the policy, the key and the
 * guard key), so a sealed key opens only for this exchange. `aad`: the request CID, the sender's high-water marks
 * and the guard's state, so what the joiner receives beside the keys is authenticated by the same seal (a changed
 * mark or guard entry and the keys do not open).
 */
export function handoffTranscript(t: HandoffTranscriptInput): { info: Uint8Array; aad: Uint8Array } {
  const info = encodeCbor({
    $type: HANDOFF_TRANSCRIPT_TYPE,
    offer: t.offer,
    request: t.request,
    challenge: t.challenge,
    requesterNonce: t.requesterNonce,
    policy: t.policy,
    key: t.key,
    ...(t.guardKey !== undefined ? { guardKey: t.guardKey } : {}),
  });
  const marks = [...t.marks].sort((a, b) => (a.did < b.did ? -1 : a.did > b.did ? 1 : 0)).map((m) => ({ did: m.did, cid: m.cid }));
  return { info, aad: encodeCbor({ request: t.request, marks, ...(t.guardState !== undefined ? { guardState: t.guardState } : {}) }) };
}

/** What an instance trusts in a peer: its own platform and roots, and the programs it approves. */
export interface HandoffTrust {
  /** The checking instance's platform: the peer must attest on the same one. */
  platform: EvidencePlatform;
  /** Nitro/dev: the root the peer's chain must reach (AWS Nitro root G1; the dev root). Ignored for SEV-SNP (pinned AMD ARKs). */
  roots: Uint8Array[];
  /** The approved measurements (today: the instance's own; see docs/key-handoff.md "Upgrades"). */
  approved: Measurements;
  at: Date;
  /** Oldest acceptable evidence (Nitro/dev timestamp), in ms before `at`. */
  maxAgeMs: number;
}

export interface HandoffEvidence {
  evidence: Uint8Array;
  document: { bytes: Uint8Array; cid: CID };
  /** The platform the document claims. */
  claimedPlatform: EvidencePlatform;
  /** What `public_key` must be (Nitro/dev); SEV-SNP binds it through the document only. */
  publicKey: Uint8Array;
  /** The checker's own fresh nonce the evidence must echo. */
  nonce: Uint8Array;
}

/** The peer's measurement, as the approved set names it. */
export interface PeerMeasurement {
  platform: EvidencePlatform;
  /** Nitro/dev: PCR index → hex; SEV-SNP: the launch measurement (hex). */
  pcrs?: Record<number, string>;
  measurement?: string;
}

/** The attestation layer's refusals, as hand-off codes: debug is its own, the rest is "evidence invalid". */
function fromAttestation(code: ErrorCode, message: string): never {
  if (code === 'DebugEnclave') throw new EncumberError('HandoffDebugEnclave', message);
  throw new EncumberError('HandoffEvidenceInvalid', `${code}: ${message}`);
}

/**
 * A peer's hand-off evidence, checked in a fixed order, cheapest first:
 * platform claimed = ours; the evidence format is that platform's; chain to
 * our root at `at`, not debug, nonce, public key and document; the root
 * that proved it is our platform's; the measurement is approved.
 */
export async function verifyHandoffEvidence(e: HandoffEvidence, trust: HandoffTrust): Promise<PeerMeasurement> {
  // 1. Same platform, as claimed: a dev document never reaches hardware's checks, nor the reverse.
  if (e.claimedPlatform !== trust.platform) {
    throw new EncumberError('HandoffPlatformMismatch', `the peer claims platform ${e.claimedPlatform}, this instance runs on ${trust.platform}`, {
      expected: trust.platform,
      actual: e.claimedPlatform,
    });
  }
  // 2. The evidence format is that platform's.
  const kind = detectEvidence(e.evidence);
  if (kind === 'unknown') invalid('the evidence is neither a COSE_Sign1 document (Nitro/dev) nor an SEV-SNP report');
  if ((kind === 'sev-snp') !== (trust.platform === 'sev-snp')) {
    throw new EncumberError('HandoffPlatformMismatch', `the evidence is ${kind === 'sev-snp' ? 'an SEV-SNP report' : 'a Nitro-shaped document'}, this instance runs on ${trust.platform}`);
  }

  if (kind === 'sev-snp') {
    let split: ReturnType<typeof splitSnpEvidence>;
    try {
      split = splitSnpEvidence(e.evidence);
    } catch (cause) {
      invalid(`certificate table: ${(cause as Error).message}`, { cause });
    }
    const v = await verifySnpReport(split.report, { certs: split.certs, at: trust.at, expectedReportData: { bindingBytes: e.document.bytes, nonce: e.nonce } });
    if (!v.ok) fromAttestation(v.error.code, v.error.message);
    const measurement = toHex(v.measurement);
    const m = checkSnpMeasurement(measurement, { accept: trust.approved });
    if (!m.ok) throw new EncumberError('HandoffMeasurementNotApproved', m.detail, { actual: measurement });
    return { platform: 'sev-snp', measurement };
  }

  // 3. Nitro/dev: chain to our root, not debug, nonce, public key, the document's CID, fresh.
  if (trust.roots.length === 0) invalid(`this instance trusts no root for ${trust.platform} hand-offs`);
  const v = verifyNitroDocument(e.evidence, {
    trustRoots: trust.roots,
    at: trust.at,
    maxAgeMs: trust.maxAgeMs,
    expectedNonce: e.nonce,
    expectedPublicKey: e.publicKey,
    expectedUserData: e.document.cid.bytes,
  });
  if (!v.ok) fromAttestation(v.error.code, v.error.message);
  // 4. The root that proved it is our platform's (AWS for nitro; anything else is a dev root).
  const proven: EvidencePlatform = v.root.sha256.toLowerCase() === AWS_NITRO_ROOT_G1_SHA256.toLowerCase() ? 'nitro' : 'dev';
  if (proven !== trust.platform) {
    throw new EncumberError('HandoffPlatformMismatch', `the evidence chains to a ${proven === 'nitro' ? 'AWS Nitro' : 'dev'} root, this instance runs on ${trust.platform}`);
  }
  // 5. The program is approved.
  const pcrs: Record<number, string> = {};
  for (const [i, value] of Object.entries(v.pcrs)) pcrs[Number(i)] = toHex(value);
  const m = checkPcrs(proven, pcrs, { accept: trust.approved });
  if (!m.ok) throw new EncumberError('HandoffMeasurementNotApproved', m.detail, { actual: pcrs[0] });
  return { platform: proven, pcrs: { 0: pcrs[0]!, 1: pcrs[1]!, 2: pcrs[2]! } };
}

/**
 * An instance's own measurement, from evidence it just produced about itself
 * (chain to its own root; nothing else is expected of it). The approved set
 * starts as this value.
 */
export async function ownMeasurement(evidence: Uint8Array, trust: Pick<HandoffTrust, 'platform' | 'roots' | 'at'>): Promise<PeerMeasurement> {
  if (trust.platform === 'sev-snp') {
    const split = splitSnpEvidence(evidence);
    const v = await verifySnpReport(split.report, { certs: split.certs, at: trust.at });
    if (!v.ok) throw new EncumberError('InternalError', `this instance's own evidence does not verify: ${v.error.code}: ${v.error.message}`);
    return { platform: 'sev-snp', measurement: toHex(v.measurement) };
  }
  if (trust.roots.length === 0) throw new EncumberError('InternalError', `this instance has no ${trust.platform} root to read its own measurement with`);
  const v = verifyNitroDocument(evidence, { trustRoots: trust.roots, at: trust.at, allowDebug: true });
  if (!v.ok) throw new EncumberError('InternalError', `this instance's own evidence does not verify: ${v.error.code}: ${v.error.message}`);
  const hex = (i: number) => toHex(v.pcrs[i] ?? new Uint8Array(48));
  return { platform: trust.platform, pcrs: { 0: hex(0), 1: hex(1), 2: hex(2) } };
}

/** The approved set holding exactly one measurement (an instance's own). */
export function approvedSetOf(m: PeerMeasurement): Measurements {
  const empty: Measurements = { nitro: [], dev: [], 'sev-snp': [] };
  if (m.platform === 'sev-snp') return { ...empty, 'sev-snp': [{ name: 'this instance', measurement: m.measurement! }] };
  return { ...empty, [m.platform]: [{ name: 'this instance', pcrs: m.pcrs! }] };
}
