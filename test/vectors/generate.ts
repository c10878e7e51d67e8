/**
 * Writes the golden vectors in test/vectors/*.json (see README.md there).
 *
 *   node --import tsx test/vectors/generate.ts
 *
 * Run it only when a format changes on purpose: the committed JSON is the
 * contract other implementations check themselves against, and
 * test/vectors/vectors.test.ts checks our code against the committed files,
 * not against this script. Everything is deterministic: the demo member keys
 * and PLC logs in test/fixtures/demo, a fixed enclave key, a fixed clock, and
 * RFC 6979 signatures, so a run with no format change rewrites the same bytes.
 *
 * The identity and the valid signed record come from the real service
 * (getIdentity and signRecord over the in-process app); the service signs
 * through OpenSSL with random nonces, so the enclave's two signatures (payload
 * and receipt) are re-made here with RFC 6979, and the generator refuses to
 * write unless the rest of its record equals the service's answer. Tampered
 * variants are edited copies; where a variant must get past earlier rules,
 * the generator re-signs the parts with the enclave key (and the co-signers'
 * keys) exactly as the service would.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { encodeBase64 } from '../../src/crypto/encoding.ts';
import { encodeCbor } from '../../src/data/cbor.ts';
import { cidForValue } from '../../src/data/cid.ts';
import { jsonToIpld } from '../../src/data/json.ts';
import { parseRecordJson } from '../../src/data/record.ts';
import { k256DidKey, signK256 } from '../../src/crypto/k256-signer.ts';
import { cosignDraft, type Draft } from '../../src/member/cosign.ts';
import { parseMemberKeyFile, type MemberKey } from '../../src/member/keys.ts';
import { buildPayload, type IpldRecord } from '../../src/policy/payload.ts';
import { createWorld } from '../support/world.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const DEMO = join(HERE, '..', 'fixtures', 'demo');

export const ORG = 'did:plc:orgorgorgorgorgorgorgorg';
export const COLLECTION = 'app.bsky.feed.post';
/** A DID in no policy. */
const OUTSIDER = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
/** The enclave key's 32 bytes: SHA-256 of this label (a test key, public by construction). */
export const ENCLAVE_KEY_LABEL = 'encumber golden vectors: enclave key';
/** The service's clock for the whole run (binding createdAt, receipt signedAt). */
export const NOW = new Date('2026-02-01T00:00:00.000Z');

type Json = any;

interface DemoMember {
  name: string;
  did: string;
  key: MemberKey;
  log: Json[];
}

function demoMember(name: string): DemoMember {
  const log = JSON.parse(readFileSync(join(DEMO, `${name}.plc.json`), 'utf8')) as Json[];
  return { name, did: log[0].did, key: parseMemberKeyFile(readFileSync(join(DEMO, `${name}.key`), 'utf8')), log };
}

const b64 = (bytes: Uint8Array) => encodeBase64(bytes);
const clone = <T>(v: T): T => structuredClone(v);

function payloadOf(record: Json, repository: string, collection: string) {
  return buildPayload(parseRecordJson(record) as IpldRecord, repository, collection);
}

