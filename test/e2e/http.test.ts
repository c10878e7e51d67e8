/**
 * The real server (`encumber serve`, composition root, dev platform) on a
 * loopback socket: every endpoint, and every HTTP status and error code the
 * API can give, over real HTTP.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { serve, type RunningServer } from '../../src/cli/commands/serve.ts';
import { verifyEvidence } from '../../src/verifier/evidence.ts';
import { parseMeasurements } from '../../src/verifier/measurements.ts';
import { devMeasurements } from '../../src/cli/commands/measure.ts';
import { policyDocument } from '../../src/policy/policy.ts';
import { ORG, cosignBy, createMember, draftFor, rotateSigningKey, withLogs, type Member } from '../support/world.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { tempDir } from '../support/fixtures.ts';

const quietIo: CliIo = { out: () => {}, err: () => {}, readInput: async () => '' };
let dir: string;
let members: Member[];
let supplied: RunningServer;
let fetching: RunningServer;

async function start(policy: Record<string, unknown>, name: string): Promise<RunningServer> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(policy));
  return serve({ policy: file, port: '0', host: '127.0.0.1', platform: 'dev', dataDir: join(dir, 'data'), quiet: true }, quietIo);
}

before(async () => {
  dir = tempDir('encumber-http-');
  members = [await createMember('h1.test'), await createMember('h2.test'), await createMember('h3.test')];
  const signers = members.map((m) => m.did);
  supplied = await start({ ...policyDocument({ repository: ORG, signers, threshold: 2 }), limits: { maxRecordBytes: 2000 } }, 'supplied');
  // A directory nobody listens on: fetch mode must fail closed.
  fetching = await start(policyDocument({ repository: ORG, signers, threshold: 2, plc: { directory: 'http://127.0.0.1:9', source: 'fetch' } }), 'fetch');
});
after(async () => {
  await supplied.close();
  await fetching.close();
});

async function call(server: RunningServer, path: string, init?: RequestInit) {
  const res = await fetch(server.url + path, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, any>) : {} };
}
const postRaw = (server: RunningServer, body: string, type = 'application/json') =>
  call(server, '/xrpc/dev.encumber.signRecord', { method: 'POST', headers: { 'content-type': type }, body });
const post = (server: RunningServer, body: unknown) => postRaw(server, JSON.stringify(body));

/** The server answers 413 from Content-Length before reading the body; read that answer even if our upload is cut. */
function postEarlyAnswer(server: RunningServer, body: string): Promise<{ status: number; json: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(server.url + '/xrpc/dev.encumber.signRecord', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
    });
    req.end(body);
  });
}

test('GET endpoints: health, identity, attestation (verifiable with the dev root), 404', async () => {
  assert.deepEqual((await call(supplied, '/xrpc/_health')).json, { status: 'ok' });
  const id = await call(supplied, '/xrpc/dev.encumber.getIdentity');
  assert.equal(id.status, 200);
  assert.equal(id.json.platform, 'dev');
  assert.ok(id.headers.get('x-request-id'));
  const nonce = '5eed' + '00'.repeat(30);
  const att = await call(supplied, `/xrpc/dev.encumber.getAttestation?nonce=${nonce}`);
  assert.equal(att.status, 200);
  const verdict = await verifyEvidence(
    { evidence: new Uint8Array(Buffer.from(att.json.evidence.$bytes, 'base64')), binding: att.json.binding, bindingCid: att.json.bindingCid },
    {
      roots: (await import('node:fs')).readFileSync(join(dir, 'data', 'dev-root.pem'), 'utf8'),
      at: new Date(),
      nonce: Buffer.from(nonce, 'hex'),
      measurements: { accept: parseMeasurements(devMeasurements()) },
    },
  );
  assert.ok(verdict.ok, JSON.stringify(verdict.checks.at(-1)));
  assert.equal(verdict.key, id.json.key);
  assert.equal((await call(supplied, '/xrpc/dev.encumber.getAttestation?nonce=xyz')).status, 400);
  assert.equal((await call(supplied, '/nowhere')).json.error, 'NotFound');
});

test('200: a 2-of-3 record is signed', async () => {
  const [a, b] = members as [Member, Member];
  const r = await post(supplied, withLogs(cosignBy(draftFor('over http'), a, b), members));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.record.signatures.length, 3);
});

