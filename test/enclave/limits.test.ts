/** The bounds on outbound work (src/enclave/limits.ts), with controllable promises. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedQueue, InFlightBound } from '../../src/enclave/limits.ts';

const rateLimited = (e: any) => e.code === 'RateLimited';

test('InFlightBound: slots are taken all or none, and released', () => {
  const b = new InFlightBound(3, 'test');
  b.acquire(2);
  assert.throws(() => b.acquire(2), rateLimited);
  assert.equal(b.inFlight, 2, 'a refused acquire takes nothing');
  b.acquire(1);
  assert.throws(() => b.acquire(1), rateLimited);
  b.release();
  b.release(2);
  assert.equal(b.inFlight, 0);
  b.acquire(0);
  assert.throws(() => new InFlightBound(0, 'test'), RangeError);
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('BoundedQueue: runs in arrival order within the concurrency, refuses beyond the queue, and drains', async () => {
  const q = new BoundedQueue({ concurrency: 1, maxQueued: 2 }, 'test');
  const order: number[] = [];
  const gates = [deferred(), deferred(), deferred()];
  const runs = gates.map((g, i) => q.run(async () => (order.push(i), await g.promise, i)));
  assert.equal(q.running, 1);
  assert.equal(q.queued, 2);
  await assert.rejects(q.run(async () => 99), rateLimited);
  gates[0]!.resolve();
  assert.equal(await runs[0], 0);
  gates[2]!.resolve();
  gates[1]!.resolve();
  assert.deepEqual(await Promise.all(runs), [0, 1, 2]);
  assert.deepEqual(order, [0, 1, 2]);
  assert.equal(q.running, 0);
  assert.equal(q.queued, 0);
  // A failing task frees its slot too.
  await assert.rejects(q.run(async () => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(q.running, 0);
  assert.equal(await q.run(async () => 7), 7);
});
