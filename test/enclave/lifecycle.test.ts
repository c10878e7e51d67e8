/**
 * The service's lifecycle (src/enclave/service.ts): booting → serving →
 * failed, failed terminal. An attestor that reports a device or
 * infrastructure failure fails the service: `/xrpc/_health` answers 503 with
 * the state and the failure's code and reason, and every endpoint refuses
 * with ServiceNotReady. A caller's bad input, a refused attestation request
 * and load shedding do not fail it. Driven over HTTP with `app.request()`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NsmError } from '../../src/attestation/nitro/nsm/errors.ts';
import { EncumberError } from '../../src/errors.ts';
import type { Attestor } from '../../src/enclave/attestor.ts';
import { cosignBy, createWorld, draftFor, echoAttestor, withLogs, type World } from '../support/world.ts';

/** An attestor that answers until `failWith` is set, then throws it. */
function switchable(): { attestor: Attestor; failWith: (e: unknown) => void } {
  let failure: unknown;
  return {
    attestor: {
      platform: 'dev',
      attest: async (req) => {
        if (failure !== undefined) throw failure;
        return echoAttestor.attest(req);
      },
    },
    failWith: (e) => {
      failure = e;
    },
  };
}

const post = (w: World, body: unknown) =>
  w.app.request('/xrpc/dev.encumber.signRecord', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function health(w: World): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await w.app.request('/xrpc/_health');
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function assertServing(w: World): Promise<void> {
  assert.equal(w.service.state, 'serving');
  assert.deepEqual(await health(w), { status: 200, body: { status: 'ok' } });
}

async function assertRefusesEverything(w: World): Promise<void> {
  const [alice, bob] = w.members as [any, any];
  const responses = [
    await w.app.request('/xrpc/dev.encumber.getIdentity'),
    await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=00'),
    await post(w, withLogs(cosignBy(draftFor('after the failure'), alice, bob), w.members)),
  ];
  for (const res of responses) {
    assert.equal(res.status, 503, res.url);
    assert.equal(((await res.json()) as { error: string }).error, 'ServiceNotReady');
  }
}

const deviceFailures: [string, unknown, { code: string; reason?: string }][] = [
  ['an NSM ioctl failure', new NsmError('DeviceFailed', 'NSM ioctl on /dev/nsm failed: EIO', { errno: 'EIO' }), { code: 'InternalError', reason: 'DeviceFailed' }],
  ['an NSM Error answer', new NsmError('NsmError', 'the NSM answered InternalError', { nsmCode: 'InternalError' }), { code: 'InternalError', reason: 'NsmError' }],
  ['a configfs-tsm failure', new EncumberError('InternalError', 'configfs-tsm: cannot create /sys/kernel/config/tsm/report/x'), { code: 'InternalError' }],
  ['an untyped error', new TypeError('koffi binding crashed'), { code: 'InternalError', reason: 'TypeError' }],
];

for (const [what, error, failure] of deviceFailures) {
  test(`${what} in attest() fails the service: health 503 with state and reason, every endpoint ServiceNotReady`, async () => {
    const s = switchable();
    const w = await createWorld({ attestor: s.attestor });
    await assertServing(w);
    assert.equal((await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=00')).status, 200);

    s.failWith(error);
    // The request that met the failure is answered as before (500 without detail, logged for the operator) ...
    const res = await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=01');
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: 'InternalError', message: 'internal error' });
    // ... and the service is failed from then on.
    assert.equal(w.service.state, 'failed');
    const h = await health(w);
    assert.equal(h.status, 503);
    assert.equal(h.body.error, 'ServiceNotReady');
    assert.equal(h.body.state, 'failed');
    assert.deepEqual(h.body.failure, failure);
    assert.match(String(h.body.message), new RegExp(`^the service is failed: ${failure.code}`));
    await assertRefusesEverything(w);
  });
}

test('failed is terminal: the attestor answering again does not bring the service back', async () => {
  let broken = true;
  const w = await createWorld({
    attestor: {
      platform: 'dev',
      attest: async (req) => {
        if (broken) throw new NsmError('DeviceFailed', 'NSM ioctl failed: ETIMEDOUT', { errno: 'ETIMEDOUT' });
        return echoAttestor.attest(req);
      },
    },
  });
  assert.equal((await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=00')).status, 500);
  broken = false;
  await assertRefusesEverything(w);
  assert.equal((await health(w)).status, 503);
  assert.throws(() => w.service.start());
  // The first failure is the one reported.
  w.service.fail({ code: 'RateLimited', message: 'later' });
  assert.deepEqual((await health(w)).body.failure, { code: 'InternalError', reason: 'DeviceFailed' });
});

test('attestations queued behind the one that met the failure do not reach the device', async () => {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((go) => (release = go));
  const w = await createWorld({
    attestor: {
      platform: 'dev',
      attest: async () => {
        calls++;
        await gate;
        throw new NsmError('DeviceFailed', 'NSM ioctl failed: EIO', { errno: 'EIO' });
      },
    },
    limits: { attestation: { concurrency: 1, maxQueued: 4 } },
  });
  const pending = ['00', '01', '02'].map((n) => w.app.request(`/xrpc/dev.encumber.getAttestation?nonce=${n}`));
  release();
  const statuses = (await Promise.all(pending.map(async (r) => (await r).status))).sort();
  assert.deepEqual(statuses, [500, 503, 503]);
  assert.equal(calls, 1);
});

test("a caller's bad input does not fail the service", async () => {
  const w = await createWorld();
  const [alice, bob] = w.members as [any, any];
  const refused = [
    await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=zz'),
    await w.app.request('/xrpc/dev.encumber.getAttestation'),
    await w.app.request(`/xrpc/dev.encumber.getAttestation?nonce=${'00'.repeat(65)}`),
    await post(w, { ...draftFor(), cosignatures: [{ issuer: alice.did, sig: { $bytes: '!!' } }] }),
    await post(w, withLogs(cosignBy(draftFor('one'), alice), w.members)),
    await post(w, cosignBy(draftFor('no logs'), alice, bob)),
  ];
  assert.deepEqual(
    refused.map((r) => r.status),
    [400, 400, 400, 422, 422, 422],
  );
  await assertServing(w);
  assert.equal((await post(w, withLogs(cosignBy(draftFor('still signs'), alice, bob), w.members))).status, 200);
});

test('an attestation request the attestor refuses (UsageError) does not fail the service', async () => {
  const s = switchable();
  const w = await createWorld({ attestor: s.attestor });
  s.failWith(new NsmError('InvalidRequest', 'NSM request: nonce too long'));
  const res = await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=00');
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: string }).error, 'UsageError');
  await assertServing(w);
});

