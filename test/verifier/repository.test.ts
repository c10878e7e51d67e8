/** A repository's PDS and signing key from its verified PLC log or its did:web document (src/verifier/repository.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { didWebDocumentUrl, repositoryFromDidDocument, repositoryFromPlcLog } from '../../src/verifier/repository.ts';
import { generateMemberKey } from '../../src/member/keys.ts';
import { addKeyOp, auditEntry, createMemberDid } from '../../src/member/plc-ops.ts';
import { throwsCode } from '../data/assert-code.ts';

const KEY = generateMemberKey().did;
const WEB = 'did:web:org.example.com';
const doc = (over: Record<string, unknown> = {}) => ({
  id: WEB,
  alsoKnownAs: ['at://org.example.com', 'https://elsewhere.example'],
  verificationMethod: [{ id: `${WEB}#atproto`, type: 'Multikey', controller: WEB, publicKeyMultibase: KEY.slice('did:key:'.length) }],
  service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://pds.example.com/' }],
  ...over,
});

test('did:web: the #atproto Multikey and the #atproto_pds endpoint; the row says what the trust rests on', () => {
  const home = repositoryFromDidDocument(WEB, doc(), 'https://org.example.com/.well-known/did.json');
  assert.equal(home.signingKey, KEY);
  assert.equal(home.pds, 'https://pds.example.com');
  assert.deepEqual(home.handles, ['org.example.com']);
  assert.match(home.check.detail, /did:web: trusted as far as that host is/);
});

test('did:web documents that name no usable key or PDS are refused', () => {
  const from = 'https://org.example.com/.well-known/did.json';
  for (const [label, d] of [
    ['another DID', doc({ id: 'did:web:evil.example' })],
    ['no #atproto key', doc({ verificationMethod: [] })],
    ['not a Multikey', doc({ verificationMethod: [{ id: '#atproto', type: 'EcdsaSecp256k1VerificationKey2019', publicKeyMultibase: KEY.slice(8) }] })],
    ['not a did:key', doc({ verificationMethod: [{ id: '#atproto', type: 'Multikey', publicKeyMultibase: 'zNotAKey' }] })],
    ['no PDS', doc({ service: [] })],
    ['a PDS of another type', doc({ service: [{ id: '#atproto_pds', type: 'Other', serviceEndpoint: 'https://pds.example.com' }] })],
    ['a PDS that is not http(s)', doc({ service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'ftp://pds.example.com' }] })],
    ['a plain-http PDS off loopback', doc({ service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'http://pds.example.com' }] })],
    ['a PDS with credentials', doc({ service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://u:p@pds.example.com' }] })],
    ['not an object', []],
  ] as const) throwsCode(() => repositoryFromDidDocument(WEB, d, from), 'DidResolutionFailed', label);
});

test('a plain-http PDS on loopback is allowed (development)', () => {
  for (const host of ['localhost:2583', '127.0.0.1:2583', '127.9.9.9']) {
    const home = repositoryFromDidDocument(WEB, doc({ service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: `http://${host}` }] }), 'x');
    assert.equal(home.pds, `http://${host}`);
  }
});

test('did:web URLs: the host (a port %3A-encoded), https except on loopback; paths are not resolvable', () => {
  assert.equal(didWebDocumentUrl('did:web:org.example.com'), 'https://org.example.com/.well-known/did.json');
  assert.equal(didWebDocumentUrl('did:web:localhost%3A2583'), 'http://localhost:2583/.well-known/did.json');
  assert.equal(didWebDocumentUrl('did:web:127.0.0.1%3A8080'), 'http://127.0.0.1:8080/.well-known/did.json');
  throwsCode(() => didWebDocumentUrl('did:web:org.example.com:users:alice'), 'DidResolutionFailed');
});

test('did:plc: from the verified log, the state at its head; a bad log keeps its PLC code', async () => {
  const rotationKey = generateMemberKey();
  const { did, op } = await createMemberDid({ rotationKey, signingKey: generateMemberKey(), handle: 'org.test', pds: 'https://pds.example' });
  const next = generateMemberKey();
  const op2 = await addKeyOp(op, rotationKey, 'atproto', next.did);
  const log = [auditEntry(did, op, new Date('2026-01-01T00:00:00Z')), auditEntry(did, op2, new Date('2026-01-02T00:00:00Z'))];
  const home = repositoryFromPlcLog(did, log, new Date('2026-02-01T00:00:00Z'), 'https://plc.example');
  assert.equal(home.signingKey, next.did, 'the key at the head, not at genesis');
  assert.equal(home.pds, 'https://pds.example');
  assert.deepEqual(home.handles, ['org.test']);
  assert.match(home.check.detail, /2 operation\(s\)/);
  const tampered = structuredClone(log);
  (tampered[1]!.operation as { verificationMethods: Record<string, string> }).verificationMethods.atproto = KEY;
  throwsCode(() => repositoryFromPlcLog(did, tampered, new Date('2026-02-01T00:00:00Z'), 'https://plc.example'), 'PlcCidMismatch');
});
