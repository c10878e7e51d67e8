/**
 * The lexicons in src/lexicons and the zod schemas at the edge describe the
 * same API, checked both ways with @atproto/lexicon:
 * - over the running app, valid requests pass the lexicon and real answers
 *   (getIdentity, getAttestation, signRecord on a 2-of-3 draft) validate as
 *   the lexicon's output, with no field the lexicon does not name; the
 *   documents inside them (binding, policy, receipt, signature entries,
 *   payload $sig) validate as their own lexicon types;
 * - the zod schemas name the same fields as the lexicons, with the same ones
 *   required;
 * - requests the lexicon calls invalid are refused: by the zod schema for
 *   shape errors (missing field, wrong type, too many items), by the app with
 *   a 4xx code for format errors the zod schema leaves to the service.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { z } from 'zod';
import { approveUpgradeBody, attestationQuery, handoffOfferBody, handoffRequestBody, signRecordBody } from '../../src/server/schemas.ts';
import { DIGEST_B, handoffWorld, upgradeDraft } from '../support/handoff.ts';
import { policySchema } from '../../src/policy/schema.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { cosignBy, createWorld, draftFor, withLogs, type World } from '../support/world.ts';
import {
  assertValidDocument,
  lexiconAcceptsInput,
  lexiconAcceptsParams,
  lexicons,
  procedure,
  query,
  type Answer,
} from './support.ts';
import { guardedWorld, nextOp, plcOpRequest } from '../support/did-guard.ts';
import { signPlcOpBody } from '../../src/server/schemas.ts';
import { jsonToLex } from '@atproto/lexicon';

let w: World;
let identity: Answer;
let attestation: Answer;
let signed: Answer;
let draft: Record<string, any>;

before(async () => {
  w = await createWorld();
  const [a, b] = w.members;
  draft = withLogs(cosignBy(draftFor('contract'), a!, b!), w.members);
  identity = await query(w.app, 'dev.encumber.getIdentity');
  attestation = await query(w.app, 'dev.encumber.getAttestation', { nonce: '00ff'.repeat(8) });
  signed = await procedure(w.app, 'dev.encumber.signRecord', draft);
});

type ObjectDef = { type: string; required?: string[]; properties: Record<string, unknown> };

function def(uri: string): ObjectDef {
  return lexicons.getDefOrThrow(uri) as unknown as ObjectDef;
}

function outputSchema(nsid: string): ObjectDef {
  return (lexicons.getDefOrThrow(`lex:${nsid}#main`) as unknown as { output: { schema: ObjectDef } }).output.schema;
}

/** Every field of `value` is named by the lexicon object `d` (besides `$type`), and every required one is present. */
function assertSameFields(what: string, value: Record<string, unknown>, d: ObjectDef): void {
  const named = new Set(Object.keys(d.properties));
  const extra = Object.keys(value).filter((k) => k !== '$type' && !named.has(k));
  assert.deepEqual(extra, [], `${what}: fields the lexicon does not name`);
  const missing = (d.required ?? []).filter((k) => !(k in value));
  assert.deepEqual(missing, [], `${what}: required fields missing`);
}

/** zod object: its keys, and which of them are required. */
function zodFields(schema: z.ZodObject): { keys: string[]; required: string[] } {
  const keys = Object.keys(schema.shape).sort();
  const required = keys.filter((k) => !(schema.shape[k] as z.ZodType).safeParse(undefined).success);
  return { keys, required };
}

test('getIdentity: the answer is the lexicon output; binding and policy validate as their types', () => {
  assert.equal(identity.status, 200);
  lexicons.assertValidXrpcOutput('dev.encumber.getIdentity', jsonToLex(identity.json));
  assertSameFields('getIdentity output', identity.json, outputSchema('dev.encumber.getIdentity'));
  assertValidDocument('dev.encumber.binding', identity.json.binding);
  assertSameFields('binding', identity.json.binding, def('lex:dev.encumber.binding#main'));
  assertValidDocument('dev.encumber.policy', identity.json.policy);
  assertSameFields('policy', identity.json.policy, def('lex:dev.encumber.policy#main'));
  assert.equal(identity.json.binding.$type, 'dev.encumber.binding');
  assert.equal(identity.json.policy.$type, 'dev.encumber.policy');
});