/** Every vector file's name and cases, computed afresh. */
export async function generateVectors(): Promise<Record<string, Json[]>> {
  const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(demoMember) as [DemoMember, DemoMember, DemoMember];
  const enclaveSecret = sha256(utf8ToBytes(ENCLAVE_KEY_LABEL));
  // The service signs through OpenSSL (random nonces); the vectors re-sign its parts with
  // RFC 6979 (deterministic) so that regeneration is reproducible.
  const enclave = { did: k256DidKey(enclaveSecret), sign: (message: Uint8Array) => signK256(enclaveSecret, message) };

  // ---- policy ---------------------------------------------------------------------------------
  const policy = {
    $type: 'dev.encumber.policy',
    version: 1,
    repository: ORG,
    signers: [alice, bob, carol].map((m) => ({ did: m.did, keyId: 'atproto' })),
    threshold: 2,
    collections: [COLLECTION],
    plc: { directory: 'https://plc.directory', source: 'supplied' },
    limits: { maxRecordBytes: 10_000 },
  };
  const policyVectors: Json[] = [
    policyCase('the 2-of-3 policy of the signed-record vectors (supplied PLC logs)', [], policy),
    policyCase('fetch mode with a mirror and a cache age, dedicated member keys', ['fetch', 'mirrors'], {
      ...policy,
      signers: policy.signers.map((s) => ({ ...s, keyId: 'encumber' })),
      threshold: 3,
      plc: { directory: 'https://plc.directory', mirrors: ['https://plc.mirror.example'], source: 'fetch', maxCacheAgeSeconds: 60 },
    }),
    { comment: 'threshold above the number of signers', tags: ['invalid'], policy: { ...policy, threshold: 4 }, expectedError: 'InvalidPolicy' },
    { comment: 'an unknown field (policies are strict)', tags: ['invalid'], policy: { ...policy, extra: true }, expectedError: 'InvalidPolicy' },
    { comment: 'a signer named twice', tags: ['invalid'], policy: { ...policy, signers: [policy.signers[0], policy.signers[0]] }, expectedError: 'InvalidPolicy' },
  ];

  // ---- the real service: identity, and a 2-of-3 signed record ----------------------------------
  const world = await createWorld({ members: [], policy, drawKey: () => enclaveSecret.slice(), clock: () => new Date(NOW) });
  const identityRes = await world.app.request('/xrpc/dev.encumber.getIdentity');
  const identity = (await identityRes.json()) as Json;
  if (identity.key !== enclave.did) throw new Error('the service did not take the fixed enclave key');

  const draftOf = (record: Json, collection = COLLECTION): Draft => ({ repository: ORG, collection, record, cosignatures: [] });
  const cosign = (draft: Draft, ...ms: DemoMember[]) => ms.reduce((d, m) => cosignDraft(d, m.key, m.did).draft, draft);
  const post = { $type: COLLECTION, text: 'Signed by two of three members of the org.', createdAt: '2026-01-15T12:00:00.000Z' };
  const logs = Object.fromEntries([alice, bob, carol].map((m) => [m.did, m.log]));
  const signRes = await world.app.request('/xrpc/dev.encumber.signRecord', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...cosign(draftOf(post), alice, bob), plcLogs: logs }),
  });
  const signed = (await signRes.json()) as Json;
  if (signRes.status !== 200) throw new Error(`signRecord: ${JSON.stringify(signed)}`);

  // ---- re-signing helpers (the service's rules, for tampered variants) -------------------------
  const signReceipt = (receipt: Json): Json => {
    const { sig: _old, ...unsigned } = receipt;
    return { ...unsigned, sig: { $bytes: b64(enclave.sign(encodeCbor(jsonToIpld(unsigned)))) } };
  };
  const headFor = (did: string): Json => clone((signed.receipt.heads as Json[]).find((h) => h.did === did));
  const heads: Record<string, Json> = Object.fromEntries([alice, bob].map((m) => [m.did, headFor(m.did)]));
  heads[carol.did] = { did: carol.did, cid: { $link: carol.log.at(-1).cid }, createdAt: carol.log.at(-1).createdAt, key: carol.key.did };

  /** The published record the service would write for `record` co-signed by `members` (receipt heads `headDids`). */
  const compose = (record: Json, members: DemoMember[], opts: { collection?: string; headDids?: string[] } = {}): Json => {
    const collection = opts.collection ?? record.$type;
    const payload = payloadOf(record, ORG, collection);
    const cosigned = cosign(draftOf(record, collection), ...members);
    const entries = members.map((m) => ({
      $type: 'dev.encumber.signature',
      issuer: m.did,
      key: m.key.did,
      sig: cosigned.cosignatures.find((c) => c.issuer === m.did)!.sig,
    }));
    const receipt = signReceipt({
      $type: 'dev.encumber.receipt',
      cid: { $link: payload.cid.toString() },
      policy: { $link: identity.policyCid },
      heads: (opts.headDids ?? members.map((m) => m.did)).map((did) => heads[did]),
      signedAt: NOW.toISOString(),
      sig: null,
    });
    const enclaveEntry = {
      $type: 'dev.encumber.signature',
      issuer: enclave.did,
      key: enclave.did,
      sig: { $bytes: b64(enclave.sign(payload.bytes)) },
      binding: { $link: identity.bindingCid },
      receipt,
    };
    return { ...record, signatures: [...entries, enclaveEntry] };
  };
  // The composer writes what the service wrote, up to the enclave's two (randomized) signatures.
  const valid = compose(post, [alice, bob]);
  const withoutEnclaveSigs = (r: Json) => {
    const c = clone(r);
    c.signatures.at(-1).sig = null;
    c.signatures.at(-1).receipt.sig = null;
    return JSON.stringify(c);
  };
  if (withoutEnclaveSigs(valid) !== withoutEnclaveSigs(signed.record)) {
    throw new Error('the generator no longer composes records the way the service does');
  }
  /** Re-sign the enclave entry (payload and receipt) of an edited record. */
  const resignEnclave = (record: Json): Json => {
    const r = clone(record);
    const last = r.signatures.at(-1);
    const payload = payloadOf(r, ORG, r.$type);
    last.sig = { $bytes: b64(enclave.sign(payload.bytes)) };
    last.receipt = signReceipt({ ...last.receipt, cid: { $link: payload.cid.toString() } });
    return r;
  };
  const flipBit = (b: string, byte: number): string => {
    const bytes = jsonToIpld({ $bytes: b }) as Uint8Array;
    bytes[byte]! ^= 0x01;
    return b64(bytes);
  };
  const edit = (f: (r: Json) => void): Json => {
    const r = clone(valid);
    f(r);
    return r;
  };

  // ---- payload → CID ---------------------------------------------------------------------------
  const payloadCase = (comment: string, tags: string[], record: Json, collection = record.$type, repository = ORG): Json => {
    const p = payloadOf(record, repository, collection);
    return { comment, tags, repository, collection, record, payloadCborBase64: b64(p.bytes), cid: p.cid.toString() };
  };
  const payloadVectors: Json[] = [
    payloadCase('a plain post: the record plus $sig {$type, repository, collection}', [], post),
    payloadCase('"signatures" is not part of the payload (the published record hashes to the same CID)', ['signatures'], valid),
    payloadCase('bytes', ['bytes'], { $type: 'com.example.note', data: { $bytes: 'AAECAwQFBgcICQ' }, createdAt: '2026-01-15T12:00:00.000Z' }),
    payloadCase('a CID link and a blob', ['link', 'blob'], {
      $type: 'com.example.photo',
      parent: { $link: 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a' },
      image: { $type: 'blob', ref: { $link: 'bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity' }, mimeType: 'image/jpeg', size: 10000 },
    }),
    payloadCase('nested maps and arrays, keys sorted by DAG-CBOR rules (length first), unicode, integers, null, booleans', ['nested'], {
      $type: 'com.example.nested',
      zz: { b: [1, -2, 9007199254740991, { deep: [true, false, null] }], aa: 'a~öñ©⽘☎𓋓😀👨‍👩‍👧‍👧' },
      a: [],
      bb: {},
    }),
    payloadCase('the same record for another repository has another CID', ['repository'], post, COLLECTION, 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'),
    { comment: 'a record that carries its own $sig', tags: ['invalid'], repository: ORG, collection: COLLECTION, record: { ...post, $sig: {} }, expectedError: 'InvalidRequest' },
    { comment: 'the record $type is not the collection', tags: ['invalid'], repository: ORG, collection: 'app.bsky.feed.like', record: post, expectedError: 'InvalidRequest' },
    { comment: 'a float is not atproto data model', tags: ['invalid'], repository: ORG, collection: COLLECTION, record: { ...post, n: 1.5 }, expectedError: 'InvalidDataModel' },
  ];

  // ---- signature entries -------------------------------------------------------------------------
  const validPayload = payloadOf(post, ORG, COLLECTION);
  const [aliceEntry, bobEntry, enclaveEntry] = valid.signatures as [Json, Json, Json];
  const entryCase = (comment: string, tags: string[], entry: Json, validSignature: boolean, payloadBytes = validPayload.bytes) => ({
    comment,
    tags,
    payloadCborBase64: b64(payloadBytes),
    entry,
    validSignature,
  });
  const otherPayload = payloadOf({ ...post, text: 'another text' }, ORG, COLLECTION).bytes;
  const cosignerVectors: Json[] = [
    entryCase('a member\'s entry (k256, #atproto key): ECDSA over SHA-256 of the payload DAG-CBOR, compact, low-S', [], aliceEntry, true),
    entryCase('another member\'s entry', [], bobEntry, true),
    entryCase('a valid entry checked against another payload', ['wrong-payload'], aliceEntry, false, otherPayload),
    entryCase('one bit of r flipped', ['tampered'], { ...aliceEntry, sig: { $bytes: flipBit(aliceEntry.sig.$bytes, 5) } }, false),
    entryCase('the entry names another member\'s key', ['wrong-key'], { ...aliceEntry, key: bob.key.did }, false),
    entryCase('s replaced by n - s (high-S; the curve math still verifies)', ['high-s'], { ...aliceEntry, sig: { $bytes: highS(aliceEntry.sig.$bytes) } }, false),
  ];
  const enclaveVectors: Json[] = [
    { ...entryCase('the enclave entry: by the enclave did:key, naming the binding, carrying the receipt', [], enclaveEntry, true), bindingCid: identity.bindingCid },
    { ...entryCase('the enclave entry checked against another payload', ['wrong-payload'], enclaveEntry, false, otherPayload), bindingCid: identity.bindingCid },
  ];

  // ---- receipt ----------------------------------------------------------------------------------
  const receipt = valid.signatures.at(-1).receipt as Json;
  const receiptCase = (comment: string, tags: string[], r: Json, validSignature: boolean) => {
    const { sig: _s, ...unsigned } = r;
    return { comment, tags, enclaveKey: enclave.did, receipt: r, unsignedCborBase64: b64(encodeCbor(jsonToIpld(unsigned))), validSignature };
  };
  const receiptVectors: Json[] = [
    receiptCase('the receipt of the valid signed record: sig over the DAG-CBOR of the receipt without sig', [], receipt, true),
    receiptCase('one bit of the signature flipped', ['tampered'], { ...receipt, sig: { $bytes: flipBit(receipt.sig.$bytes, 3) } }, false),
    receiptCase('signedAt changed after signing', ['tampered'], { ...receipt, signedAt: '2026-02-01T00:00:01.000Z' }, false),
  ];

  // ---- binding ----------------------------------------------------------------------------------
  const bindingCase = (comment: string, tags: string[], binding: Json) => {
    const ipld = jsonToIpld(binding);
    return { comment, tags, binding, cborBase64: b64(encodeCbor(ipld)), cid: cidForValue(ipld).toString() };
  };
  const bindingVectors: Json[] = [
    bindingCase('the binding of the signed-record vectors (platform dev), as getIdentity serves it', ['dev'], identity.binding),
    bindingCase('the same key and policy on Nitro', ['nitro'], { ...identity.binding, platform: 'nitro' }),
  ];
  if (bindingVectors[0].cid !== identity.bindingCid) throw new Error('binding CID differs from the identity');

  // ---- signed records: valid, and tampered with their expected codes ------------------------------
  const recordCase = (comment: string, tags: string[], record: Json, expected: Json, opts: { identity?: Json; plcLogs?: Json; location?: Json } = {}) => ({
    comment,
    tags,
    identity: opts.identity ?? identity,
    record,
    ...(opts.plcLogs ? { plcLogs: opts.plcLogs } : {}),
    ...(opts.location ? { location: opts.location } : {}),
    expected,
  });
  const tamperedLog = clone(bob.log);
  tamperedLog[0].operation.alsoKnownAs = ['at://mallory.example'];
  const ok = { valid: true, cid: signed.cid, cosigners: [alice.did, bob.did] };
  const bad = (error: string) => ({ valid: false, error });
  const recordVectors: Json[] = [
    recordCase('a 2-of-3 record as signRecord returned it, with the getIdentity answer', ['valid'], valid, ok),
    recordCase('the same, with the co-signers\' audit logs (each entry\'s key re-derived at the receipt\'s head)', ['valid', 'plc-logs'], valid, ok, { plcLogs: logs }),
    recordCase('text changed after signing', ['enclave'], edit((r) => (r.text = 'changed after signing')), bad('EnclaveSignatureInvalid')),
    recordCase('enclave entry removed', ['enclave'], edit((r) => r.signatures.pop()), bad('MissingEnclaveSignature')),
    recordCase('signatures empty', ['enclave'], edit((r) => (r.signatures = [])), bad('MissingEnclaveSignature')),
    recordCase('the last entry is not by the enclave key (enclave entry moved first)', ['enclave'], edit((r) => r.signatures.unshift(r.signatures.pop())), bad('MissingEnclaveSignature')),
    recordCase('receipt for another payload (re-signed by the enclave key)', ['receipt'], edit((r) => {
      const last = r.signatures.at(-1);
      last.receipt = signReceipt({ ...last.receipt, cid: { $link: payloadOf({ ...post, text: 'another text' }, ORG, COLLECTION).cid.toString() } });
    }), bad('ReceiptInvalid')),
    recordCase('receipt signature bit-flipped', ['receipt'], edit((r) => {
      const last = r.signatures.at(-1);
      last.receipt.sig = { $bytes: flipBit(last.receipt.sig.$bytes, 3) };
    }), bad('ReceiptInvalid')),
    recordCase('receipt missing', ['receipt'], edit((r) => delete r.signatures.at(-1).receipt), bad('ReceiptInvalid')),
    recordCase('the receipt has no head for a co-signer (re-signed by the enclave key)', ['receipt'], compose(post, [alice, bob], { headDids: [alice.did] }), bad('ReceiptInvalid')),
    recordCase('a co-signer entry\'s sig bit-flipped (enclave signature and receipt still valid)', ['cosigner'], edit((r) => {
      r.signatures[1].sig = { $bytes: flipBit(r.signatures[1].sig.$bytes, 5) };
    }), bad('InvalidCosignature')),
    recordCase('a co-signer entry by a DID that is not in the policy', ['cosigner'], edit((r) => (r.signatures[1].issuer = OUTSIDER)), bad('UnknownSigner')),
    recordCase('only one co-signer (re-signed by the enclave key)', ['cosigner', 'threshold'], compose(post, [alice]), bad('InsufficientCosigners')),
    recordCase('two entries by the same member', ['cosigner', 'duplicate'], edit((r) => (r.signatures[1] = clone(r.signatures[0]))), bad('InvalidCosignature')),
    recordCase('identity: the policy does not hash to policyCid (threshold lowered)', ['identity'], valid, bad('BindingMismatch'), {
      identity: { ...identity, policy: { ...identity.policy, threshold: 1 } },
    }),
    recordCase('identity: the binding does not hash to bindingCid (createdAt changed)', ['identity'], valid, bad('BindingMismatch'), {
      identity: { ...identity, binding: { ...identity.binding, createdAt: '2026-02-01T00:00:01.000Z' } },
    }),
    recordCase('record $type not in the policy\'s collections (co-signed and signed as that collection)', ['collection'], compose({ ...post, $type: 'app.bsky.feed.like' }, [alice, bob]), bad('CollectionNotAllowed')),
    recordCase('published where its at:// URI says: the policy\'s repository, its $type\'s collection', ['valid', 'location'], valid, ok, {
      location: { repository: ORG, collection: COLLECTION },
    }),
    recordCase('published in another repository', ['location'], valid, bad('RepositoryNotAllowed'), {
      location: { repository: OUTSIDER, collection: COLLECTION },
    }),
    recordCase('published in another collection than its $type', ['location'], valid, bad('CollectionNotAllowed'), {
      location: { repository: ORG, collection: 'app.bsky.feed.like' },
    }),
    recordCase('audit logs given, but none for one co-signer', ['plc-logs'], valid, bad('MissingPlcLog'), {
      plcLogs: { [alice.did]: alice.log },
    }),
    recordCase('a co-signer\'s audit log altered (its operation no longer matches its signature)', ['plc-logs'], valid, bad('InvalidPlcLog'), {
      plcLogs: { [alice.did]: alice.log, [bob.did]: tamperedLog },
    }),
    recordCase('a co-signer\'s audit log is another DID\'s log', ['plc-logs'], valid, bad('InvalidPlcLog'), {
      plcLogs: { [alice.did]: alice.log, [bob.did]: carol.log },
    }),
    recordCase('the enclave entry re-signed over an edited text, co-signatures left as they were', ['cosigner'], resignEnclave(edit((r) => (r.text = 'edited, enclave re-signed'))), bad('InvalidCosignature')),
  ];

  return {
    'payload-cid.json': payloadVectors,
    'cosigner-entry.json': cosignerVectors,
    'enclave-entry.json': enclaveVectors,
    'receipt.json': receiptVectors,
    'binding.json': bindingVectors,
    'policy.json': policyVectors,
    'signed-record.json': recordVectors,
  };
}

/** The text of a vector file as committed. */
export function vectorFileText(cases: Json[]): string {
  return JSON.stringify(cases, null, 2) + '\n';
}

function policyCase(comment: string, tags: string[], policy: Json): Json {
  const ipld = jsonToIpld(policy);
  return { comment, tags, policy, cborBase64: encodeBase64(encodeCbor(ipld)), cid: cidForValue(ipld).toString() };
}

/** The same signature with s replaced by n - s (secp256k1). */
function highS(sigB64: string): string {
  const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const sig = jsonToIpld({ $bytes: sigB64 }) as Uint8Array;
  const s = BigInt('0x' + Buffer.from(sig.slice(32)).toString('hex'));
  const hs = (N - s).toString(16).padStart(64, '0');
  const out = new Uint8Array(64);
  out.set(sig.slice(0, 32));
  out.set(Buffer.from(hs, 'hex'), 32);
  return encodeBase64(out);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [name, cases] of Object.entries(await generateVectors())) writeFileSync(join(HERE, name), vectorFileText(cases));
}
