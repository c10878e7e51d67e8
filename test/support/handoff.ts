/**
 * Two (or more) in-process instances on the dev platform for the key
 * hand-off tests: one dev root, attestors with chosen program digests (so
 * measurements can differ), one injected clock, and "HTTP" between them
 * through each app's `request` (no socket). A recording fetch keeps every
 * request and answer, as a man in the middle on the wire would see them.
 */
import { createDevRoot, devPcrsFromDigests, issueDevDocument, type DevRoot } from '../../src/attestation/dev/index.ts';
import { toHex } from '../../src/crypto/encoding.ts';
import { bootService, type ServiceConfig } from '../../src/enclave/boot.ts';
import type { Attestor } from '../../src/enclave/attestor.ts';
import { devAttestor } from '../../src/enclave/platforms.ts';
import type { SigningService } from '../../src/enclave/service.ts';
import { parsePolicy, type LoadedPolicy } from '../../src/policy/policy.ts';
import { createApp } from '../../src/server/app.ts';
import type { Measurements } from '../../src/verifier/measurements.ts';
import { createMember, policyFor, type Member } from './world.ts';
import { CID } from '../../src/data/cid.ts';
import { ipldToJson, jsonToIpld } from '../../src/data/json.ts';
import { generateRecipientKey } from '../../src/enclave/hpke.ts';
import { encodeHandoff } from '../../src/verifier/handoff.ts';
import { draftUpgradeStatement } from '../../src/verifier/upgrade.ts';
import { cosignUpgradeDraft, type UpgradeDraft } from '../../src/member/cosign.ts';

export const DIGEST_A = new Uint8Array(48).fill(0x0a);
export const DIGEST_B = new Uint8Array(48).fill(0x0b);

/** The approved-set entry of a dev program digest. */
export function devSet(digest: Uint8Array, name = 'dev'): Measurements['dev'][number] {
  const pcrs = devPcrsFromDigests({ bundleSha384: digest });
  return { name, pcrs: { 0: toHex(pcrs[0]!), 1: toHex(pcrs[1]!), 2: toHex(pcrs[2]!) } };
}

export function approving(...digests: Uint8Array[]): Measurements {
  return { nitro: [], 'sev-snp': [], dev: digests.map((d, i) => devSet(d, `program ${i}`)) };
}

/** A dev attestor whose documents report PCR0..2 as zero: what a debug-mode Nitro enclave reports. */
export function debugAttestor(root: DevRoot): Attestor {
  const zero = new Uint8Array(48);
  return {
    platform: 'dev',
    devRoot: root.certificate,
    attest: async (req) =>
      issueDevDocument(root, { pcrs: { 0: zero, 1: zero, 2: zero }, publicKey: req.publicKey, userData: req.bindingCid, nonce: req.nonce, now: req.now }),
  };
}

export interface Clock {
  (): Date;
  advance(ms: number): void;
}

export function testClock(start = '2026-06-01T00:00:00.000Z'): Clock {
  let t = new Date(start).getTime();
  const clock = (() => new Date(t)) as Clock;
  clock.advance = (ms) => {
    t += ms;
  };
  return clock;
}

export type App = ReturnType<typeof createApp>;

export interface Exchange {
  path: string;
  request: Record<string, any>;
  status: number;
  answer: Record<string, any>;
}

/** What a man in the middle does to a request body on its way (by endpoint NSID). */
export type Intercept = (nsid: string, body: Record<string, unknown>) => Record<string, unknown>;

/** fetch into an in-process app, recording every exchange (after `intercept` changed the request, if given). */
export function fetchInto(app: App, log: Exchange[] = [], intercept?: Intercept): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const nsid = url.pathname.replace(/^\/xrpc\//, '');
    const body = init?.body && intercept ? JSON.stringify(intercept(nsid, JSON.parse(String(init.body)))) : init?.body;
    init = { ...init, ...(body !== undefined ? { body } : {}) };
    const res = await app.request(url.pathname + url.search, { method: init?.method ?? 'GET', headers: init?.headers ?? {}, ...(init?.body ? { body: init.body } : {}) });
    const text = await res.text();
    log.push({ path: url.pathname, request: init?.body ? JSON.parse(String(init.body)) : {}, status: res.status, answer: text ? JSON.parse(text) : {} });
    return new Response(text, { status: res.status, headers: res.headers });
  }) as typeof fetch;
}

export interface Instance {
  service: SigningService;
  app: App;
}

export interface HandoffWorld {
  root: DevRoot;
  clock: Clock;
  members: Member[];
  policy: LoadedPolicy;
  /** The running instance S (program A unless said otherwise). */
  sender: Instance;
  /** Start an instance that joins `from` (default: the sender); resolves once it served or failed. */
  join(opts?: JoinOptions): Promise<Instance & { exchanges: Exchange[]; allExchanges: Exchange[] }>;
}

export interface JoinOptions {
  from?: Instance;
  attestor?: Attestor;
  approved?: Measurements;
  /** A man in the middle on the wire to the sender. */
  intercept?: Intercept;
  /** Replace the fetch into the sender (e.g. to hold or alter it). */
  fetch?: typeof fetch;
  policy?: LoadedPolicy;
  /** More of the joiner's configuration (over the world's `config`). */
  config?: Partial<ServiceConfig>;
}

