/**
 * The key hand-off and the DID guard, with their peers and native limits in
 * the same process and run.
 *
 *   node --import tsx bench/handoff.ts [--ms=1000] [--rounds=3] [--handoffs=40] [--entries=256] [--ops=20]
 *
 * 1. HPKE seal + open of the keys (the hand-off's crypto), ops/s; each op is
 *    one seal and one open, with the info and aad of a real transcript
 *    (src/verifier/handoff.ts handoffTranscript), the recipient's key pair
 *    made once:
 *    - native limit: the same RFC 9180 base-mode construction,
 *      DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, written here on
 *      node:crypto (X25519 generateKeyPair and diffieHellman, LabeledExtract /
 *      LabeledExpand on createHmac, aes-128-gcm; the constant psk_id_hash
 *      computed once). Before anything is timed it must reproduce RFC 9180
 *      A.1.1 and interoperate both ways with our path (a seal from one opens
 *      with the other), so the rows do the same work;
 *    - peer: @hpke/core with @hpke/dhkem-x25519's KEM (X25519 in noble,
 *      pure JS), the suite ours used before (checked to open ours too);
 *    - @hpke/core alone, its own DhkemX25519HkdfSha256 (X25519 in WebCrypto,
 *      which Node has): the suite ours uses (src/enclave/hpke.ts), directly;
 *    - ours: KeyHolder.seal + KeyHolder.openSealed (src/enclave/key-holder.ts):
 *      the library, plus the recipient key import, each opened key's did:key
 *      derived and compared with the attested one, and every buffer wiped;
 *    for one key (32 bytes) and two (64 bytes: a policy with the DID guard).
 *    Measured `rounds` times, interleaved, median shown (harness).
 * 2. Whole hand-offs on the dev platform, in process (each app's `request`,
 *    no socket), ms per hand-off, p50 / p95 of `handoffs` each: a joiner
 *    booted with `join` (src/enclave/boot.ts) until it serves, after
 *    checking it holds the sender's keys: getUpgrades, both rounds, its own
 *    measurement probe, the seal and its opening. Unguarded (2-of-3, supplied
 *    mode), and guarded (fetch mode, `didGuard`), the sender's guard log
 *    holding `entries` intrusions (256, the bound a hand-off accepts: real
 *    operations by the PDS's key found by the sender's guard more than 72 h
 *    late, so each is recorded as not revertible). The joiner's own
 *    directory reads fail, so its first poll after the hand-off does
 *    nothing. Interleaved with the floor, the native limit of the protocol:
 *    the two attestations, the two evidence verifications (verifyDevDocument
 *    with nonce, public key and user data expected) and the native seal and
 *    open of the same plaintext and aad, called directly. A breakdown splits
 *    each hand-off at its three round trips, as the joiner sees them.
 * 3. One DID guard poll (src/enclave/did-guard.ts DidGuard.poll: verify the
 *    audit log, then plan) of an organisation DID with an `ops`-entry log
 *    (the PDS's genesis with rotation keys [guard, PDS], then the guard key's
 *    own operations, which the plan walks one by one), against the peer, @did-plc/lib 0.0.4 validateOperationLog of
 *    the same operations, and the verification half of the poll alone
 *    (verifyAuditLogResumable); the plan (planGuard, pure) is timed once
 *    (mean of 20 000 calls), it costs microseconds. The log object
 *    is handed over as fetched and parsed (no JSON parse in any row).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as plc from '@did-plc/lib';
import { Aes128Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { DhkemX25519HkdfSha256 as NobleX25519Kem } from '@hpke/dhkem-x25519';
import { measureInterleaved, quantile, tableVs, type BenchCase } from './harness.ts';
import { createDevRoot, verifyDevDocument, type DevRoot } from '../src/attestation/dev/index.ts';
import { installLibsecp256k1 } from '../src/crypto/k256-libsecp256k1.ts';
import { generateK256PrivateKey } from '../src/crypto/k256-signer.ts';
import { parseDidKey } from '../src/crypto/did-key.ts';
import { bytesEqual, fromHex, toHex } from '../src/crypto/encoding.ts';
import { encodeCbor } from '../src/data/cbor.ts';
import { cidForValue, type CID } from '../src/data/cid.ts';
import { EncumberError } from '../src/errors.ts';
import type { Attestor } from '../src/enclave/attestor.ts';
import { bootService, type ServiceConfig } from '../src/enclave/boot.ts';
import { DidGuard, type GuardLogEntry } from '../src/enclave/did-guard.ts';
import { handoffSuite } from '../src/enclave/hpke.ts';
import { KeyHolder } from '../src/enclave/key-holder.ts';
import { devAttestor } from '../src/enclave/platforms.ts';
import type { SigningService } from '../src/enclave/service.ts';
import { generateMemberKey, plcSigner, type MemberKey } from '../src/member/keys.ts';
import { auditEntry, createMemberDid } from '../src/member/plc-ops.ts';
import { verifiedNodes, verifyAuditLogResumable } from '../src/plc/verify.ts';
import { planGuard } from '../src/policy/did-guard.ts';
import type { PlcAuditEntry, PlcOperation } from '../src/plc/types.ts';
import { parsePolicy, type LoadedPolicy } from '../src/policy/policy.ts';
import { createApp } from '../src/server/app.ts';
import { handoffTranscript } from '../src/verifier/handoff.ts';

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : fallback;
}
const ms = arg('ms', 1000);
const rounds = arg('rounds', 3);
const handoffs = arg('handoffs', 40);
const guardEntries = arg('entries', 256);
const ops = arg('ops', 20);
const measure = (cases: BenchCase[]) => measureInterleaved(cases, { rounds, ms });

/** Every instance's clock (evidence, challenges, the guard's 72-hour window): fixed, as in the hand-off tests. */
const NOW = new Date('2026-06-01T00:00:00.000Z');
const clock = () => NOW;
const DIGEST = new Uint8Array(48).fill(0x0a);
const minutes = (from: string, n: number) => new Date(Date.parse(from) + n * 60_000);