test('getAttestation: the nonce is valid params; the answer is the lexicon output', () => {
  assert.ok(lexiconAcceptsParams('dev.encumber.getAttestation', { nonce: '00ff'.repeat(8) }));
  assert.equal(attestation.status, 200);
  lexicons.assertValidXrpcOutput('dev.encumber.getAttestation', jsonToLex(attestation.json));
  assertSameFields('getAttestation output', attestation.json, outputSchema('dev.encumber.getAttestation'));
  assertValidDocument('dev.encumber.binding', attestation.json.binding);
});

test('signRecord: the 2-of-3 draft is valid input; the answer and every document in it validate', () => {
  assert.ok(lexiconAcceptsInput('dev.encumber.signRecord', draft));
  assert.equal(signed.status, 200, JSON.stringify(signed.json));
  lexicons.assertValidXrpcOutput('dev.encumber.signRecord', jsonToLex(signed.json));
  assertSameFields('signRecord output', signed.json, outputSchema('dev.encumber.signRecord'));

  const entries = signed.json.record.signatures as Record<string, unknown>[];
  assert.equal(entries.length, 3);
  for (const [i, entry] of entries.entries()) {
    assert.equal(entry.$type, 'dev.encumber.signature');
    assertValidDocument('dev.encumber.signature', entry);
    assertSameFields(`signature entry ${i}`, entry, def('lex:dev.encumber.signature#main'));
  }
  assert.deepEqual(entries.at(-1), signed.json.signature);
  assertValidDocument('dev.encumber.receipt', signed.json.receipt);
  assertSameFields('receipt', signed.json.receipt, def('lex:dev.encumber.receipt#main'));
  for (const [i, head] of (signed.json.receipt.heads as Record<string, unknown>[]).entries()) {
    assertSameFields(`receipt head ${i}`, head, def('lex:dev.encumber.receipt#head'));
  }
  // The payload's $sig, as the co-signers built it.
  const sig = { $type: 'dev.encumber.payload', repository: draft.repository, collection: draft.collection };
  assertValidDocument('dev.encumber.payload', sig);
});

test('the lexicon validator is not lenient about these documents (a broken receipt fails)', () => {
  const broken = { ...signed.json.receipt, sig: { $bytes: 'AAAA' } };
  assert.throws(() => assertValidDocument('dev.encumber.receipt', broken));
  const noPolicy = { ...identity.json.binding };
  delete noPolicy.policy;
  assert.throws(() => assertValidDocument('dev.encumber.binding', noPolicy));
});

test('the zod schemas name the same fields as the lexicons, with the same ones required', () => {
  const input = (lexicons.getDefOrThrow('lex:dev.encumber.signRecord#main') as unknown as { input: { schema: ObjectDef } }).input.schema;
  const body = zodFields(signRecordBody);
  assert.deepEqual(body.keys, Object.keys(input.properties).sort());
  assert.deepEqual(body.required, [...(input.required ?? [])].sort());

  const cosig = def('lex:dev.encumber.signRecord#cosignature');
  const item = zodFields((signRecordBody.shape.cosignatures as z.ZodArray<z.ZodObject>).element);
  assert.deepEqual(item.keys, Object.keys(cosig.properties).sort());
  assert.deepEqual(item.required, [...(cosig.required ?? [])].sort());

  const params = (lexicons.getDefOrThrow('lex:dev.encumber.getAttestation#main') as unknown as { parameters: ObjectDef }).parameters;
  const q = zodFields(attestationQuery);
  assert.deepEqual(q.keys, Object.keys(params.properties).sort());
  assert.deepEqual(q.required, [...(params.required ?? [])].sort());
});

/** Requests whose shape the lexicon refuses: the zod schema refuses each too, and the app answers 400 InvalidRequest. */
const badBodies: [string, (d: Record<string, any>) => unknown][] = [
  ['empty body {}', () => ({})],
  ['repository missing', ({ repository: _, ...d }) => d],
  ['collection missing', ({ collection: _, ...d }) => d],
  ['record missing', ({ record: _, ...d }) => d],
  ['cosignatures missing', ({ cosignatures: _, ...d }) => d],
  ['repository not a string', (d) => ({ ...d, repository: 42 })],
  ['record not an object', (d) => ({ ...d, record: 'text' })],
  ['cosignatures not an array', (d) => ({ ...d, cosignatures: {} })],
  ['65 co-signatures (lexicon maxLength 64)', (d) => ({ ...d, cosignatures: Array.from({ length: 65 }, () => d.cosignatures[0]) })],
  ['co-signature without issuer', (d) => ({ ...d, cosignatures: [{ sig: d.cosignatures[0].sig }] })],
  ['co-signature sig not bytes', (d) => ({ ...d, cosignatures: [{ issuer: d.cosignatures[0].issuer, sig: 'AAAA' }] })],
  ['co-signature $bytes not a string', (d) => ({ ...d, cosignatures: [{ issuer: d.cosignatures[0].issuer, sig: { $bytes: 7 } }] })],
];