test('every refusal over real HTTP: status and code', async () => {
  const [a, b, c] = members as [Member, Member, Member];
  const outsider = await createMember('h4.test');
  const forged = cosignBy(draftFor('forged'), a, b);
  forged.cosignatures[1] = { issuer: b.did, sig: forged.cosignatures[0]!.sig };
  const cases: [string, () => Promise<{ status: number; json: Record<string, any> }>, number, string][] = [
    ['malformed JSON', () => postRaw(supplied, '{'), 400, 'InvalidRequest'],
    ['wrong content type', () => postRaw(supplied, JSON.stringify(draftFor()), 'text/plain'), 400, 'InvalidRequest'],
    ['schema', () => post(supplied, { repository: 1 }), 400, 'InvalidRequest'],
    ['body too large', () => postEarlyAnswer(supplied, JSON.stringify({ pad: 'x'.repeat(1_100_000) })), 413, 'TooLarge'],
    ['record too large', () => post(supplied, withLogs(cosignBy(draftFor('y'.repeat(3000)), a, b), members)), 413, 'RecordTooLarge'],
    ['one co-signer', () => post(supplied, withLogs(cosignBy(draftFor('one'), a), members)), 422, 'InsufficientCosigners'],
    ['forged', () => post(supplied, withLogs(forged, members)), 422, 'InvalidCosignature'],
    ['outsider', () => post(supplied, withLogs(cosignBy(draftFor('out'), a, outsider), [...members, outsider])), 422, 'UnknownSigner'],
    ['collection', () => post(supplied, withLogs({ ...cosignBy(draftFor('c'), a, b), collection: 'app.bsky.feed.like' }, members)), 422, 'CollectionNotAllowed'],
    ['repository', () => post(supplied, withLogs({ ...cosignBy(draftFor('r'), a, b), repository: 'did:plc:otherotherotherotherothe' }, members)), 422, 'RepositoryNotAllowed'],
    ['no logs', () => post(supplied, cosignBy(draftFor('nolog'), a, b)), 422, 'MissingPlcLog'],
    ['bad log', () => post(supplied, { ...cosignBy(draftFor('badlog'), a, b), plcLogs: { [a.did]: [], [b.did]: b.log } }), 422, 'InvalidPlcLog'],
    ['directory down', () => post(fetching, cosignBy(draftFor('fetch'), a, b)), 503, 'DirectoryUnavailable'],
  ];
  for (const [name, run, status, code] of cases) {
    const r = await run();
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error, code, name);
    assert.equal(typeof r.json.message, 'string', name);
  }
  // StalePlcLog: c rotates, the new state is used, then the old log comes back.
  const oldLog = c.log;
  await rotateSigningKey(c);
  assert.equal((await post(supplied, withLogs(cosignBy(draftFor('fresh c'), a, c), members))).status, 200);
  const stale = await post(supplied, { ...cosignBy(draftFor('stale c'), a, c), plcLogs: { [a.did]: a.log, [c.did]: oldLog } });
  assert.equal(stale.status, 422);
  assert.equal(stale.json.error, 'StalePlcLog');
  // Still serving.
  assert.equal((await call(supplied, '/xrpc/_health')).status, 200);
});

test('serve refuses hardware platforms without their devices, and bad flags', async () => {
  for (const platform of ['nitro', 'sev-snp']) {
    await assert.rejects(
      // (--allow-demo-policy: past the demo-policy rule, test/cli/policy-pin.test.ts, to the device check)
      serve({ port: '0', host: '127.0.0.1', platform, dataDir: join(dir, 'data'), quiet: true, allowDemoPolicy: true }, quietIo),
      (e: Error) => /absent|not in this build/.test(e.message),
    );
  }
  await assert.rejects(serve({ port: '70000', host: '127.0.0.1', platform: 'dev', dataDir: join(dir, 'data') }, quietIo));
  await assert.rejects(serve({ port: '0', host: '127.0.0.1', platform: 'tpm', dataDir: join(dir, 'data') }, quietIo));
  await assert.rejects(serve({ policy: join(dir, 'missing.json'), port: '0', host: '127.0.0.1', platform: 'dev', dataDir: join(dir, 'data') }, quietIo));
});
