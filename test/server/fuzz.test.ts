/**
 * Property test: random request bodies (arbitrary JSON, wrong types, huge
 * strings, deep nesting, near-valid drafts) always get a 4xx JSON error and
 * never a crash, a 5xx or a signature.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createWorld, draftFor, cosignBy, withLogs } from '../support/world.ts';

test('random bodies → 4xx with { error, message }, never 5xx', async () => {
  const w = await createWorld();
  const [alice, bob] = w.members as [any, any];
  const valid = withLogs(cosignBy(draftFor('fuzz'), alice, bob), w.members) as unknown as Record<string, unknown>;

  const deep = fc.integer({ min: 50, max: 3000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
  const mutatedDraft = fc
    .tuple(fc.constantFrom(...Object.keys(valid)), fc.jsonValue())
    .map(([k, v]) => JSON.stringify({ ...valid, [k]: v }));
  const body = fc.oneof(
    fc.json(),
    fc.string(),
    deep,
    mutatedDraft,
    fc.string({ minLength: 10_000, maxLength: 20_000 }).map((s) => JSON.stringify({ ...valid, record: { $type: 'app.bsky.feed.post', text: s } })),
  );

  await fc.assert(
    fc.asyncProperty(body, async (text) => {
      const res = await w.app.request('/xrpc/dev.encumber.signRecord', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status === 200) {
        // Only a body that is the valid draft (or an equivalent) may be signed.
        assert.ok(Array.isArray((json.record as any)?.signatures));
        return;
      }
      assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}: ${JSON.stringify(json)}`);
      assert.equal(typeof json.error, 'string');
      assert.equal(typeof json.message, 'string');
    }),
    { numRuns: 300, seed: 42 },
  );
});