for (const [name, make] of badBodies) {
  test(`signRecord, lexicon-invalid shape refused by zod and the app: ${name}`, async () => {
    const body = make(draft);
    assert.equal(lexiconAcceptsInput('dev.encumber.signRecord', body), false, 'the lexicon accepts it');
    assert.equal(signRecordBody.safeParse(body).success, false, 'zod accepts it');
    const res = await procedure(w.app, 'dev.encumber.signRecord', body);
    assert.equal(res.status, 400);
    assert.equal(res.json.error, 'InvalidRequest');
  });
}

/** Formats (did, nsid) the zod schema leaves to the service: the app still refuses each with a 4xx. */
const badFormats: [string, (d: Record<string, any>) => unknown, string][] = [
  ['repository not a DID', (d) => ({ ...d, repository: 'org.example' }), 'RepositoryNotAllowed'],
  ['collection not an NSID', (d) => ({ ...d, collection: 'not an nsid' }), 'CollectionNotAllowed'],
  ['collection longer than an NSID may be', (d) => ({ ...d, collection: `a.b.${'c'.repeat(400)}` }), 'InvalidRequest'],
  ['issuer not a DID', (d) => ({ ...d, cosignatures: [{ ...d.cosignatures[0], issuer: 'alice' }, d.cosignatures[1]] }), 'UnknownSigner'],
];

for (const [name, make, code] of badFormats) {
  test(`signRecord, lexicon-invalid format refused by the app: ${name}`, async () => {
    const body = make(draft);
    assert.equal(lexiconAcceptsInput('dev.encumber.signRecord', body), false, 'the lexicon accepts it');
    const res = await procedure(w.app, 'dev.encumber.signRecord', body);
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
    assert.equal(res.json.error, code);
  });
}

const badParams: [string, Record<string, string>][] = [
  ['no nonce', {}],
  ['one hex digit (lexicon minLength 2)', { nonce: 'a' }],
  ['65 bytes of hex (lexicon maxLength 128)', { nonce: 'ab'.repeat(65) }],
];

for (const [name, params] of badParams) {
  test(`getAttestation, lexicon-invalid params refused by zod and the app: ${name}`, async () => {
    assert.equal(lexiconAcceptsParams('dev.encumber.getAttestation', params), false, 'the lexicon accepts it');
    assert.equal(attestationQuery.safeParse(params).success, false, 'zod accepts it');
    const res = await query(w.app, 'dev.encumber.getAttestation', params);
    assert.equal(res.status, 400);
    assert.equal(res.json.error, 'InvalidRequest');
  });
}

