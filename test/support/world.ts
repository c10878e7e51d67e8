/**
 * A small world for service tests: three member DIDs (each with a rotation
 * key and an #atproto key, created with @did-plc/lib), a 2-of-3 policy naming
 * them, and a signing service over it, built by the composition root
 * (src/enclave/boot.ts) like the real one. Everything runs in process.
 */
import { encodeCbor } from '../../src/data/cbor.ts';
import { generateMemberKey, type MemberKey } from '../../src/member/keys.ts';
import { addKeyOp, auditEntry, createMemberDid } from '../../src/member/plc-ops.ts';
import { cosignDraft, type Draft } from '../../src/member/cosign.ts';
import { parsePolicy, type LoadedPolicy } from '../../src/policy/policy.ts';
import type { HighWaterStore } from '../../src/policy/high-water.ts';
import { bootService, type ServiceConfig } from '../../src/enclave/boot.ts';
import type { SigningService } from '../../src/enclave/service.ts';
import type { FetchLog } from '../../src/enclave/plc-resolver.ts';
import type { Attestor } from '../../src/enclave/attestor.ts';
import type { PlcAuditEntry, PlcOperation } from '../../src/plc/types.ts';
import { createApp } from '../../src/server/app.ts';
import type { Logger } from '../../src/server/log.ts';
import type { Identity } from '../../src/verifier/record.ts';

export const ORG = 'did:plc:orgorgorgorgorgorgorgorg';
export const COLLECTION = 'app.bsky.feed.post';

export interface Member {
  did: string;
  rotationKey: MemberKey;
  signingKey: MemberKey;
  log: PlcAuditEntry[];
  lastOp: PlcOperation;
}

let clockMs = Date.parse('2026-01-01T00:00:00.000Z');
export function tick(ms = 1000): Date {
  clockMs += ms;
  return new Date(clockMs);
}

export async function createMember(handle: string): Promise<Member> {
  const rotationKey = generateMemberKey();
  const signingKey = generateMemberKey();
  const { did, op } = await createMemberDid({ rotationKey, signingKey, handle, pds: 'https://pds.example' });
  return { did, rotationKey, signingKey, log: [auditEntry(did, op, tick())], lastOp: op };
}

/** Rotate the member's #atproto key (a new PLC op appended to its log). */
export async function rotateSigningKey(m: Member): Promise<MemberKey> {
  const next = generateMemberKey();
  const op = await addKeyOp(m.lastOp, m.rotationKey, 'atproto', next.did);
  m.log = [...m.log, auditEntry(m.did, op, tick())];
  m.lastOp = op;
  m.signingKey = next;
  return next;
}

export function policyFor(members: Member[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    $type: 'dev.encumber.policy',
    version: 1,
    repository: ORG,
    signers: members.map((m) => ({ did: m.did, keyId: 'atproto' })),
    threshold: 2,
    collections: [COLLECTION],
    plc: { directory: 'http://127.0.0.1:1', source: 'supplied' },
    limits: { maxRecordBytes: 10_000 },
    ...overrides,
  };
}

/** Test-only attestor: echoes its inputs as CBOR. Never reachable from the CLI. */
export const echoAttestor: Attestor = {
  platform: 'dev',
  attest: async (req) => encodeCbor({ publicKey: req.publicKey, bindingCid: req.bindingCid, nonce: req.nonce }),
};

export interface World {
  members: Member[];
  policy: LoadedPolicy;
  /** The enclave key's did:key. */
  key: { did: string };
  service: SigningService;
  app: ReturnType<typeof createApp>;
  logs: string[];
}

export interface WorldOptions {
  policy?: Record<string, unknown>;
  members?: Member[];
  /** Fetch mode: reads a DID's log, the same from every source. */
  fetchLog?: FetchLog;
  /** Fetch mode: reads a DID's log from one source (the policy's directory or a mirror, by URL). */
  fetchFrom?: (source: string, did: string) => Promise<unknown>;
  attestor?: Attestor;
  drawKey?: () => Uint8Array;
  /** The DID guard's key bytes (a policy with didGuard enabled only). */
  drawGuardKey?: () => Uint8Array;
  /** The DID guard's timer (default here: one that never fires) and its directory writes. */
  guardTimer?: ServiceConfig['guardTimer'];
  submitPlcOp?: ServiceConfig['submitPlcOp'];
  highWater?: HighWaterStore;
  clock?: () => Date;
  limits?: ServiceConfig['limits'];
  /** The verification page's files, served at `/` (as `serve` passes loadWebAssets); absent: the API only. */
  web?: Parameters<typeof createApp>[0]['web'];
}

export async function createWorld(opts: WorldOptions = {}): Promise<World> {
  const members = opts.members ?? [await createMember('alice.test'), await createMember('bob.test'), await createMember('carol.test')];
  const policy = parsePolicy(opts.policy ?? policyFor(members));
  const service = bootService({
    policy,
    attestor: opts.attestor ?? echoAttestor,
    clock: opts.clock ?? (() => tick(1)),
    ...(opts.fetchFrom ? { fetchLog: opts.fetchFrom } : opts.fetchLog ? { fetchLog: (_source: string, did: string) => opts.fetchLog!(did) } : {}),
    ...(opts.drawKey ? { drawKey: opts.drawKey } : {}),
    ...(opts.drawGuardKey ? { drawGuardKey: opts.drawGuardKey } : {}),
    // No real timers in tests: the guard polls once at start, then only when a test says so.
    guardTimer: opts.guardTimer ?? (() => () => {}),
    ...(opts.submitPlcOp ? { submitPlcOp: opts.submitPlcOp } : {}),
    ...(opts.highWater ? { highWater: opts.highWater } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  const logs: string[] = [];
  const logger: Logger = (line) => logs.push(JSON.stringify(line));
  return { members, policy, key: { did: service.identity().key }, service, app: createApp({ service, logger, ...(opts.web ? { web: opts.web } : {}) }), logs };
}

export function draftFor(text = 'hello from the org'): Draft {
  return {
    repository: ORG,
    collection: COLLECTION,
    record: { $type: COLLECTION, text, createdAt: '2026-01-01T00:00:00.000Z' },
    cosignatures: [],
  };
}

export function cosignBy(draft: Draft, ...signers: Member[]): Draft {
  let d = draft;
  for (const m of signers) d = cosignDraft(d, m.signingKey, m.did).draft;
  return d;
}

export function withLogs(draft: Draft, members: Member[]): Draft {
  return { ...draft, plcLogs: Object.fromEntries(members.map((m) => [m.did, m.log])) };
}

/** A world whose enclave signed one 2-of-3 record (alice and bob co-signed, every member's log attached). */
export interface SignedWorld {
  w: World;
  /** The enclave's getIdentity answer, as a verifier reads it. */
  identity: Identity;
  /** The draft the enclave signed. */
  draft: Draft;
  /** The signRecord answer: { cid, record, signature, receipt }. */
  signed: Record<string, any>;
}

export async function signedWorld(text: string): Promise<SignedWorld> {
  const w = await createWorld();
  const [alice, bob] = w.members as [Member, Member];
  const draft = withLogs(cosignBy(draftFor(text), alice, bob), w.members);
  const signed = (await w.service.signRecord(draft as never)) as Record<string, any>;
  return { w, identity: w.service.identity() as unknown as Identity, draft, signed };
}
