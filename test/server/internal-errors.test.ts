/**
 * A failure the client sees only as 500 InternalError (no detail in the
 * body) is logged for the operator with its typed code and reason: an NSM
 * failure behind getAttestation names its reason and errno; an untyped error
 * its class name. Refusals with their own status (4xx, 503) log no error line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NsmError } from '../../src/attestation/nitro/nsm/errors.ts';
import type { Attestor } from '../../src/enclave/attestor.ts';
import { createWorld } from '../support/world.ts';

const failing = (e: unknown): Attestor => ({
  platform: 'dev',
  attest: async () => {
    throw e;
  },
});

const errorLines = (logs: string[]) => logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 'error');

test('an NSM failure behind getAttestation: 500 without detail, logged with code, reason and errno', async () => {
  const w = await createWorld({ attestor: failing(new NsmError('DeviceFailed', 'NSM ioctl on /dev/nsm failed: ETIMEDOUT', { errno: 'ETIMEDOUT', path: '/dev/nsm' })) });
  const res = await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=00');
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { error: 'InternalError', message: 'internal error' });
  const [line, ...more] = errorLines(w.logs);
  assert.equal(more.length, 0);
  assert.equal(line!.error, 'InternalError');
  assert.equal(line!.reason, 'DeviceFailed');
  assert.equal(line!.errno, 'ETIMEDOUT');
  assert.equal(line!.path, '/xrpc/dev.encumber.getAttestation');
  assert.match(String(line!.message), /ETIMEDOUT/);
  assert.equal(line!.requestId, res.headers.get('x-request-id'));
  // The request line still says which code answered.
  const request = w.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.status === 500);
  assert.equal(request?.error, 'InternalError');
});

test('an NSM Error response names the NSM code', async () => {
  const w = await createWorld({ attestor: failing(new NsmError('NsmError', 'the NSM answered InvalidArgument', { nsmCode: 'InvalidArgument' })) });
  assert.equal((await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=00')).status, 500);
  const [line] = errorLines(w.logs);
  assert.equal(line!.reason, 'NsmError');
  assert.equal(line!.nsmCode, 'InvalidArgument');
});

test('an untyped error: logged as InternalError with its class name', async () => {
  const w = await createWorld({ attestor: failing(new TypeError('cannot read properties of undefined')) });
  const res = await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=00');
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { error: 'InternalError', message: 'internal error' });
  const [line] = errorLines(w.logs);
  assert.equal(line!.error, 'InternalError');
  assert.equal(line!.reason, 'TypeError');
});

test('a refusal with its own status logs no error line', async () => {
  const w = await createWorld();
  assert.equal((await w.app.request('/xrpc/dev.encumber.getAttestation?nonce=zz')).status, 400);
  assert.equal(errorLines(w.logs).length, 0);
});
