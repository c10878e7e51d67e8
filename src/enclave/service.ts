/**
 * The signing service core: no HTTP here, only the decision and the
 * signatures. Given a parsed request it either returns the signed record and
 * receipt or throws a typed error; it signs only after every rule passed.
 *
 * Lifecycle (explicit, one way): booting → serving → failed, and failed is
 * terminal. Only `serving` answers requests; in any other state every request
 * is refused with `ServiceNotReady` (HTTP 503). The service fails itself when
 * its attestor reports a device or infrastructure failure (NSM ioctl,
 * configfs-tsm, a missing certificate table): it can no longer prove what it
 * runs, so it stops signing, and `/xrpc/_health` says so. A caller's bad input
 * never fails it. Only the composition root (./boot.ts) constructs it.
 */
import { EncumberError, isInfrastructureCode, type ErrorCode } from '../errors.ts';
import { parseDidKey } from '../crypto/did-key.ts';
import { jsonToIpld, ipldToJson } from '../data/json.ts';
import { parseRecordJson } from '../data/record.ts';
import { toCanonicalUtcMillis } from '../data/syntax/datetime.ts';
import type { JsonValue } from '../data/types.ts';
import { CID } from '../data/cid.ts';
import type { LoadedPolicy } from '../policy/policy.ts';
import { didGuardOf } from '../policy/schema.ts';
import { checkPlcOpAgainstState, parseUnsignedPlcOp, plcOpPayload, signedPlcOpCid } from '../policy/plc-op.ts';
import { verifyAuditLogResumable } from '../plc/verify.ts';
import { signPlcOp, type DidGuard } from './did-guard.ts';
import { GUARD_LOG_TYPE } from '../verifier/guard-log.ts';
import { buildPayload, type IpldRecord } from '../policy/payload.ts';
import { checkCosignaturesBeforePlc, checkRequestScope, decide, type Cosignature, type CountedSigner } from '../policy/decide.ts';
import { checkHighWater, nextMark, type HighWaterStore } from '../policy/high-water.ts';
import type { PlcState } from '../plc/types.ts';
import { KeyHolder } from './key-holder.ts';
import type { PlcResolver } from './plc-resolver.ts';
import type { AttestationRequest, Attestor } from './attestor.ts';
import { BoundedQueue } from './limits.ts';
import { checkStatementPolicy, parseUpgradeStatement, verifyUpgrade, type PublishedUpgrade, type UpgradeStatement } from '../verifier/upgrade.ts';
import { MAX_UPGRADES, UpgradeStore } from './upgrades.ts';
import { HandoffSender, type HandoffLimits, type HandoffOfferOutput, type HandoffRequestInput, type HandoffRequestOutput, type HandoffTrustSource } from './handoff.ts';
import {
  PROGRAM,
  BINDING_TYPE,
  RECEIPT_TYPE,
  SIGNATURE_TYPE,
  encodeDocument,
  type Binding,
  type EncodedDocument,
  type Platform,
  type Receipt,
  type SignatureEntry,
  type UnsignedReceipt,
} from './documents.ts';

export type Lifecycle = 'booting' | 'serving' | 'failed';

/** Why the service failed: the failure's code and, where the error has one, its finer reason (NSM: `reason`). */
export interface ServiceFailure {
  code: ErrorCode;
  reason?: string;
  message: string;
}

export { PROGRAM };

export interface SignRecordInput {
  repository: string;
  collection: string;
  record: unknown;
  cosignatures: { issuer: string; sig: { $bytes: string } }[];
  plcLogs?: Record<string, unknown>;
}

/** A co-signed upgrade statement (dev.encumber.approveUpgrade): the draft `encumber upgrade submit` sends. */
export interface ApproveUpgradeInput {
  statement: unknown;
  cosignatures: { issuer: string; sig: { $bytes: string } }[];
  plcLogs?: Record<string, unknown>;
}

export interface SignRecordOutput {
  cid: string;
  record: JsonValue;
  signature: JsonValue;
  receipt: JsonValue;
}

