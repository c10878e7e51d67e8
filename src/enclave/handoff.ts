/**
 * Attested enclave-to-enclave key hand-off (docs/key-handoff.md): the I/O
 * side. A serving instance (the sender, S) answers two XRPC calls; a joining
 * instance (R, `serve --join URL`) makes them and ends up holding the same
 * enclave key. The documents and the evidence check are pure
 * (src/verifier/handoff.ts); this module keeps the challenge table, asks the
 * attestor, talks HTTP and hands the key holder its two capabilities
 * (`sealTo`, `fromSealed`): the key itself is never in reach here.
 *
 *   R → S  handoffOffer   { nonce: Rn }
 *   S → R                 { offer (purpose handoff-offer: key, policy, Rn, Sn), evidence about it (nonce Rn) }
 *   R → S  handoffRequest { request (purpose handoff-request: policy, Sn, offer CID, HPKE key), evidence about it (nonce Sn) }
 *   S → R                 { enc, ciphertext }: the key, HPKE-sealed to R's attested key, info = the transcript
 */
import { EncumberError, type ErrorCode } from '../errors.ts';
import { parseDidKey } from '../crypto/did-key.ts';
import { bytesEqual, toHex } from '../crypto/encoding.ts';
import { parseCid, type CID } from '../data/cid.ts';
import { ipldToJson, jsonToIpld } from '../data/json.ts';
import type { JsonValue } from '../data/types.ts';
import { toCanonicalUtcMillis } from '../data/syntax/datetime.ts';
import { requestJson } from '../http/json.ts';
import type { LoadedPolicy } from '../policy/policy.ts';
import type { Measurements } from '../verifier/measurements.ts';
import {
  encodeHandoff,
  handoffTranscript,
  HANDOFF_NONCE_BYTES,
  HANDOFF_TYPE,
  parseHandoffOffer,
  parseHandoffRequest,
  verifyHandoffEvidence,
  type HandoffOffer,
  type HandoffRequest,
  type HandoffMark,
} from '../verifier/handoff.ts';
import type { AttestationRequest, Attestor } from './attestor.ts';
import { PROGRAM, type Platform } from './documents.ts';
import { generateRecipientKey, HANDOFF_HPKE_SUITE_NAME } from './hpke.ts';
import { KeyHolder, type SealedKey } from './key-holder.ts';
import { InFlightBound } from './limits.ts';
import { parseGuardState, type GuardState } from './did-guard.ts';
import { didGuardOf } from '../policy/schema.ts';

export const HANDOFF_OFFER_NSID = 'dev.encumber.handoffOffer';
export const HANDOFF_REQUEST_NSID = 'dev.encumber.handoffRequest';
export const GET_UPGRADES_NSID = 'dev.encumber.getUpgrades';

/** How long a challenge may be answered, how many may be outstanding, how many requests are checked at once. */
export interface HandoffLimits {
  challengeTtlMs: number;
  maxChallenges: number;
  verificationsInFlight: number;
  /** Oldest acceptable peer evidence (Nitro/dev document timestamp). */
  evidenceMaxAgeMs: number;
}

export const DEFAULT_HANDOFF_LIMITS: HandoffLimits = {
  challengeTtlMs: 60_000,
  maxChallenges: 32,
  verificationsInFlight: 2,
  evidenceMaxAgeMs: 5 * 60_000,
};

/**
 * What an instance trusts in a peer: the roots its own platform's evidence
 * chains to, and the approved measurements. Today the approved set is the
 * instance's own measurement; quorum-approved upgrades (a `dev.encumber.upgrade`
 * statement co-signed M of N) would extend `approved()` here, and only here.
 */
export interface HandoffTrustSource {
  roots: Uint8Array[];
  approved(): Promise<Measurements>;
}

interface Challenge {
  requesterNonce: Uint8Array;
  offer: CID;
  expiresAt: number;
}