test('the policy: the zod schema names the same fields as the lexicon, at every level, with the same ones required', () => {
  const pairs: [string, z.ZodObject, string][] = [
    ['policy', policySchema as unknown as z.ZodObject, 'lex:dev.encumber.policy#main'],
    ['signer', policySchema.shape.signers.element as unknown as z.ZodObject, 'lex:dev.encumber.policy#signer'],
    ['plc', policySchema.shape.plc as unknown as z.ZodObject, 'lex:dev.encumber.policy#plc'],
    ['limits', policySchema.shape.limits as unknown as z.ZodObject, 'lex:dev.encumber.policy#limits'],
  ];
  for (const [name, schema, uri] of pairs) {
    const d = def(uri);
    const fields = zodFields(schema);
    // `$type` names the document; lexicon objects carry it implicitly.
    assert.deepEqual(fields.keys.filter((k) => k !== '$type'), Object.keys(d.properties).sort(), name);
    assert.deepEqual(fields.required.filter((k) => k !== '$type'), [...(d.required ?? [])].sort(), name);
  }
});

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Policies outside the lexicon's bounds: parsePolicy (the zod schema) refuses each with InvalidPolicy. */
const badPolicies: [string, (p: Record<string, any>) => unknown][] = [
  ['no signers (minLength 1)', (p) => ({ ...p, signers: [] })],
  ['65 signers (maxLength 64)', (p) => ({ ...p, signers: Array.from({ length: 65 }, (_, i) => ({ did: `did:plc:${'a'.repeat(22)}${B32[i % 32]}${B32[Math.floor(i / 32)]}`, keyId: 'atproto' })) })],
  ['no collections (minLength 1)', (p) => ({ ...p, collections: [] })],
  ['65 collections (maxLength 64)', (p) => ({ ...p, collections: Array.from({ length: 65 }, (_, i) => `com.example.c${i}`) })],
  ['threshold 0 (minimum 1)', (p) => ({ ...p, threshold: 0 })],
  ['version 2 (const 1)', (p) => ({ ...p, version: 2 })],
  ['maxRecordBytes 63 (minimum 64)', (p) => ({ ...p, limits: { maxRecordBytes: 63 } })],
  ['maxRecordBytes 1000001 (maximum 1000000)', (p) => ({ ...p, limits: { maxRecordBytes: 1_000_001 } })],
  ['keyId empty (minLength 1)', (p) => ({ ...p, signers: p.signers.map((s: object) => ({ ...s, keyId: '' })) })],
  ['keyId of 65 characters (maxLength 64)', (p) => ({ ...p, signers: p.signers.map((s: object) => ({ ...s, keyId: 'k'.repeat(65) })) })],
  ['maxCacheAgeSeconds 3601 (maximum 3600)', (p) => ({ ...p, plc: { ...p.plc, source: 'fetch', maxCacheAgeSeconds: 3601 } })],
  ['9 mirrors (maxLength 8)', (p) => ({ ...p, plc: { ...p.plc, source: 'fetch', mirrors: Array.from({ length: 9 }, (_, i) => `https://m${i}.example`) } })],
  ['plc without source', (p) => ({ ...p, plc: { directory: p.plc.directory } })],
  ['limits missing', ({ limits: _, ...p }) => p],
];

for (const [name, make] of badPolicies) {
  test(`policy outside the lexicon refused by the zod schema: ${name}`, () => {
    const policy = make(identity.json.policy);
    assert.equal(lexicons.validate('lex:dev.encumber.policy', jsonToLex(policy as never)).success, false, 'the lexicon accepts it');
    assert.throws(() => parsePolicy(policy), (e: { code?: string }) => e.code === 'InvalidPolicy');
  });
}

test('the edges of the policy lexicon are accepted by both (64 signers and collections, 1000000 bytes, 3600 s, 8 mirrors)', () => {
  const p = identity.json.policy;
  const edge = {
    ...p,
    signers: Array.from({ length: 64 }, (_, i) => ({ did: `did:plc:${'a'.repeat(22)}${B32[i % 32]}${B32[Math.floor(i / 32)]}`, keyId: 'k'.repeat(64) })),
    collections: Array.from({ length: 64 }, (_, i) => `com.example.c${i}`),
    limits: { maxRecordBytes: 1_000_000 },
    plc: { directory: 'https://plc.example', source: 'fetch', maxCacheAgeSeconds: 3600, mirrors: Array.from({ length: 8 }, (_, i) => `https://m${i}.example`) },
  };
  assertValidDocument('dev.encumber.policy', edge);
  assert.doesNotThrow(() => parsePolicy(edge));
});

test('key hand-off: real requests are valid input, real answers the lexicon output; both documents validate as dev.encumber.handoff; zod names the lexicons\' fields', async () => {
  const w = await handoffWorld();
  const r = await w.join();
  assert.equal(r.service.state, 'serving');
  for (const e of r.exchanges) {
    const nsid = e.path.replace('/xrpc/', '');
    assert.ok(lexiconAcceptsInput(nsid, e.request), `${nsid}: the request is not valid lexicon input`);
    lexicons.assertValidXrpcOutput(nsid, jsonToLex(e.answer as never));
    assertSameFields(`${nsid} output`, e.answer, outputSchema(nsid));
  }
  const [offer, request] = r.exchanges as [any, any];
  assertValidDocument('dev.encumber.handoff', offer.answer.offer);
  assertValidDocument('dev.encumber.handoff', request.request.request);
  for (const doc of [offer.answer.offer, request.request.request]) assertSameFields('handoff document', doc, def('lex:dev.encumber.handoff#main'));
  for (const [nsid, schema] of [['dev.encumber.handoffOffer', handoffOfferBody], ['dev.encumber.handoffRequest', handoffRequestBody]] as const) {
    const input = (lexicons.getDefOrThrow(`lex:${nsid}#main`) as unknown as { input: { schema: ObjectDef } }).input.schema;
    const body = zodFields(schema);
    assert.deepEqual(body.keys, Object.keys(input.properties).sort(), nsid);
    assert.deepEqual(body.required, [...(input.required ?? [])].sort(), nsid);
  }
});