export interface SignPlcOpInput {
  repository: string;
  operation: unknown;
  cosignatures: { issuer: string; sig: { $bytes: string } }[];
}

export interface SignPlcOpOutput {
  /** The payload CID everyone signed. */
  cid: string;
  /** The operation as signed by the guard key and submitted. */
  operation: JsonValue;
  operationCid: string;
  /** The co-signers counted, in policy order. */
  cosigners: string[];
  /** What the directory answered (status, and its body when it sent JSON). */
  directory: { status: number; body?: JsonValue };
}

/** The DID guard's wiring (docs/did-guard.md), made by the composition root. */
export interface DidGuardDeps {
  /** The watcher whose log getGuardLog answers. */
  watcher: DidGuard;
  /** Reads the organisation DID's audit log from the policy's directory. */
  fetchLog: (did: string) => Promise<unknown>;
  /** POST /:did to the policy's directory. */
  submit: (did: string, operation: unknown) => Promise<{ status: number; body: unknown }>;
}

export interface ServiceDeps {
  /** The enclave key; absent while a joining instance waits for it (`installKey`). */
  key?: KeyHolder;
  /**
   * The DID guard's key (docs/did-guard.md): a second key, drawn at boot,
   * exactly when the policy's `didGuard` is enabled; bound in the binding.
   * A joining instance has none yet: it arrives with the enclave key (`installKey`).
   */
  guardKey?: KeyHolder;
  /** With `guardKey`: the watcher and the directory it reads and writes. */
  didGuard?: DidGuardDeps;
  policy: LoadedPolicy;
  attestor: Attestor;
  resolver: PlcResolver;
  highWater: HighWaterStore;
  clock: () => Date;
  /**
   * The queue in front of the attestor (NSM, SEV firmware, dev): at most
   * `concurrency` attestations run, `maxQueued` wait, any more get
   * `RateLimited` (429). Defaults: DEFAULT_ATTESTATION_QUEUE.
   */
  attestationQueue?: { concurrency?: number; maxQueued?: number };
  /** The key hand-off's sender side (./handoff.ts): whom this instance trusts, and its bounds. */
  handoff: { trust: HandoffTrustSource; limits?: Partial<HandoffLimits> };
  /** The approved upgrades (./upgrades.ts), shared with the hand-off's trust source. */
  upgrades?: UpgradeStore;
}

export const DEFAULT_ATTESTATION_QUEUE = { concurrency: 1, maxQueued: 16 } as const;

export class SigningService {
  #state: Lifecycle = 'booting';
  #failure: ServiceFailure | undefined;
  readonly #deps: ServiceDeps;
  readonly #attestations: BoundedQueue;
  readonly #handoff: HandoffSender;
  readonly #upgrades: UpgradeStore;
  #key: KeyHolder | undefined;
  #guardKey: KeyHolder | undefined;
  #binding: EncodedDocument<Binding> | undefined;
  readonly #settled: Promise<Lifecycle>;
  #settle!: (state: Lifecycle) => void;