test('load shedding (RateLimited) does not fail the service', async () => {
  let release!: () => void;
  const gate = new Promise<void>((go) => (release = go));
  const w = await createWorld({
    attestor: { platform: 'dev', attest: async (req) => (await gate, echoAttestor.attest(req)) },
    limits: { attestation: { concurrency: 1, maxQueued: 0 } },
  });
  const first = w.app.request('/xrpc/dev.encumber.getAttestation?nonce=00');
  const second = await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=01');
  assert.equal(second.status, 429);
  release();
  assert.equal((await first).status, 200);
  await assertServing(w);
});

test('a directory failure answers 503 for that request and does not fail the service', async () => {
  const w0 = await createWorld();
  const policy = { ...(w0.policy.policy as unknown as Record<string, unknown>), plc: { directory: 'http://127.0.0.1:1', source: 'fetch' } };
  const w = await createWorld({
    members: w0.members,
    policy,
    fetchLog: async () => {
      throw new EncumberError('DirectoryUnavailable', 'PLC directory http://127.0.0.1:1: HTTP 502');
    },
  });
  const [alice, bob] = w.members as [any, any];
  const res = await post(w, cosignBy(draftFor('directory down'), alice, bob));
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { error: string }).error, 'DirectoryUnavailable');
  await assertServing(w);
});