test('upgrades: a real approveUpgrade request is valid input, its answer and getUpgrades the lexicon output; the statement validates as dev.encumber.upgrade; zod names the input\'s fields', async () => {
  const [a, b] = w.members;
  const body = upgradeDraft(w.policy.cid, [DIGEST_B], [a!, b!], w.members);
  assert.ok(lexiconAcceptsInput('dev.encumber.approveUpgrade', body), 'the request is not valid lexicon input');
  const approved = await procedure(w.app, 'dev.encumber.approveUpgrade', body);
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  lexicons.assertValidXrpcOutput('dev.encumber.approveUpgrade', jsonToLex(approved.json as never));
  assertSameFields('approveUpgrade output', approved.json, def('lex:dev.encumber.upgrade#approval'));
  const listed = await query(w.app, 'dev.encumber.getUpgrades');
  lexicons.assertValidXrpcOutput('dev.encumber.getUpgrades', jsonToLex(listed.json as never));
  assertSameFields('getUpgrades output', listed.json, outputSchema('dev.encumber.getUpgrades'));
  assertValidDocument('dev.encumber.upgrade', approved.json.statement);
  assertSameFields('upgrade statement', approved.json.statement, def('lex:dev.encumber.upgrade#main'));
  assertValidDocument('dev.encumber.receipt', approved.json.receipt);
  for (const c of approved.json.cosignatures) assertSameFields('upgrade co-signature', c, def('lex:dev.encumber.upgrade#cosignature'));
  const input = (lexicons.getDefOrThrow('lex:dev.encumber.approveUpgrade#main') as unknown as { input: { schema: ObjectDef } }).input.schema;
  const fields = zodFields(approveUpgradeBody);
  assert.deepEqual(fields.keys, Object.keys(input.properties).sort());
  assert.deepEqual(fields.required, [...(input.required ?? [])].sort());
});

test('DID guard: a real signPlcOp request is valid input, its answer and getGuardLog (after a revert) the lexicon output; getIdentity with a guard key too; zod names the input\'s fields', async () => {
  const g = await guardedWorld();
  const [a, b] = g.members;
  const body = plcOpRequest(g.org, nextOp(g, (o) => ({ ...o, alsoKnownAs: ['at://drift.test'] })), [a!, b!]);
  assert.ok(lexiconAcceptsInput('dev.encumber.signPlcOp', body), 'the request is not valid lexicon input');
  const signedOp = await procedure(g.w.app, 'dev.encumber.signPlcOp', body);
  assert.equal(signedOp.status, 200, JSON.stringify(signedOp.json));
  lexicons.assertValidXrpcOutput('dev.encumber.signPlcOp', jsonToLex(signedOp.json as never));
  assertSameFields('signPlcOp output', signedOp.json, outputSchema('dev.encumber.signPlcOp'));
  assertSameFields('plcOp document', { did: g.org, operation: body.operation }, def('lex:dev.encumber.plcOp#main'));
  await g.dir.update(g.org, g.pds, (o) => ({ ...o, rotationKeys: [g.pds.did] }));
  g.poll();
  for (let i = 0; i < 3; i++) await new Promise((ok) => setImmediate(ok));
  const log = await query(g.w.app, 'dev.encumber.getGuardLog');
  assert.equal(log.json.entries.length, 1);
  lexicons.assertValidXrpcOutput('dev.encumber.getGuardLog', jsonToLex(log.json as never));
  assertSameFields('getGuardLog output', log.json, outputSchema('dev.encumber.getGuardLog'));
  assertSameFields('guard log entry', log.json.entries[0], def('lex:dev.encumber.getGuardLog#entry'));
  const id = await query(g.w.app, 'dev.encumber.getIdentity');
  lexicons.assertValidXrpcOutput('dev.encumber.getIdentity', jsonToLex(id.json as never));
  assertValidDocument('dev.encumber.binding', id.json.binding);
  assertValidDocument('dev.encumber.policy', id.json.policy);
  const input = (lexicons.getDefOrThrow('lex:dev.encumber.signPlcOp#main') as unknown as { input: { schema: ObjectDef } }).input.schema;
  const fields = zodFields(signPlcOpBody);
  assert.deepEqual(fields.keys, Object.keys(input.properties).sort());
  assert.deepEqual(fields.required, [...(input.required ?? [])].sort());
});