  constructor(deps: ServiceDeps) {
    this.#deps = deps;
    this.#upgrades = deps.upgrades ?? new UpgradeStore();
    this.#attestations = new BoundedQueue({ ...DEFAULT_ATTESTATION_QUEUE, ...deps.attestationQueue }, 'attestation requests');
    this.#settled = new Promise((ok) => {
      this.#settle = ok;
    });
    this.#handoff = new HandoffSender({
      policy: deps.policy,
      platform: deps.attestor.platform,
      clock: deps.clock,
      trust: deps.handoff.trust,
      ...(deps.handoff.limits ? { limits: deps.handoff.limits } : {}),
      attest: (req) => this.#attestations.run(() => this.#attest(req)),
      keyDid: () => this.#requireKey().did,
      guardKeyDid: () => this.#guardKey?.did,
      guardState: () => deps.didGuard?.watcher.exportState() ?? new Uint8Array(),
      // The enclave key, then the guard key (if any): one seal, opened whole or not at all.
      seal: (recipient, info, aad) => KeyHolder.seal(this.#guardKey ? [this.#requireKey(), this.#guardKey] : [this.#requireKey()], recipient, info, aad),
      marks: () => [...deps.highWater.entries()].map(([did, m]) => ({ did, cid: m.cid })),
    });
    if (deps.key) this.installKey(deps.key, deps.guardKey);
  }

  /**
   * The enclave key, once: at construction, or (a joining instance) when the
   * hand-off delivered it. The binding is made here, naming this instance's
   * platform and time; its attestation names this instance's measurement.
   */
  installKey(key: KeyHolder, guard?: KeyHolder): void {
    if (this.#key) throw new Error('the service already holds a key');
    if (this.#state !== 'booting') throw new Error(`cannot install a key when ${this.#state}`);
    if (Boolean(guard) !== Boolean(didGuardOf(this.#deps.policy.policy))) {
      throw new Error('a guard key goes with a policy whose didGuard is enabled, and only with one');
    }
    this.#key = key;
    this.#guardKey = guard;
    this.#binding = encodeDocument<Binding>({
      $type: BINDING_TYPE,
      version: 1,
      key: key.did,
      policy: this.#deps.policy.cid,
      program: { ...PROGRAM },
      platform: this.#deps.attestor.platform,
      createdAt: toCanonicalUtcMillis(this.#deps.clock()),
      ...(guard ? { guardKey: guard.did } : {}),
    });
  }

  #requireKey(): KeyHolder {
    if (!this.#key) throw new EncumberError('ServiceNotReady', 'the service holds no key yet');
    return this.#key;
  }

  /** The binding document (ServiceNotReady before the key is there). */
  get binding(): EncodedDocument<Binding> {
    if (!this.#binding) throw new EncumberError('ServiceNotReady', 'the service holds no key yet');
    return this.#binding;
  }

  get state(): Lifecycle {
    return this.#state;
  }

  /** Resolves once the service leaves booting (serving or failed): what `serve --join` waits for. */
  settled(): Promise<Lifecycle> {
    return this.#settled;
  }

  start(): void {
    if (this.#state !== 'booting') throw new Error(`cannot start from ${this.#state}`);
    if (!this.#key) throw new Error('cannot start without a key');
    this.#state = 'serving';
    this.#settle('serving');
  }

  /** Why the service is failed (undefined unless it is). */
  get failure(): ServiceFailure | undefined {
    return this.#failure;
  }

  /** The platform this service attests on. */
  get platform(): Platform {
    return this.#deps.attestor.platform;
  }

  /** The attestation provider (the start-up self-check asks it to describe its measurements). */
  get attestor(): Attestor {
    return this.#deps.attestor;
  }

  /** Directory requests in flight now (fetch mode). */
  get directoryFetchesInFlight(): number {
    return this.#deps.resolver.fetchesInFlight;
  }

  /** → failed, for good. The first failure is the one reported. */
  fail(failure: ServiceFailure = { code: 'InternalError', message: 'stopped by the operator' }): void {
    if (this.#state === 'failed') return;
    this.#state = 'failed';
    this.#failure = failure;
    this.#deps.didGuard?.watcher.stop();
    this.#settle('failed');
  }

  #assertServing(): void {
    if (this.#state === 'serving') return;
    const why = this.#failure ? `: ${this.#failure.code}${this.#failure.reason ? ` (${this.#failure.reason})` : ''}` : '';
    throw new EncumberError('ServiceNotReady', `the service is ${this.#state}${why}`);
  }

  /**
   * The attestor's call. A device or infrastructure failure fails the service
   * (and still answers this request with the attestor's own error, which the
   * server logs for the operator); a refusal of the request itself does not.
   */
  async #attest(req: AttestationRequest): Promise<Uint8Array> {
    // Requests still queued when the device failed do not reach it.
    this.#assertServing();
    try {
      return await this.#deps.attestor.attest(req);
    } catch (e) {
      if (isDeviceFailure(e)) this.fail(failureOf(e));
      throw e;
    }
  }

  identity() {
    this.#assertServing();
    return {
      key: this.#requireKey().did,
      ...(this.#guardKey ? { guardKey: this.#guardKey.did } : {}),
      binding: ipldToJson(this.binding.value),
      bindingCid: this.binding.cid.toString(),
      policy: this.#policyJson(),
      policyCid: this.#deps.policy.cid.toString(),
      platform: this.#deps.attestor.platform,
      program: { ...PROGRAM },
    };
  }

  #policyJson(): JsonValue {
    return this.#deps.policy.policy as unknown as JsonValue;
  }

  async attestation(nonce: Uint8Array) {
    this.#assertServing();
    const evidence = await this.#attestations.run(() =>
      this.#attest({
        publicKey: parseDidKey(this.#requireKey().did).compressed,
        bindingBytes: this.binding.bytes,
        bindingCid: this.binding.cid.bytes,
        nonce,
        now: this.#deps.clock(),
      }),
    );
    return {
      platform: this.#deps.attestor.platform,
      evidence: ipldToJson(evidence),
      binding: ipldToJson(this.binding.value),
      bindingCid: this.binding.cid.toString(),
    };
  }

  /** Key hand-off, round 1 (./handoff.ts): only a serving instance offers its key. */
  handoffOffer(requesterNonce: Uint8Array): Promise<HandoffOfferOutput> {
    this.#assertServing();
    return this.#handoff.offer(requesterNonce);
  }

  /** Key hand-off, round 2: the key sealed to an attested, approved joiner. */
  async handoffRequest(input: HandoffRequestInput): Promise<HandoffRequestOutput> {
    this.#assertServing();
    const out = await this.#handoff.request(input);
    // Failed while checking: nothing is handed out after it.
    this.#assertServing();
    return out;
  }

  /**
   * A quorum-approved PLC operation for the organisation's DID (docs/did-guard.md):
   * the same M-of-N rules and member PLC checks as signRecord, then the
   * operation against the DID's verified log, then the guard key signs it and
   * the policy's directory gets it.
   */
  async signPlcOp(input: SignPlcOpInput): Promise<SignPlcOpOutput> {
    this.#assertServing();
    const { policy } = this.#deps.policy;
    const guardKey = this.#guardKey;
    const guard = this.#deps.didGuard;
    if (!didGuardOf(policy) || !guardKey || !guard) {
      throw new EncumberError('DidGuardDisabled', 'the policy does not enable the DID guard: this enclave holds no rotation key');
    }
    const now = this.#deps.clock();

    // 1-2. Everything that needs no PLC state: the DID, the operation's shape, the
    //    payload, each co-signature's form, each signer a member named once, enough of them.
    if (input.repository !== policy.repository) {
      throw new EncumberError('RepositoryNotAllowed', `repository ${input.repository} is not the policy's repository`, { expected: policy.repository, actual: input.repository });
    }
    const operation = parseUnsignedPlcOp(input.operation);
    const payload = plcOpPayload(policy.repository, operation);
    const cosignatures: Cosignature[] = input.cosignatures.map((c, index) => ({ issuer: c.issuer, sig: decodeCosignature(c.sig.$bytes, index) }));
    const dids = checkCosignaturesBeforePlc(policy, cosignatures);

    // 3. The co-signers' PLC states (as for a record), and the organisation DID's log, verified here.
    const [states, orgLog] = await Promise.all([this.#deps.resolver.resolve(dids, undefined, now), guard.fetchLog(policy.repository)]);
    const { verdict: org, checkpoint: orgCheckpoint } = verifyAuditLogResumable(policy.repository, orgLog, { now });
    if (!org.ok || !orgCheckpoint) {
      const error = org.ok ? new EncumberError('InvalidPlcLog', 'no checkpoint') : org.error;
      throw new EncumberError('InvalidPlcLog', `the organisation's audit log does not verify: ${error.code}: ${error.message}`, { cause: error });
    }

    // 4. M of N, then the operation against the DID's state.
    const counted = await decide(policy, payload, cosignatures, states);
    checkPlcOpAgainstState(operation, org.state, guardKey.did, { allowRelease: didGuardOf(policy)?.allowRelease === true });
    // Nothing built on an operation the guard will revert: it would be nullified with it.
    const pending = guard.watcher.pendingIntrusion(orgCheckpoint, org.state, now);
    if (pending) {
      throw new EncumberError('DidGuardIntrusionPending', `the log of ${policy.repository} holds ${pending.cid} (signed by ${pending.signer}), which the guard will revert; draft again after it has`);
    }
    this.#assertServing();
    for (const s of states.values()) checkHighWater(this.#deps.highWater.get(s.did), s, policy.plc.source);
    for (const s of states.values()) this.#deps.highWater.set(s.did, nextMark(s));

    // 5. Sign with the guard key, submit to the policy's directory.
    const signed = signPlcOp(operation, (m) => guardKey.sign(m));
    this.#assertServing();
    const answer = await guard.submit(policy.repository, signed);
    const order = new Map(policy.signers.map((s, i) => [s.did, i]));
    return {
      cid: payload.cid.toString(),
      operation: signed as unknown as JsonValue,
      operationCid: signedPlcOpCid(signed),
      cosigners: counted.map((c) => c.did).sort((a, b) => order.get(a)! - order.get(b)!),
      directory: { status: answer.status, ...(answer.body !== undefined ? { body: answer.body as JsonValue } : {}) },
    };
  }

  /**
   * The DID guard's public log (DidGuardDisabled without a guard), signed like a receipt: a
   * `dev.encumber.guardLog` document (the watcher's report, the policy CID, signedAt) and the enclave key's
   * signature over its DAG-CBOR, so an auditor can hold the attested key to what it says it saw and did.
   */
  guardLog() {
    this.#assertServing();
    const guard = this.#deps.didGuard;
    if (!guard) throw new EncumberError('DidGuardDisabled', 'the policy does not enable the DID guard');
    const unsigned = {
      $type: GUARD_LOG_TYPE,
      ...guard.watcher.report(),
      policy: this.#deps.policy.cid,
      signedAt: toCanonicalUtcMillis(this.#deps.clock()),
    };
    const sig = this.#requireKey().sign(encodeDocument(unsigned).bytes);
    return ipldToJson({ ...unsigned, sig } as never) as Record<string, JsonValue> & ReturnType<DidGuard['report']>;
  }

  async signRecord(input: SignRecordInput): Promise<SignRecordOutput> {
    this.#assertServing();
    const { policy } = this.#deps.policy;
    const now = this.#deps.clock();

    // 1-2. Everything that needs no PLC state, before any directory request: the
    //    record (valid data model within the policy's size limit), repository and
    //    collection, the payload, each co-signature's form, each signer a policy
    //    member named once, and enough of them for the threshold.
    const record = parseRecordWithin(input.record, policy.limits.maxRecordBytes);
    checkRequestScope(policy, input.repository, input.collection);
    const payload = buildPayload(record, input.repository, input.collection);
    const cosignatures: Cosignature[] = input.cosignatures.map((c, index) => ({ issuer: c.issuer, sig: decodeCosignature(c.sig.$bytes, index) }));
    const dids = checkCosignaturesBeforePlc(policy, cosignatures);

    // 3. Each co-signer's PLC state, verified here.
    const states = await this.#deps.resolver.resolve(dids, input.plcLogs, now);

    // 4. M of N.
    const counted = await decide(policy, payload, cosignatures, states);

    // The service may have failed while this request waited on the directory or
    // the signature checks: failed is terminal, so nothing is signed after it.
    this.#assertServing();

    // 5. Re-check the high-water marks with no await before the marks move, so
    //    two concurrent requests cannot both pass on different histories.
    for (const s of states.values()) checkHighWater(this.#deps.highWater.get(s.did), s, policy.plc.source);
    for (const s of states.values()) this.#deps.highWater.set(s.did, nextMark(s));

    // 6. Sign the payload and the receipt.
    const unsignedReceipt = this.#receiptFor(payload.cid, counted, now);
    // Payload and receipt signatures are independent: sign them in parallel.
    const [enclaveSig, receiptSig] = await Promise.all([
      this.#requireKey().signAsync(payload.bytes),
      this.#requireKey().signAsync(encodeDocument(unsignedReceipt).bytes),
    ]);
    // A failure while the key was signing: the signatures are dropped, never answered.
    this.#assertServing();
    const receipt: Receipt = { ...unsignedReceipt, sig: receiptSig };
    const enclaveEntry: SignatureEntry = {
      $type: SIGNATURE_TYPE,
      issuer: this.#requireKey().did,
      key: this.#requireKey().did,
      sig: enclaveSig,
      binding: this.binding.cid,
      receipt,
    };
    const entries: SignatureEntry[] = [
      ...counted.map((c): SignatureEntry => ({ $type: SIGNATURE_TYPE, issuer: c.did, key: c.key, sig: c.sig })),
      enclaveEntry,
    ];
    const { signatures: _dropped, ...rest } = record;
    const published = { ...rest, signatures: entries };
    return {
      cid: payload.cid.toString(),
      record: ipldToJson(published),
      signature: ipldToJson(enclaveEntry),
      receipt: ipldToJson(receipt),
    };
  }

  /**
   * An upgrade statement's quorum, with exactly the signRecord rules: the
   * statement well-formed and naming the enforced policy, then each
   * co-signature's form, members named once, enough of them (before any PLC
   * work), the co-signers' verified PLC states, every signature over the
   * statement's bytes. `admit` may refuse the statement after the checks
   * that need no PLC state, before any PLC work. Signs nothing.
   */
  async #upgradeQuorum(
    input: ApproveUpgradeInput,
    now: Date,
    admit: (statement: UpgradeStatement) => void = () => {},
  ): Promise<{ statement: UpgradeStatement; counted: CountedSigner[]; states: Map<string, PlcState> }> {
    const { policy } = this.#deps.policy;
    const statement = parseUpgradeStatement(input.statement);
    checkStatementPolicy(statement, this.#deps.policy.cid);
    const cosignatures: Cosignature[] = input.cosignatures.map((c, index) => ({ issuer: c.issuer, sig: decodeCosignature(c.sig.$bytes, index) }));
    const dids = checkCosignaturesBeforePlc(policy, cosignatures);
    admit(statement);
    const states = await this.#deps.resolver.resolve(dids, input.plcLogs, now);
    const counted = await decide(policy, statement, cosignatures, states);
    return { statement, counted, states };
  }

  /**
   * dev.encumber.approveUpgrade: a statement the quorum co-signed adds its
   * measurements to the hand-off's approved set; the enclave key signs a
   * receipt for it, and the statement, co-signatures and receipt are kept and
   * published (getUpgrades). The same statement again answers the approval
   * kept. A refused request changes nothing: the marks move and the approval
   * is kept only after every check passed, with no await in between.
   */
  async approveUpgrade(input: ApproveUpgradeInput): Promise<PublishedUpgrade> {
    this.#assertServing();
    const now = this.#deps.clock();
    // The cap, before any PLC work: a statement not kept yet has no room when the store is full.
    const refuseWhenFull = (cid: string) => {
      if (!this.#upgrades.get(cid) && this.#upgrades.full()) throw new EncumberError('RateLimited', `at most ${MAX_UPGRADES} upgrade statements are kept`);
    };
    const { statement, counted, states } = await this.#upgradeQuorum(input, now, (s) => refuseWhenFull(s.cid.toString()));
    const cid = statement.cid.toString();
    const known = this.#upgrades.get(cid);
    if (known) return known.published;
    const plc = this.#deps.policy.policy.plc.source;
    const unsigned = this.#receiptFor(statement.cid, counted, now);
    const logs = publishedLogs(plc, counted, input.plcLogs);
    const sig = await this.#requireKey().signAsync(encodeDocument(unsigned).bytes);
    // Every refusal again, after the last await and before anything changes: the service still serving, the
    // statement approved meanwhile (its approval is the answer), the cap, the high-water marks (no co-signer's
    // PLC history goes backwards, as for a record).
    this.#assertServing();
    const meanwhile = this.#upgrades.get(cid);
    if (meanwhile) return meanwhile.published;
    refuseWhenFull(cid);
    for (const s of states.values()) checkHighWater(this.#deps.highWater.get(s.did), s, plc);
    const published: PublishedUpgrade = {
      statement: ipldToJson(statement.value as never),
      statementCid: cid,
      cosignatures: counted.map((c) => ({ issuer: c.did, key: c.key, sig: ipldToJson(c.sig) as { $bytes: string } })),
      receipt: ipldToJson({ ...unsigned, sig } as never),
      ...logs,
    };
    const kept = this.#upgrades.add({ statement, published });
    for (const s of states.values()) this.#deps.highWater.set(s.did, nextMark(s));
    return kept.published;
  }

  /**
   * The receipt for a decision on `cid` (a record payload, an upgrade statement): the policy, and the PLC head and
   * key each counted co-signer was verified with. Sorts `counted` into policy order, the order the co-signer entries
   * are then published in.
   */
  #receiptFor(cid: CID, counted: CountedSigner[], now: Date): UnsignedReceipt {
    const order = new Map(this.#deps.policy.policy.signers.map((s, i) => [s.did, i]));
    counted.sort((a, b) => order.get(a.did)! - order.get(b.did)!);
    return {
      $type: RECEIPT_TYPE,
      cid,
      policy: this.#deps.policy.cid,
      heads: counted.map((c) => ({ did: c.did, cid: parseHeadCid(c), createdAt: c.head.createdAt, key: c.key })),
      signedAt: toCanonicalUtcMillis(now),
    };
  }

  /** dev.encumber.getUpgrades: every approved (or inherited) upgrade, in the order it was approved. */
  upgrades(): { upgrades: PublishedUpgrade[] } {
    this.#assertServing();
    return { upgrades: this.#upgrades.list() };
  }

  /**
   * A joining instance, before the hand-off: the sender's published upgrades,
   * each re-checked here with the approveUpgrade rules (this instance's own
   * PLC checks); the ones that pass extend the approved set (so a new release
   * accepts the release it takes over from). A statement may come more than
   * once: every copy that passes is held, and once the key is here one whose
   * receipt it signed is kept (`keepInheritedWithKey`), whatever their order.
   * A list longer than an instance keeps is refused whole. Returns what was
   * refused, and why.
   */
  async inheritUpgrades(list: unknown[]): Promise<{ cid: string; code: string; message: string }[]> {
    if (list.length > MAX_UPGRADES) {
      throw new EncumberError('RemoteUnavailable', `the sender publishes ${list.length} upgrades; an instance keeps at most ${MAX_UPGRADES}`);
    }
    const refused: { cid: string; code: string; message: string }[] = [];
    for (const item of list) {
      const p = (typeof item === 'object' && item !== null ? item : {}) as Partial<PublishedUpgrade>;
      try {
        if (!Array.isArray(p.cosignatures)) throw new EncumberError('UpgradeInvalid', 'no co-signatures');
        const { statement, counted } = await this.#upgradeQuorum(
          { statement: p.statement, cosignatures: p.cosignatures.map((c) => ({ issuer: String(c?.issuer), sig: { $bytes: String(c?.sig?.$bytes) } })), ...(p.plcLogs ? { plcLogs: p.plcLogs } : {}) },
          this.#deps.clock(),
        );
        // Only the approval's own fields are kept (and republished); the receipt is checked once the key is here.
        const kept: PublishedUpgrade = {
          statement: ipldToJson(statement.value as never),
          statementCid: statement.cid.toString(),
          cosignatures: p.cosignatures.map((c) => ({ issuer: String(c?.issuer), key: String(c?.key), sig: { $bytes: String(c?.sig?.$bytes) } })),
          receipt: (p.receipt ?? null) as JsonValue,
          ...publishedLogs(this.#deps.policy.policy.plc.source, counted, p.plcLogs as Record<string, unknown> | undefined),
        };
        this.#upgrades.addCandidate({ statement, published: kept });
      } catch (e) {
        if (!(e instanceof EncumberError) || isInfrastructureCode(e.code)) throw e;
        refused.push({ cid: String(p.statementCid), code: e.code, message: e.message });
      }
    }
    return refused;
  }

  /** After the hand-off: of the inherited copies of each statement, one whose receipt the enclave key signed is kept; returns the statements none of whose copies verified. */
  keepInheritedWithKey(): string[] {
    const key = this.#requireKey().did;
    const identity = { key, policy: this.#policyJson(), policyCid: this.#deps.policy.cid.toString() };
    return this.#upgrades.settle((p) => verifyUpgrade(identity, p).ok);
  }

}

/** The most an approval may weigh when published (statement, co-signatures, receipt, logs): 64 of them fit a joiner's read. */
export const MAX_PUBLISHED_UPGRADE_BYTES = 64 * 1024;

/**
 * The audit logs an approval publishes: in supplied mode those of the counted co-signers only (what the
 * quorum was checked with, so anyone can re-check it), never anything else the submitter sent; in fetch
 * mode none (the enclave read the directory, and a submitter's logs would only mislead a verifier).
 */
function publishedLogs(source: 'supplied' | 'fetch', counted: { did: string }[], logs: Record<string, unknown> | undefined): { plcLogs?: Record<string, JsonValue> } {
  if (source !== 'supplied' || !logs) return {};
  const kept = Object.fromEntries(counted.flatMap((c) => (logs[c.did] === undefined ? [] : [[c.did, logs[c.did] as JsonValue]])));
  const size = new TextEncoder().encode(JSON.stringify(kept)).length;
  if (size > MAX_PUBLISHED_UPGRADE_BYTES) {
    throw new EncumberError('UpgradeInvalid', `the co-signers' audit logs weigh ${size} bytes; an approval publishes at most ${MAX_PUBLISHED_UPGRADE_BYTES}`);
  }
  return { plcLogs: kept };
}

/**
 * What an attestor throws when the platform cannot attest: anything that is
 * not an EncumberError (a bug or a crashed binding), or an EncumberError with
 * an infrastructure code (NSM and configfs-tsm failures are InternalError). A
 * request the attestor refuses (UsageError) is the caller's problem.
 */
function isDeviceFailure(e: unknown): boolean {
  return !(e instanceof EncumberError) || isInfrastructureCode(e.code);
}

export function failureOf(e: unknown): ServiceFailure {
  const reason = (e as { reason?: unknown } | null)?.reason;
  const name = (e as { name?: unknown } | null)?.name;
  const message = String((e as { message?: unknown } | null)?.message ?? e).slice(0, 500);
  if (e instanceof EncumberError) return { code: e.code, ...(typeof reason === 'string' ? { reason } : {}), message };
  return { code: 'InternalError', ...(typeof name === 'string' ? { reason: name } : {}), message };
}

/** `{"$bytes": base64}` read by the data-model rules (the same as inside records). */
function decodeCosignature(b64: string, index: number): Uint8Array {
  try {
    return jsonToIpld({ $bytes: b64 }) as Uint8Array;
  } catch (cause) {
    throw new EncumberError('InvalidCosignature', `co-signature ${index}: sig.$bytes is not valid base64`, { index, cause });
  }
}

function parseRecordWithin(json: unknown, maxRecordBytes: number): IpldRecord {
  try {
    return parseRecordJson(json, { maxEncodedBytes: maxRecordBytes }) as IpldRecord;
  } catch (e) {
    if (e instanceof EncumberError && e.code === 'TooLarge') {
      throw new EncumberError('RecordTooLarge', `record too large: ${e.message} (policy maxRecordBytes ${maxRecordBytes})`, { cause: e });
    }
    if (e instanceof EncumberError && e.code === 'InvalidDataModel') {
      throw new EncumberError('InvalidRequest', `record: ${e.message}`, { cause: e, ...(e.path ? { path: e.path } : {}) });
    }
    throw e;
  }
}

function parseHeadCid(c: CountedSigner): CID {
  return CID.parse(c.head.cid);
}