/**
 * Outstanding challenges: each issued once, answerable once, until it
 * expires; at most `max` at a time. Expired ones are swept when a new one is
 * issued; when the table is still full, the oldest outstanding challenge
 * makes room (it then answers HandoffReplay). So a flood of offers cannot
 * lock honest joiners out for a challenge's lifetime: to cancel one joiner's
 * challenge it must issue `max` offers, each an attestation through the
 * bounded attestation queue, between that joiner's two round trips.
 */
export class ChallengeTable {
  readonly #entries = new Map<string, Challenge>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #clock: () => Date;

  constructor(opts: { max: number; ttlMs: number }, clock: () => Date) {
    this.#max = opts.max;
    this.#ttlMs = opts.ttlMs;
    this.#clock = clock;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Room for one more: expired challenges swept, then the oldest dropped while the table is full. */
  reserve(): void {
    const now = this.#clock().getTime();
    for (const [k, c] of this.#entries) if (c.expiresAt <= now) this.#entries.delete(k);
    // A Map iterates in insertion order: the first key is the oldest challenge.
    for (const k of this.#entries.keys()) {
      if (this.#entries.size < this.#max) break;
      this.#entries.delete(k);
    }
  }

  add(challenge: Uint8Array, requesterNonce: Uint8Array, offer: CID): void {
    this.reserve();
    this.#entries.set(toHex(challenge), { requesterNonce, offer, expiresAt: this.#clock().getTime() + this.#ttlMs });
  }

  drop(challenge: Uint8Array): void {
    this.#entries.delete(toHex(challenge));
  }

  /** Use a challenge: it is gone afterwards, whatever the rest of the request does. */
  take(challenge: Uint8Array): Challenge {
    const key = toHex(challenge);
    const c = this.#entries.get(key);
    if (!c) throw new EncumberError('HandoffReplay', 'the challenge is unknown or was already used (each is good for one request)');
    this.#entries.delete(key);
    if (c.expiresAt <= this.#clock().getTime()) throw new EncumberError('HandoffChallengeExpired', `the challenge expired (it is good for ${this.#ttlMs} ms)`);
    return c;
  }
}

export interface HandoffOfferOutput {
  platform: Platform;
  offer: JsonValue;
  offerCid: string;
  evidence: JsonValue;
}

export interface HandoffRequestInput {
  request: unknown;
  evidence: { $bytes: string };
}

export interface HandoffRequestOutput {
  suite: string;
  offerCid: string;
  requestCid: string;
  enc: JsonValue;
  ciphertext: JsonValue;
  /** The sender's high-water marks, authenticated with the key (they are in the HPKE aad). */
  marks: HandoffMark[];
  /** The DID guard's state (DAG-CBOR, ./did-guard.ts), authenticated the same way; only when the policy enables the guard. */
  guardState?: JsonValue;
}

export interface HandoffSenderDeps {
  policy: LoadedPolicy;
  platform: Platform;
  clock: () => Date;
  trust: HandoffTrustSource;
  /** The service's attestor, behind its bounded queue. */
  attest(req: AttestationRequest): Promise<Uint8Array>;
  keyDid(): string;
  /** The DID guard's key, exactly when the policy enables the guard (it travels in the same seal). */
  guardKeyDid?(): string | undefined;
  /** The DID guard's state as DAG-CBOR (baseline and public log), which travels with the guard key. */
  guardState?(): Uint8Array;
  /** Seal the enclave key (then the guard key, if any) to the joiner's attested HPKE key (KeyHolder.seal). */
  seal(recipientPublicKey: Uint8Array, info: Uint8Array, aad: Uint8Array): Promise<SealedKey>;
  /** The instance's high-water marks, which travel with the key (a joiner must not start without them). */
  marks(): HandoffMark[];
  limits?: Partial<HandoffLimits>;
  random?: (n: number) => Uint8Array;
}

const defaultRandom = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

/** The sender's side: offers and sealed keys, for a serving instance. */
export class HandoffSender {
  readonly #deps: HandoffSenderDeps;
  readonly #limits: HandoffLimits;
  readonly #challenges: ChallengeTable;
  readonly #verifying: InFlightBound;

  constructor(deps: HandoffSenderDeps) {
    this.#deps = deps;
    this.#limits = { ...DEFAULT_HANDOFF_LIMITS, ...deps.limits };
    this.#challenges = new ChallengeTable({ max: this.#limits.maxChallenges, ttlMs: this.#limits.challengeTtlMs }, deps.clock);
    this.#verifying = new InFlightBound(this.#limits.verificationsInFlight, 'hand-off requests being checked');
  }

  get outstandingChallenges(): number {
    return this.#challenges.size;
  }

  /** Round 1: a fresh challenge and evidence about the offer (key, policy, Rn, Sn). */
  async offer(requesterNonce: Uint8Array): Promise<HandoffOfferOutput> {
    if (requesterNonce.length !== HANDOFF_NONCE_BYTES) {
      throw new EncumberError('InvalidRequest', `nonce must be ${HANDOFF_NONCE_BYTES} bytes`, { actual: requesterNonce.length });
    }
    this.#challenges.reserve();
    const { policy, platform, clock } = this.#deps;
    const now = clock();
    const challenge = (this.#deps.random ?? defaultRandom)(HANDOFF_NONCE_BYTES);
    const key = this.#deps.keyDid();
    const guardKey = this.#deps.guardKeyDid?.();
    const offer = encodeHandoff<HandoffOffer>({
      $type: HANDOFF_TYPE,
      version: 1,
      purpose: 'handoff-offer',
      key,
      ...(guardKey !== undefined ? { guardKey } : {}),
      policy: policy.cid,
      platform,
      program: { ...PROGRAM },
      requesterNonce: requesterNonce.slice(),
      challenge,
      createdAt: toCanonicalUtcMillis(now),
    });
    this.#challenges.add(challenge, offer.value.requesterNonce, offer.cid);
    let evidence: Uint8Array;
    try {
      evidence = await this.#deps.attest({
        publicKey: parseDidKey(key).compressed,
        bindingBytes: offer.bytes,
        bindingCid: offer.cid.bytes,
        nonce: requesterNonce,
        now,
      });
    } catch (e) {
      this.#challenges.drop(challenge);
      throw e;
    }
    return { platform, offer: ipldToJson(offer.value), offerCid: offer.cid.toString(), evidence: ipldToJson(evidence) };
  }

  /**
   * Round 2: the joiner's request, checked cheapest first (document, policy,
   * platform, bound, challenge, then the evidence), and the key sealed to the
   * HPKE key its evidence binds.
   */
  async request(input: HandoffRequestInput): Promise<HandoffRequestOutput> {
    const { policy, platform } = this.#deps;
    // 1. The evidence's encoding, then the document: well-formed, this policy, this platform.
    const evidence = decodeBytes(input.evidence, 'evidence');
    const request = parseHandoffRequest(input.request);
    const r = request.value;
    if (!r.policy.equals(policy.cid)) {
      throw new EncumberError('HandoffPolicyMismatch', `the request names policy ${r.policy}, this instance enforces ${policy.cid}`);
    }
    if (r.platform !== platform) {
      throw new EncumberError('HandoffPlatformMismatch', `the requester claims platform ${r.platform}, this instance runs on ${platform}`, {
        expected: platform,
        actual: r.platform,
      });
    }
    // 2. A bound on the checks running at once (before the challenge is used).
    this.#verifying.acquire(1);
    try {
      // 3. The challenge: issued here, unexpired, unused; used now.
      const c = this.#challenges.take(r.challenge);
      if (!r.offer.equals(c.offer)) throw new EncumberError('HandoffEvidenceInvalid', `the request answers offer ${r.offer}, the challenge was issued with ${c.offer}`);
      // 4. The evidence: our platform's root, not debug, approved program, our challenge, the HPKE key and the document.
      await verifyHandoffEvidence(
        { evidence, document: request, claimedPlatform: r.platform, publicKey: r.hpkeKey, nonce: r.challenge },
        { platform, roots: this.#deps.trust.roots, approved: await this.#deps.trust.approved(), at: this.#deps.clock(), maxAgeMs: this.#limits.evidenceMaxAgeMs },
      );
      // 5. The key, sealed to the attested HPKE key, bound to this transcript.
      const key = this.#deps.keyDid();
      const guardKey = this.#deps.guardKeyDid?.();
      const marks = this.#deps.marks();
      const guardState = guardKey !== undefined ? this.#deps.guardState?.() : undefined;
      const { info, aad } = handoffTranscript({
        offer: c.offer,
        request: request.cid,
        challenge: r.challenge,
        requesterNonce: c.requesterNonce,
        policy: policy.cid,
        key,
        ...(guardKey !== undefined ? { guardKey } : {}),
        marks,
        ...(guardState ? { guardState } : {}),
      });
      const sealed = await this.#deps.seal(r.hpkeKey, info, aad);
      return {
        suite: HANDOFF_HPKE_SUITE_NAME,
        offerCid: c.offer.toString(),
        requestCid: request.cid.toString(),
        enc: ipldToJson(sealed.enc),
        ciphertext: ipldToJson(sealed.ciphertext),
        marks,
        ...(guardState ? { guardState: ipldToJson(guardState) } : {}),
      };
    } finally {
      this.#verifying.release(1);
    }
  }
}

/** `{"$bytes"}` → bytes; a malformed value is `code` (the sender: InvalidRequest; the joiner: HandoffEvidenceInvalid). */
function decodeBytes(v: unknown, name: string, code: ErrorCode = 'InvalidRequest'): Uint8Array {
  let b: unknown;
  try {
    b = jsonToIpld(v);
  } catch (cause) {
    throw new EncumberError(code, `${name}: not valid {"$bytes"} base64`, { cause });
  }
  if (!(b instanceof Uint8Array)) throw new EncumberError(code, `${name} must be {"$bytes": base64}`);
  return b;
}

export interface JoinDeps {
  /** The running instance (S) to ask, e.g. http://10.0.0.5:8080. */
  url: string;
  policy: LoadedPolicy;
  platform: Platform;
  clock: () => Date;
  /** This instance's own attestor (R attests before it serves). */
  attestor: Attestor;
  trust: HandoffTrustSource;
  limits?: Partial<HandoffLimits>;
  fetch?: typeof fetch;
  timeoutMs?: number;
  random?: (n: number) => Uint8Array;
  /** The sender's high-water marks, once the key opened (so they are the sender's): load them before serving. */
  onMarks?: (marks: HandoffMark[]) => void;
}

/**
 * The marks a sender answered: at most one per policy member, each a member DID and a CID. Anything else is
 * refused before the seal is opened (the seal then proves they are the sender's).
 */
function parseMarks(v: unknown, policy: LoadedPolicy): HandoffMark[] {
  const members = new Set(policy.policy.signers.map((s) => s.did));
  const bad = (why: string) => new EncumberError('HandoffEvidenceInvalid', `the sender's high-water marks ${why}`);
  if (!Array.isArray(v)) throw bad('are missing');
  if (v.length > members.size) throw bad(`number ${v.length}, the policy has ${members.size} members`);
  const seen = new Set<string>();
  return v.map((m) => {
    const did = (m as { did?: unknown })?.did;
    const cid = (m as { cid?: unknown })?.cid;
    if (typeof did !== 'string' || !members.has(did) || seen.has(did)) throw bad(`name ${JSON.stringify(did)}, not a member once`);
    if (typeof cid !== 'string') throw bad(`give no CID for ${did}`);
    try {
      parseCid(cid);
    } catch {
      throw bad(`give ${JSON.stringify(cid.slice(0, 80))} for ${did}, not a CID`);
    }
    seen.add(did);
    return { did, cid };
  });
}

/** The codes a sender may answer that a joiner reports as they are (else RemoteUnavailable). */
const PASSED_ON: ReadonlySet<string> = new Set<ErrorCode>([
  'HandoffEvidenceInvalid',
  'HandoffMeasurementNotApproved',
  'HandoffDebugEnclave',
  'HandoffPlatformMismatch',
  'HandoffPolicyMismatch',
  'HandoffChallengeExpired',
  'HandoffReplay',
  'RateLimited',
  'ServiceNotReady',
]);

async function post(deps: JoinDeps, nsid: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const url = new URL(`/xrpc/${nsid}`, deps.url);
  const answer = await requestJson(url, {
    method: 'POST',
    body,
    what: `the sending instance (${url.origin})`,
    // The sealed keys, the marks and the DID guard's state (at most MAX_GUARD_STATE_BYTES, base64).
    maxBytes: 1024 * 1024,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
  });
  const b = answer.body as Record<string, unknown> | undefined;
  if (answer.status !== 200) {
    const code = typeof b?.error === 'string' && PASSED_ON.has(b.error) ? (b.error as ErrorCode) : 'RemoteUnavailable';
    throw new EncumberError(code, `the sending instance refused ${nsid}: HTTP ${answer.status} ${String(b?.error ?? '')}: ${String(b?.message ?? '')}`.slice(0, 500));
  }
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new EncumberError('RemoteUnavailable', `${nsid}: the answer is not a JSON object`);
  return b;
}

/**
 * A joiner, before round 1: the sender's published upgrades (getUpgrades).
 * Nothing here is trusted: the caller re-checks each statement's quorum
 * itself, and each receipt once it holds the key.
 */
export async function fetchUpgrades(deps: Pick<JoinDeps, 'url' | 'fetch' | 'timeoutMs'>): Promise<unknown[]> {
  const url = new URL(`/xrpc/${GET_UPGRADES_NSID}`, deps.url);
  const answer = await requestJson(url, {
    what: `the sending instance (${url.origin})`,
    // 64 approvals of at most 64 KiB each (MAX_PUBLISHED_UPGRADE_BYTES), and the envelope.
    maxBytes: 5 * 1024 * 1024,
    // A connection of its own, as every POST has (src/http/json.ts): the joiner may spend longer checking the
    // offer than the sender keeps an idle connection open.
    headers: { connection: 'close' },
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
  });
  const b = answer.body as Record<string, unknown> | undefined;
  if (answer.status !== 200) {
    const code: ErrorCode = b?.error === 'ServiceNotReady' ? 'ServiceNotReady' : 'RemoteUnavailable';
    throw new EncumberError(code, `the sending instance refused ${GET_UPGRADES_NSID}: HTTP ${answer.status} ${String(b?.error ?? '')}`.slice(0, 500));
  }
  if (!b || !Array.isArray(b.upgrades)) throw new EncumberError('RemoteUnavailable', `${GET_UPGRADES_NSID}: the answer has no upgrades list`);
  return b.upgrades;
}

/** What a hand-off delivers: the enclave key, and with a guarded policy the DID guard's key and state. */
export interface JoinedKeys {
  key: KeyHolder;
  guard?: { key: KeyHolder; state: GuardState };
}

/**
 * The joiner's side: ask `url` for the key, check everything it attests, and
 * return key holders with the same keys. Throws a typed error on any doubt.
 */
export async function joinFrom(deps: JoinDeps): Promise<JoinedKeys> {
  const limits = { ...DEFAULT_HANDOFF_LIMITS, ...deps.limits };
  const random = deps.random ?? defaultRandom;
  const { policy, platform } = deps;

  // Round 1: our fresh nonce Rn; S's offer and evidence about it.
  const requesterNonce = random(HANDOFF_NONCE_BYTES);
  const a1 = await post(deps, HANDOFF_OFFER_NSID, { nonce: ipldToJson(requesterNonce) });
  const offer = parseHandoffOffer(a1.offer);
  const o = offer.value;
  if (typeof a1.offerCid !== 'string' || a1.offerCid !== offer.cid.toString()) {
    throw new EncumberError('HandoffEvidenceInvalid', `the offer hashes to ${offer.cid}, the answer says ${String(a1.offerCid)}`);
  }
  if (!o.policy.equals(policy.cid)) throw new EncumberError('HandoffPolicyMismatch', `the sender enforces policy ${o.policy}, this instance ${policy.cid}`);
  if (!bytesEqual(o.requesterNonce, requesterNonce)) throw new EncumberError('HandoffEvidenceInvalid', 'the offer does not echo this instance\'s nonce');
  // The same policy: a guard key exactly when it enables the DID guard.
  const guarded = didGuardOf(policy.policy) !== undefined;
  if (guarded !== (o.guardKey !== undefined)) {
    throw new EncumberError('HandoffEvidenceInvalid', guarded ? 'the policy enables the DID guard, the offer names no guard key' : 'the offer names a guard key the policy does not have');
  }
  const offerEvidence = decodeBytes(a1.evidence, 'evidence', 'HandoffEvidenceInvalid');
  const approved = await deps.trust.approved();
  await verifyHandoffEvidence(
    { evidence: offerEvidence, document: offer, claimedPlatform: o.platform, publicKey: parseDidKey(o.key).compressed, nonce: requesterNonce },
    { platform, roots: deps.trust.roots, approved, at: deps.clock(), maxAgeMs: limits.evidenceMaxAgeMs },
  );

  // Round 2: a fresh ephemeral HPKE key, attested in our request, answering Sn.
  const recipient = await generateRecipientKey();
  const now = deps.clock();
  const request = encodeHandoff<HandoffRequest>({
    $type: HANDOFF_TYPE,
    version: 1,
    purpose: 'handoff-request',
    policy: policy.cid,
    platform,
    program: { ...PROGRAM },
    challenge: o.challenge,
    offer: offer.cid,
    hpkeKey: recipient.publicKey,
    createdAt: toCanonicalUtcMillis(now),
  });
  const requestEvidence = await deps.attestor.attest({
    publicKey: recipient.publicKey,
    bindingBytes: request.bytes,
    bindingCid: request.cid.bytes,
    nonce: o.challenge,
    now,
  });
  const a2 = await post(deps, HANDOFF_REQUEST_NSID, { request: ipldToJson(request.value), evidence: ipldToJson(requestEvidence) });

  // The keys, opened with our ephemeral key and this transcript; they must be the keys S attested.
  const marks = parseMarks(a2.marks, policy);
  const guardBytes = o.guardKey !== undefined ? decodeBytes(a2.guardState, 'guardState', 'HandoffEvidenceInvalid') : undefined;
  const guardState = guardBytes ? parseGuardState(guardBytes) : undefined;
  const { info, aad } = handoffTranscript({
    offer: offer.cid,
    request: request.cid,
    challenge: o.challenge,
    requesterNonce,
    policy: policy.cid,
    key: o.key,
    ...(o.guardKey !== undefined ? { guardKey: o.guardKey } : {}),
    marks,
    ...(guardBytes ? { guardState: guardBytes } : {}),
  });
  const [key, guardKey] = await KeyHolder.openSealed(
    recipient.privateKey,
    decodeBytes(a2.enc, 'enc', 'HandoffSealInvalid'),
    decodeBytes(a2.ciphertext, 'ciphertext', 'HandoffSealInvalid'),
    info,
    aad,
    o.guardKey !== undefined ? [o.key, o.guardKey] : [o.key],
  );
  try {
    deps.onMarks?.(marks);
  } catch (e) {
    key!.wipe();
    guardKey?.wipe();
    throw e;
  }
  return { key: key!, ...(guardKey && guardState ? { guard: { key: guardKey, state: guardState } } : {}) };
}