// ---------------------------------------------------------------------------------------------------------------
// RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, on node:crypto: the native limit.
// ---------------------------------------------------------------------------------------------------------------

const HPKE_V1 = Buffer.from('HPKE-v1');
/** suite_id of the KEM: "KEM" ‖ I2OSP(0x0020, 2). */
const KEM_SUITE = Buffer.from([0x4b, 0x45, 0x4d, 0x00, 0x20]);
/** suite_id of the key schedule: "HPKE" ‖ kem 0x0020 ‖ kdf 0x0001 ‖ aead 0x0001. */
const HPKE_SUITE = Buffer.from([0x48, 0x50, 0x4b, 0x45, 0x00, 0x20, 0x00, 0x01, 0x00, 0x01]);
const EMPTY = Buffer.alloc(0);
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const label = (s: string) => Buffer.from(s, 'latin1');
const L_EAE_PRK = label('eae_prk');
const L_SHARED = label('shared_secret');
const L_INFO_HASH = label('info_hash');
const L_SECRET = label('secret');
const L_KEY = label('key');
const L_NONCE = label('base_nonce');

function hmac(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}
/** LabeledExtract(salt, label, ikm) = HMAC(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm); an empty salt is HashLen zeros, the same HMAC key. */
const labeledExtract = (suite: Buffer, salt: Uint8Array, l: Buffer, ikm: Uint8Array) => hmac(salt, HPKE_V1, suite, l, ikm);
/**
 * LabeledExpand(prk, label, info, L) for L ≤ 32: one HKDF-Expand block,
 * T(1) = HMAC(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info ‖ 0x01).
 */
const labeledExpand = (suite: Buffer, prk: Uint8Array, l: Buffer, info: Uint8Array, len: number) =>
  hmac(prk, Buffer.from([0, len]), HPKE_V1, suite, l, info, Buffer.from([1])).subarray(0, len);
/** psk_id_hash: LabeledExtract("", "psk_id_hash", "") is a constant of base mode. */
const PSK_ID_HASH = labeledExtract(HPKE_SUITE, EMPTY, label('psk_id_hash'), EMPTY);

const rawPublic = (k: KeyObject) => k.export({ format: 'der', type: 'spki' }).subarray(X25519_SPKI.length);
const x25519Public = (raw: Uint8Array) => createPublicKey({ key: Buffer.concat([X25519_SPKI, raw]), format: 'der', type: 'spki' });
const x25519Private = (raw: Uint8Array) => createPrivateKey({ key: Buffer.concat([X25519_PKCS8, raw]), format: 'der', type: 'pkcs8' });

/** KeySchedule(mode_base, shared_secret, info) → (key, base_nonce); sequence 0 only, so the nonce is base_nonce. */
function keySchedule(sharedSecret: Uint8Array, info: Uint8Array): { key: Buffer; nonce: Buffer } {
  const context = Buffer.concat([Buffer.from([0]), PSK_ID_HASH, labeledExtract(HPKE_SUITE, EMPTY, L_INFO_HASH, info)]);
  const secret = labeledExtract(HPKE_SUITE, sharedSecret, L_SECRET, EMPTY);
  return { key: labeledExpand(HPKE_SUITE, secret, L_KEY, context, 16), nonce: labeledExpand(HPKE_SUITE, secret, L_NONCE, context, 12) };
}