export interface HandoffWorldOptions {
  senderAttestor?: (root: DevRoot) => Attestor;
  senderApproved?: NonNullable<ServiceConfig['handoff']>['approved'];
  members?: Member[];
  /** Over the policy `policyFor(members)` makes (e.g. a DID guard, fetch mode). */
  policyOverrides?: Record<string, unknown>;
  /** More configuration for every instance (e.g. the directory stand-in); the sender's own over it. */
  config?: Partial<ServiceConfig>;
  senderConfig?: Partial<ServiceConfig>;
}

export async function handoffWorld(opts: HandoffWorldOptions = {}): Promise<HandoffWorld> {
  const clock = testClock();
  const root = createDevRoot({ now: new Date('2026-01-01T00:00:00.000Z'), validityDays: 3650 });
  const members = opts.members ?? [await createMember('alice.test'), await createMember('bob.test'), await createMember('carol.test')];
  const policy = parsePolicy(policyFor(members, opts.policyOverrides));
  const start = (attestor: Attestor, extra: Partial<ServiceConfig>, p = policy): Instance => {
    const service = bootService({ policy: p, attestor, clock, ...opts.config, ...extra });
    return { service, app: createApp({ service }) };
  };
  const sender = start(opts.senderAttestor?.(root) ?? devAttestor(root, DIGEST_A), {
    ...opts.senderConfig,
    ...(opts.senderApproved ? { handoff: { approved: opts.senderApproved } } : {}),
  });
  return {
    root,
    clock,
    members,
    policy,
    sender,
    async join(j = {}) {
      const exchanges: Exchange[] = [];
      const from = j.from ?? sender;
      const joined = start(
        j.attestor ?? devAttestor(root, DIGEST_A),
        {
          ...j.config,
          join: { url: 'http://sender.test', fetch: j.fetch ?? fetchInto(from.app, exchanges, j.intercept) },
          ...(j.approved ? { handoff: { approved: j.approved } } : {}),
        },
        j.policy ?? policy,
      );
      await joined.service.settled();
      // The joiner first reads the sender's approved upgrades (getUpgrades); `exchanges` are the hand-off's round trips.
      return { ...joined, exchanges: exchanges.filter((e) => !e.path.endsWith('getUpgrades')), allExchanges: exchanges };
    },
  };
}

/**
 * One hand-off by hand against `app` (a joiner that follows the protocol but
 * may say other things): round 1 with a fresh nonce, then a request document
 * made from `doc` overrides, attested by `attestor` (nonce: the challenge).
 */
export async function requestByHand(
  app: App,
  opts: { root: DevRoot; policy: LoadedPolicy; clock: Clock; attestor?: Attestor; doc?: Record<string, unknown>; beforeRequest?: () => void | Promise<void> },
): Promise<{ status: number; json: Record<string, any>; body: Record<string, unknown> }> {
  const post = async (nsid: string, body: unknown) => {
    const res = await app.request(`/xrpc/${nsid}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
  const offer = await post('dev.encumber.handoffOffer', { nonce: ipldToJson(crypto.getRandomValues(new Uint8Array(32))) });
  if (offer.status !== 200) throw new Error(`offer: ${offer.status} ${JSON.stringify(offer.json)}`);
  const o = jsonToIpld(offer.json.offer) as Record<string, any>;
  const { publicKey } = await generateRecipientKey();
  const doc = encodeHandoff<Record<string, unknown>>({
    $type: 'dev.encumber.handoff',
    version: 1,
    purpose: 'handoff-request',
    policy: opts.policy.cid,
    platform: 'dev',
    program: { name: 'encumber', version: '0.1.0' },
    challenge: o.challenge,
    offer: CID.parse(offer.json.offerCid),
    hpkeKey: publicKey,
    createdAt: opts.clock().toISOString(),
    ...opts.doc,
  });
  const attestor = opts.attestor ?? devAttestor(opts.root, DIGEST_A);
  const evidence = await attestor.attest({ publicKey, bindingBytes: doc.bytes, bindingCid: doc.cid.bytes, nonce: o.challenge, now: opts.clock() });
  const body = { request: ipldToJson(doc.value as never), evidence: ipldToJson(evidence) };
  await opts.beforeRequest?.();
  return { ...(await post('dev.encumber.handoffRequest', body)), body };
}

/** An upgrade draft approving dev programs `digests` under `policy`, co-signed by `signers`, their logs attached. */
export function upgradeDraft(policy: CID, digests: Uint8Array[], signers: Member[], logsOf: Member[] = signers): UpgradeDraft {
  let draft: UpgradeDraft = { statement: draftUpgradeStatement(policy, approving(...digests), '2026-06-01T00:00:00.000Z') as Record<string, unknown>, cosignatures: [] };
  for (const m of signers) draft = cosignUpgradeDraft(draft, m.signingKey, m.did).draft;
  return { ...draft, plcLogs: Object.fromEntries(logsOf.map((m) => [m.did, m.log])) };
}
