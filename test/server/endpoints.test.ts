/**
 * getIdentity, getAttestation, _health, unknown routes, headers, request ids,
 * and the lifecycle: outside "serving" every endpoint refuses.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCbor } from '../../src/data/cbor.ts';
import { jsonToIpld } from '../../src/data/json.ts';
import { cidForValue } from '../../src/data/cid.ts';
import { parseDidKey } from '../../src/crypto/did-key.ts';
import { createWorld, type World } from '../support/world.ts';

let w: World;
before(async () => {
  w = await createWorld();
});

test('getIdentity returns key, binding, policy and their CIDs, consistent with each other', async () => {
  const res = await w.app.request('/xrpc/dev.encumber.getIdentity');
  assert.equal(res.status, 200);
  const id = (await res.json()) as Record<string, any>;
  assert.equal(id.key, w.key.did);
  assert.equal(id.platform, 'dev');
  assert.deepEqual(id.program, { name: 'encumber', version: '0.1.0' });
  assert.equal(cidForValue(id.policy).toString(), id.policyCid);
  assert.equal(id.policyCid, w.policy.cid.toString());
  const binding = jsonToIpld(id.binding) as Record<string, any>;
  assert.equal(cidForValue(binding).toString(), id.bindingCid);
  assert.equal(binding.$type, 'dev.encumber.binding');
  assert.equal(binding.version, 1);
  assert.equal(binding.key, w.key.did);
  assert.equal(binding.policy.toString(), id.policyCid);
  assert.match(binding.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('getAttestation passes key, binding CID and the nonce to the attestor', async () => {
  const res = await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=00a1ff');
  assert.equal(res.status, 200);
  const a = (await res.json()) as Record<string, any>;
  assert.equal(a.platform, 'dev');
  assert.equal(a.bindingCid, w.service.binding.cid.toString());
  const evidence = decodeCbor(Buffer.from(a.evidence.$bytes, 'base64')) as Record<string, Uint8Array>;
  assert.deepEqual([...evidence.nonce!], [0x00, 0xa1, 0xff]);
  assert.deepEqual([...evidence.publicKey!], [...parseDidKey(w.key.did).compressed]);
  assert.deepEqual([...evidence.bindingCid!], [...w.service.binding.cid.bytes]);
});

test('getAttestation refuses bad nonces', async () => {
  for (const q of ['', '?nonce=', '?nonce=abc', '?nonce=zz', `?nonce=${'00'.repeat(65)}`, '?nonce=00&x=1']) {
    const res = await w.app.request(`/xrpc/dev.encumber.getAttestation${q}`);
    assert.equal(res.status, 400, q);
    assert.equal(((await res.json()) as any).error, 'InvalidRequest');
  }
  assert.equal((await w.app.request(`/xrpc/dev.encumber.getAttestation?nonce=${'ab'.repeat(64)}`)).status, 200);
});

test('health, unknown routes, security headers and request ids', async () => {
  const h = await w.app.request('/xrpc/_health');
  assert.equal(h.status, 200);
  assert.deepEqual(await h.json(), { status: 'ok' });
  assert.equal(h.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(h.headers.get('content-security-policy'));
  assert.equal(h.headers.get('cache-control'), 'no-store');
  assert.match(h.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const nf = await w.app.request('/xrpc/dev.encumber.nothing');
  assert.equal(nf.status, 404);
  assert.equal(((await nf.json()) as any).error, 'NotFound');
  const get = await w.app.request('/xrpc/dev.encumber.signRecord');
  assert.equal(get.status, 404);
  const line = JSON.parse(w.logs.at(-1)!);
  assert.equal(line.path, '/xrpc/dev.encumber.signRecord');
  assert.equal(line.status, 404);
  assert.match(line.requestId, /^[0-9a-f-]{36}$/);
});

test('a failed service refuses every request with 503 ServiceNotReady', async () => {
  const world = await createWorld();
  world.service.fail();
  const h = await world.app.request('/xrpc/_health');
  assert.equal(h.status, 503);
  for (const path of ['/xrpc/dev.encumber.getIdentity', '/xrpc/dev.encumber.getAttestation?nonce=00']) {
    const r = await world.app.request(path);
    assert.equal(r.status, 503);
    assert.equal(((await r.json()) as any).error, 'ServiceNotReady');
  }
  assert.throws(() => world.service.start());
});