/** ExtractAndExpand(dh, enc ‖ pkRm) of DHKEM(X25519, HKDF-SHA256). */
const kemSharedSecret = (dh: Uint8Array, enc: Uint8Array, pkR: Uint8Array) =>
  labeledExpand(KEM_SUITE, labeledExtract(KEM_SUITE, EMPTY, L_EAE_PRK, dh), L_SHARED, Buffer.concat([enc, pkR]), 32);

/** SealBase(pkR, info, aad, pt); `ephemeral` only for the RFC vector. */
function nativeSeal(pkR: Uint8Array, info: Uint8Array, aad: Uint8Array, pt: Uint8Array, ephemeral?: KeyObject): { enc: Buffer; ciphertext: Buffer } {
  const skE = ephemeral ?? generateKeyPairSync('x25519').privateKey;
  const enc = rawPublic(createPublicKey(skE));
  const dh = diffieHellman({ privateKey: skE, publicKey: x25519Public(pkR) });
  const { key, nonce } = keySchedule(kemSharedSecret(dh, enc, pkR), info);
  const c = createCipheriv('aes-128-gcm', key, nonce);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
  return { enc, ciphertext: body };
}

/** OpenBase(enc, skR, info, aad, ct); throws when the tag does not verify. */
function nativeOpen(skR: KeyObject, pkR: Uint8Array, enc: Uint8Array, info: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Buffer {
  const dh = diffieHellman({ privateKey: skR, publicKey: x25519Public(enc) });
  const { key, nonce } = keySchedule(kemSharedSecret(dh, enc, pkR), info);
  const d = createDecipheriv('aes-128-gcm', key, nonce);
  d.setAAD(aad);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  return Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]);
}

/** The recipient's key pair in both forms: node:crypto and @hpke/core's CryptoKey. */
async function recipientPair() {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const raw = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(X25519_PKCS8.length);
  return { sk: privateKey, pk: rawPublic(publicKey), hpkeSk: await handoffSuite().kem.importKey('raw', new Uint8Array(raw).buffer, false) };
}

/** Before any timing: the native construction reproduces RFC 9180 A.1.1, and seals open across implementations. */
async function checkNativeHpke(keys: KeyHolder[], keyBytes: Uint8Array, info: Uint8Array, aad: Uint8Array): Promise<void> {
  const v = JSON.parse(readFileSync(new URL('../test/vectors/hpke/rfc9180-a1-base.json', import.meta.url), 'utf8')) as {
    info: string;
    skRm: string;
    skEm: string;
    pkRm: string;
    enc: string;
    encryptions: { aad: string; ciphertext: string; plaintext: string }[];
  };
  const e0 = v.encryptions[0]!;
  const sealed = nativeSeal(fromHex(v.pkRm), fromHex(v.info), fromHex(e0.aad), fromHex(e0.plaintext), x25519Private(fromHex(v.skEm)));
  if (toHex(sealed.enc) !== v.enc || toHex(sealed.ciphertext) !== e0.ciphertext) throw new Error('the native HPKE does not reproduce RFC 9180 A.1.1');
  const skR = x25519Private(fromHex(v.skRm));
  const opened = nativeOpen(skR, fromHex(v.pkRm), fromHex(v.enc), fromHex(v.info), fromHex(e0.aad), fromHex(e0.ciphertext));
  if (toHex(opened) !== e0.plaintext) throw new Error('the native HPKE does not open RFC 9180 A.1.1');

  const r = await recipientPair();
  const dids = keys.map((k) => k.did);
  // native → ours
  const n = nativeSeal(r.pk, info, aad, keyBytes);
  const got = await KeyHolder.openSealed(r.hpkeSk, n.enc, n.ciphertext, info, aad, dids);
  if (got.map((h) => h.did).join() !== dids.join()) throw new Error('our open of a native seal gave other keys');
  // ours → native
  const o = await KeyHolder.seal(keys, r.pk, info, aad);
  if (!bytesEqual(nativeOpen(r.sk, r.pk, o.enc, info, aad, o.ciphertext), keyBytes)) throw new Error('the native open of our seal gave other bytes');
  // a changed aad opens with neither
  const bad = new Uint8Array(aad);
  bad[0]! ^= 1;
  let refused = 0;
  try {
    nativeOpen(r.sk, r.pk, o.enc, info, bad, o.ciphertext);
  } catch {
    refused++;
  }
  await KeyHolder.openSealed(r.hpkeSk, n.enc, n.ciphertext, info, bad, dids).catch(() => refused++);
  if (refused !== 2) throw new Error('a changed aad opened');
}

async function hpkeCases(count: 1 | 2, info: Uint8Array, aad: Uint8Array): Promise<BenchCase[]> {
  const bytes = new Uint8Array(32 * count);
  const keys: KeyHolder[] = [];
  for (let i = 0; i < count; i++) {
    const k = generateK256PrivateKey();
    bytes.set(k, 32 * i);
    keys.push(KeyHolder.generate(() => k.slice()));
  }
  await checkNativeHpke(keys, bytes, info, aad);
  const r = await recipientPair();
  const dids = keys.map((k) => k.did);
  const suite = handoffSuite();
  const recipientPublicKey = await suite.kem.importKey('raw', new Uint8Array(r.pk).buffer, true);
  // The peer: the same suite with @hpke/dhkem-x25519's X25519 KEM (noble, pure JS); it must open what ours seals
  // before it is timed.
  const nobleSuite = new CipherSuite({ kem: new NobleX25519Kem(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
  const skRaw = r.sk.export({ format: 'der', type: 'pkcs8' }).subarray(X25519_PKCS8.length);
  const nobleSk = await nobleSuite.kem.importKey('raw', new Uint8Array(skRaw).buffer, false);
  const noblePk = await nobleSuite.kem.importKey('raw', new Uint8Array(r.pk).buffer, true);
  const probe = await KeyHolder.seal(keys, r.pk, info, aad);
  const infoBuf = new Uint8Array(info).buffer;
  const aadBuf = new Uint8Array(aad).buffer;
  const probeCt = new Uint8Array(probe.ciphertext).buffer;
  const nobleOpened = await nobleSuite.open({ recipientKey: nobleSk, enc: new Uint8Array(probe.enc).buffer, info: infoBuf }, probeCt, aadBuf);
  if (!bytesEqual(new Uint8Array(nobleOpened), bytes)) throw new Error('@hpke/core with @hpke/dhkem-x25519 does not open our seal');
  const what = `${count} key${count > 1 ? 's' : ''} (${32 * count} bytes)`;
  return [
    {
      row: `native: RFC 9180 on node:crypto, ${what}`,
      run: () => {
        const s = nativeSeal(r.pk, info, aad, bytes);
        return nativeOpen(r.sk, r.pk, s.enc, info, aad, s.ciphertext);
      },
    },
    {
      row: `peer: @hpke/core 1.9 + @hpke/dhkem-x25519 1.8 (X25519 in noble, pure JS), ${what}`,
      run: async () => {
        const s = await nobleSuite.seal({ recipientPublicKey: noblePk, info: infoBuf }, new Uint8Array(bytes).buffer, aadBuf);
        return nobleSuite.open({ recipientKey: nobleSk, enc: s.enc, info: infoBuf }, s.ct, aadBuf);
      },
      async: true,
    },
    {
      row: `@hpke/core 1.9 alone (X25519 in WebCrypto: the suite ours uses), ${what}`,
      run: async () => {
        const s = await suite.seal({ recipientPublicKey, info: infoBuf }, new Uint8Array(bytes).buffer, aadBuf);
        return suite.open({ recipientKey: r.hpkeSk, enc: s.enc, info: infoBuf }, s.ct, aadBuf);
      },
      async: true,
    },
    {
      row: `ours: KeyHolder.seal + KeyHolder.openSealed, ${what}`,
      run: async () => {
        const s = await KeyHolder.seal(keys, r.pk, info, aad);
        return KeyHolder.openSealed(r.hpkeSk, s.enc, s.ciphertext, info, aad, dids);
      },
      async: true,
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Two instances in process (what test/support/handoff.ts does, from src/ only).
// ---------------------------------------------------------------------------------------------------------------

interface Member {
  did: string;
  log: PlcAuditEntry[];
}

async function createMember(handle: string, at: Date): Promise<Member> {
  const keys = { rotationKey: generateMemberKey(), signingKey: generateMemberKey() };
  const { did, op } = await createMemberDid({ ...keys, handle, pds: 'https://pds.example' });
  return { did, log: [auditEntry(did, op, at)] };
}

function policyFor(members: Member[], overrides: Record<string, unknown>): LoadedPolicy {
  return parsePolicy({
    $type: 'dev.encumber.policy',
    version: 1,
    repository: 'did:plc:orgorgorgorgorgorgorgorg',
    signers: members.map((m) => ({ did: m.did, keyId: 'atproto' })),
    threshold: 2,
    collections: ['app.bsky.feed.post'],
    plc: { directory: 'http://127.0.0.1:1', source: 'supplied' },
    limits: { maxRecordBytes: 10_000 },
    ...overrides,
  });
}

type App = ReturnType<typeof createApp>;

/** One round trip as the joiner sees it: which call, when it left, when its answer was read. */
interface Trip {
  nsid: string;
  start: number;
  end: number;
}

/** fetch into an in-process app (Hono's `request`: routing, body limits, JSON both ways; no socket), timing each call. */
function fetchInto(app: App, trips: Trip[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const start = performance.now();
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const res = await app.request(url.pathname + url.search, {
      method: init?.method ?? 'GET',
      headers: init?.headers ?? {},
      ...(init?.body ? { body: init.body } : {}),
    });
    const text = await res.text();
    trips.push({ nsid: url.pathname.replace(/^\/xrpc\/(dev\.encumber\.)?/, ''), start, end: performance.now() });
    return new Response(text, { status: res.status, headers: res.headers });
  }) as typeof fetch;
}

/** An attestor that adds the time of each call to `spent.ms`. */
function timed(a: Attestor, spent: { ms: number }): Attestor {
  return {
    ...a,
    attest: async (req) => {
      const t = performance.now();
      try {
        return await a.attest(req);
      } finally {
        spent.ms += performance.now() - t;
      }
    },
  };
}

const unavailable = async (): Promise<never> => {
  throw new EncumberError('DirectoryUnavailable', 'the bench gives the joiner no directory');
};
const neverFires = () => () => {};

interface World {
  name: string;
  root: DevRoot;
  policy: LoadedPolicy;
  sender: SigningService;
  app: App;
  senderAttest: { ms: number };
  /** The guard state the sender hands over (DAG-CBOR), when guarded. */
  guardState?: Uint8Array;
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (ok()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function unguardedWorld(root: DevRoot, members: Member[]): World {
  const policy = policyFor(members, {});
  const senderAttest = { ms: 0 };
  const sender = bootService({ policy, attestor: timed(devAttestor(root, DIGEST), senderAttest), clock });
  return { name: 'unguarded', root, policy, sender, app: createApp({ service: sender }), senderAttest };
}

/**
 * A guarded sender whose guard log holds `entries` intrusions: the organisation DID lists [guard key, PDS key];
 * the guard's first poll sees the genesis (its baseline); then `entries` operations by the PDS key, each changing
 * the #atproto key, all more than 72 hours old at the next poll, which records each as not revertible
 * (DidGuardWindowPassed).
 */
async function guardedWorld(root: DevRoot, members: Member[]): Promise<World> {
  const guardBytes = generateK256PrivateKey();
  const guardDid = KeyHolder.generate(() => guardBytes.slice()).did;
  const pds = generateMemberKey();
  const atproto = [generateMemberKey().did, generateMemberKey().did];
  const start = '2026-05-01T00:00:00.000Z';
  const { op: genesis, did: org } = await plc.createOp({
    signingKey: atproto[0]!,
    rotationKeys: [guardDid, pds.did],
    handle: 'org.test',
    pds: 'https://pds.example',
    signer: plcSigner(pds) as never,
  });
  const full: PlcAuditEntry[] = [auditEntry(org, genesis as unknown as PlcOperation, minutes(start, 0))];
  let last = genesis as unknown as PlcOperation;
  for (let i = 1; i <= guardEntries; i++) {
    const next = (await plc.createUpdateOp(last as never, plcSigner(pds) as never, (n) => ({
      ...n,
      verificationMethods: { ...n.verificationMethods, atproto: atproto[i % 2]! },
    }))) as unknown as PlcOperation;
    full.push(auditEntry(org, next, minutes(start, i)));
    last = next;
  }
  let served = full.slice(0, 1);
  const timers: (() => void)[] = [];
  const policy = policyFor(members, {
    repository: org,
    plc: { directory: 'http://127.0.0.1:1', source: 'fetch' },
    didGuard: { enabled: true, pollSeconds: 60, revert: 'keys-and-pds' },
  });
  const senderAttest = { ms: 0 };
  const sender = bootService({
    policy,
    attestor: timed(devAttestor(root, DIGEST), senderAttest),
    clock,
    drawGuardKey: () => guardBytes.slice(),
    fetchLog: async (_source, did) => (did === org ? structuredClone(served) : unavailable()),
    guardTimer: (run) => {
      timers.push(run);
      return () => {};
    },
    submitPlcOp: unavailable,
  });
  await until('the first poll', () => sender.guardLog().lastPoll !== undefined);
  served = full;
  timers.shift()!();
  await until(`${guardEntries} guard log entries`, () => sender.guardLog().entries.length >= guardEntries);
  const log = sender.guardLog();
  const notRevertible = log.entries.every((e: GuardLogEntry) => e.outcome === 'not-revertible');
  if (log.baseline !== full[0]!.cid || log.entries.length !== guardEntries || !notRevertible) {
    throw new Error('the sender\'s guard log is not what the bench set up');
  }
  // What DidGuard.exportState hands over.
  const guardState = encodeCbor({ version: 1, baseline: log.baseline, entries: log.entries });
  return { name: 'guarded', root, policy, sender, app: createApp({ service: sender }), senderAttest, guardState };
}

interface HandoffSample {
  total: number;
  /** Boot of the joiner and its getUpgrades round trip, up to round 1. */
  boot: number;
  offer: number;
  senderAttest: number;
  between: number;
  joinerAttest: number;
  request: number;
  after: number;
}

/** One whole hand-off: a joiner booted with `join` until it serves; checked to hold the sender's keys. */
async function handoff(w: World, check: boolean): Promise<HandoffSample> {
  const trips: Trip[] = [];
  const joinerAttest = { ms: 0 };
  w.senderAttest.ms = 0;
  const config: ServiceConfig = {
    policy: w.policy,
    attestor: timed(devAttestor(w.root, DIGEST), joinerAttest),
    clock,
    join: { url: 'http://sender.test', fetch: fetchInto(w.app, trips) },
    ...(w.guardState ? { fetchLog: unavailable, guardTimer: neverFires, submitPlcOp: unavailable } : {}),
  };
  const t0 = performance.now();
  const joiner = bootService(config);
  const state = await joiner.settled();
  const t1 = performance.now();
  if (state !== 'serving') throw new Error(`the ${w.name} hand-off failed: ${joiner.failure?.code}: ${joiner.failure?.message}`);
  if (check) {
    const [s, j] = [w.sender.identity(), joiner.identity()];
    if (s.key !== j.key || s.guardKey !== j.guardKey) throw new Error(`the ${w.name} joiner holds other keys`);
    if (w.guardState && joiner.guardLog().entries.length !== guardEntries) throw new Error('the joiner did not take over the guard log');
  }
  const trip = (nsid: string): Trip => {
    const t = trips.find((x) => x.nsid === nsid);
    if (!t) throw new Error(`no ${nsid} round trip`);
    return t;
  };
  const [offer, request] = [trip('handoffOffer'), trip('handoffRequest')];
  return {
    total: t1 - t0,
    boot: offer.start - t0,
    offer: offer.end - offer.start,
    senderAttest: w.senderAttest.ms,
    between: request.start - offer.end,
    joinerAttest: joinerAttest.ms,
    request: request.end - request.start,
    after: t1 - request.end,
  };
}

/**
 * The protocol's native limit, called directly: the sender attests (offer: the enclave key, a document CID, Rn),
 * the joiner verifies it, the joiner attests (request: its X25519 key, a document CID, Sn), the sender verifies it,
 * then the native seal and open of the keys with the transcript's info and aad.
 */
function floorOf(w: World, info: Uint8Array, aad: Uint8Array, keyBytes: Uint8Array) {
  const attestor = devAttestor(w.root, DIGEST);
  const key = parseDidKey(w.sender.identity().key).compressed;
  const offerCid = cidForValue({ purpose: 'handoff-offer' }).bytes;
  const requestCid = cidForValue({ purpose: 'handoff-request' }).bytes;
  const opts = { devRoot: w.root.certificate, at: NOW, maxAgeMs: 5 * 60_000 };
  const recipient = generateKeyPairSync('x25519');
  const pk = rawPublic(recipient.publicKey);
  return async (): Promise<number> => {
    const t0 = performance.now();
    const rn = crypto.getRandomValues(new Uint8Array(32));
    const sn = crypto.getRandomValues(new Uint8Array(32));
    const e1 = await attestor.attest({ publicKey: key, bindingBytes: EMPTY, bindingCid: offerCid, nonce: rn, now: NOW });
    const v1 = verifyDevDocument(e1, { ...opts, expectedNonce: rn, expectedPublicKey: key, expectedUserData: offerCid });
    const e2 = await attestor.attest({ publicKey: pk, bindingBytes: EMPTY, bindingCid: requestCid, nonce: sn, now: NOW });
    const v2 = verifyDevDocument(e2, { ...opts, expectedNonce: sn, expectedPublicKey: pk, expectedUserData: requestCid });
    const s = nativeSeal(pk, info, aad, keyBytes);
    const opened = nativeOpen(recipient.privateKey, pk, s.enc, info, aad, s.ciphertext);
    if (!v1.ok || !v2.ok || !bytesEqual(opened, keyBytes)) throw new Error('the floor did not verify');
    return performance.now() - t0;
  };
}

/** A transcript of the size a hand-off of `w` seals with (the real offer and request are fresh per hand-off). */
function transcriptOf(policy: CID, key: string, guardKey: string | undefined, guardState: Uint8Array | undefined) {
  return handoffTranscript({
    offer: cidForValue({ purpose: 'handoff-offer' }),
    request: cidForValue({ purpose: 'handoff-request' }),
    challenge: new Uint8Array(32).fill(1),
    requesterNonce: new Uint8Array(32).fill(2),
    policy,
    key,
    ...(guardKey ? { guardKey } : {}),
    marks: [],
    ...(guardState ? { guardState } : {}),
  });
}

const f2 = (x: number) => x.toFixed(2);

async function handoffTables(root: DevRoot, members: Member[]): Promise<void> {
  const worlds = [unguardedWorld(root, members), await guardedWorld(root, members)];
  const floors = worlds.map((w) => {
    const id = w.sender.identity();
    const { info, aad } = transcriptOf(w.policy.cid, id.key, id.guardKey, w.guardState);
    return floorOf(w, info, aad, new Uint8Array(w.guardState ? 64 : 32).fill(7));
  });
  const samples = worlds.map(() => [] as HandoffSample[]);
  const floorMs = worlds.map(() => [] as number[]);
  const warmup = 5;
  for (let i = 0; i < warmup + handoffs; i++) {
    for (const [k, w] of worlds.entries()) {
      const s = await handoff(w, i === 0);
      const f = await floors[k]!();
      if (i >= warmup) {
        samples[k]!.push(s);
        floorMs[k]!.push(f);
      }
    }
  }
  const guardKiB = (worlds[1]!.guardState!.length / 1024).toFixed(1);
  console.log(
    `### whole hand-offs, dev platform, in process (${handoffs} of each, interleaved, after ${warmup} untimed; ms per hand-off)\n\n` +
      `guarded: the sender's DID guard log holds ${guardEntries} entries (${guardKiB} KiB of DAG-CBOR in the aad, base64 in the answer)\n`,
  );
  console.log('| hand-off | p50 ms | p95 ms | time ÷ floor (p50) |');
  console.log('|---|---:|---:|---:|');
  for (const [k, w] of worlds.entries()) {
    const total = samples[k]!.map((s) => s.total);
    const floor = floorMs[k]!;
    const [p50, p95, floor50] = [quantile(total, 0.5), quantile(total, 0.95), quantile(floor, 0.5)];
    console.log(`| ours: a joiner booted with join until it serves, ${w.name} | ${f2(p50)} | ${f2(p95)} | ${f2(p50 / floor50)}× |`);
    console.log(`| floor: 2 attestations + 2 verifications + native seal/open, ${w.name} | ${f2(floor50)} | ${f2(quantile(floor, 0.95))} | 1.00× |`);
  }
  console.log('\n### where a hand-off spends its time (p50 ms of each part, as the joiner sees the round trips)\n');
  const parts: [string, (s: HandoffSample) => number][] = [
    ['joiner boot + getUpgrades round trip', (s) => s.boot],
    ['round 1 (handoffOffer), whole', (s) => s.offer],
    ['  of which the sender\'s attestation of the offer', (s) => s.senderAttest],
    ['joiner between the rounds: own-measurement probe, offer evidence check, HPKE key, request', (s) => s.between],
    ['  attestations by the joiner (probe + request)', (s) => s.joinerAttest],
    ['round 2 (handoffRequest), whole: evidence check, seal, answer', (s) => s.request],
    ['joiner after round 2: guard state, open, install, serve', (s) => s.after],
    ['whole hand-off', (s) => s.total],
  ];
  console.log(`| part | ${worlds.map((w) => w.name).join(' | ')} |`);
  console.log(`|---|${worlds.map(() => '---:').join('|')}|`);
  for (const [name, f] of parts) console.log(`| ${name} | ${worlds.map((_, k) => f2(quantile(samples[k]!.map(f), 0.5))).join(' | ')} |`);
  console.log();
}

// ---------------------------------------------------------------------------------------------------------------
// One DID guard poll against @did-plc/lib's validation of the same log.
// ---------------------------------------------------------------------------------------------------------------

async function guardPollCases(): Promise<BenchCase[]> {
  const guard: MemberKey = generateMemberKey();
  const pds = generateMemberKey();
  const start = '2026-05-01T00:00:00.000Z';
  const { op: genesis, did } = await plc.createOp({
    signingKey: generateMemberKey().did,
    rotationKeys: [guard.did, pds.did],
    handle: 'org.test',
    pds: 'https://pds.example',
    signer: plcSigner(pds) as never,
  });
  const log: PlcAuditEntry[] = [auditEntry(did, genesis as unknown as PlcOperation, minutes(start, 0))];
  let last = genesis as unknown as PlcOperation;
  for (let i = 1; i < ops; i++) {
    const op = await plc.createUpdateOp(last as never, plcSigner(guard) as never, (n) => ({ ...n, alsoKnownAs: [`at://org${i}.test`] }));
    last = op as unknown as PlcOperation;
    log.push(auditEntry(did, last, minutes(start, i)));
  }
  const watcher = new DidGuard({
    did,
    policy: { enabled: true, pollSeconds: 60, revert: 'keys-and-pds' },
    guardKey: guard,
    fetchLog: async () => log,
    submit: unavailable,
    clock,
    timer: neverFires,
  });
  watcher.restore({ baseline: log[0]!.cid, entries: [] });
  const first = await watcher.poll();
  if (first.result !== 'clean' || first.head !== log.at(-1)!.cid) throw new Error(`the guard's poll is not clean: ${JSON.stringify(first)}`);
  const opList = log.map((e) => e.operation) as unknown as plc.CompatibleOpOrTombstone[];
  const verified = verifyAuditLogResumable(did, log, { now: NOW });
  if (!verified.verdict.ok || !verified.checkpoint) throw new Error('the organisation log does not verify');
  const nodes = verifiedNodes(verified.checkpoint);
  const plan = { state: verified.verdict.state, nodes, guardKey: guard.did, revert: 'keys-and-pds' as const, now: NOW };
  if (planGuard(plan).action !== 'none') throw new Error('the plan is not "none"');
  // The plan is microseconds: timed once here rather than as a row.
  const t0 = performance.now();
  for (let i = 0; i < PLAN_CALLS; i++) planGuard(plan);
  planMs = (performance.now() - t0) / PLAN_CALLS;
  await plc.validateOperationLog(did, opList);
  return [
    { row: LIB, run: () => plc.validateOperationLog(did, opList), async: true },
    {
      row: `ours: DidGuard.poll() (verify + plan, ${ops - 1} ops after the baseline)`,
      run: async () => {
        const p = await watcher.poll();
        if (p.result !== 'clean') throw new Error(p.code);
      },
      async: true,
    },
    {
      row: 'ours: verifyAuditLogResumable alone (the poll\'s verify half)',
      run: () => {
        const v = verifyAuditLogResumable(did, log, { now: NOW });
        if (!v.verdict.ok) throw new Error(v.verdict.error.message);
      },
    },
  ];
}
const LIB = '@did-plc/lib 0.0.4 validateOperationLog (op list)';
const PLAN_CALLS = 20_000;
let planMs = Number.NaN;

async function main(): Promise<void> {
  const began = performance.now();
  installLibsecp256k1();
  console.log(`node ${process.version}, ${process.arch}; ${rounds} interleaved rounds × ${ms} ms per row, median shown\n`);

  const root = createDevRoot({ now: new Date('2026-01-01T00:00:00.000Z'), validityDays: 3650 });
  const members = [await createMember('alice.test', NOW), await createMember('bob.test', NOW), await createMember('carol.test', NOW)];
  const policy = policyFor(members, {});
  const [k1, k2] = [KeyHolder.generate(), KeyHolder.generate()];
  const one = transcriptOf(policy.cid, k1.did, undefined, undefined);
  const two = transcriptOf(policy.cid, k1.did, k2.did, encodeCbor({ version: 1, baseline: members[0]!.log[0]!.cid, entries: [] }));
  const cases = [...(await hpkeCases(1, one.info, one.aad)), ...(await hpkeCases(2, two.info, two.aad))];
  console.log(
    `### HPKE seal + open of the keys (base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM; ` +
      `info ${one.info.length} / ${two.info.length} bytes, aad ${one.aad.length} / ${two.aad.length} bytes; ` +
      `the native construction reproduces RFC 9180 A.1.1 and interoperates both ways with ours)\n`,
  );
  const rows = await measure(cases);
  const n = cases.length / 2;
  // Ratios against the native limit and against the library our path calls.
  console.log(tableVs(rows.slice(0, n), [rows[0]!.name, rows[1]!.name], 'seal+open/s'));
  console.log();
  console.log(tableVs(rows.slice(n), [rows[n]!.name, rows[n + 1]!.name], 'seal+open/s'));
  console.log();

  await handoffTables(root, members);

  console.log(`### one DID guard poll: an organisation DID with a ${ops}-entry audit log\n`);
  const polls = await measure(await guardPollCases());
  console.log(tableVs(polls, [LIB], 'polls/s'));
  const by = (prefix: string) => polls.find((r) => r.name.startsWith(prefix))!.opsPerSec;
  const [lib, poll, verify] = [by(LIB), by('ours: DidGuard'), by('ours: verifyAuditLog')];
  const msPer = (x: number) => (1000 / x).toFixed(2);
  console.log(
    `\nms per call: lib ${msPer(lib)}, poll ${msPer(poll)}, verify alone ${msPer(verify)}, ` +
      `plan alone (planGuard, pure; mean of ${PLAN_CALLS} calls) ${(planMs * 1000).toFixed(1)} µs; ` +
      `the poll runs at ${f2(poll / lib)}× the lib's rate`,
  );
  console.log(`\n(${((performance.now() - began) / 1000).toFixed(1)} s)`);
}

await main();
