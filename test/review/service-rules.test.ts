/**
 * Service-side review tests: rules with no test that fails if they are
 * removed, and resource findings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { formatDidKey } from '../../src/crypto/did-key.ts';
import { K256 } from '../../src/crypto/curves.ts';
import { EncumberError } from '../../src/errors.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { MemoryHighWaterStore, type HighWaterStore } from '../../src/policy/high-water.ts';
import { cosignBy, createMember, createWorld, draftFor, policyFor, rotateSigningKey, withLogs } from '../support/world.ts';

test('the service re-checks the high-water mark itself right before signing (not only in the resolver)', async () => {
  // docs/decisions.md: "The marks are re-checked synchronously right before signing".
  // Isolate that re-check: the store hides every mark while the resolver reads it (in supplied mode the
  // resolver's check runs synchronously inside the signRecord call), and shows them to the service's re-check.
  const members = [await createMember('a.test'), await createMember('b.test'), await createMember('c.test')];
  const [alice, bob] = members as [any, any];
  const oldLogs = Object.fromEntries(members.map((m) => [m.did, m.log]));
  const marks = new MemoryHighWaterStore();
  let hidden = false;
  const highWater: HighWaterStore = { get: (did) => (hidden ? undefined : marks.get(did)), set: (did, mark) => marks.set(did, mark), entries: () => marks.entries() };
  const { service } = await createWorld({ members, highWater });
  // Alice rotates; a record is signed on her new head.
  const oldAlice = { ...alice };
  await rotateSigningKey(alice);
  await service.signRecord(withLogs(cosignBy(draftFor('new head'), alice, bob), members) as never);
  // Her old log with her old key (which an attacker may hold) must now be stale.
  const replay = { ...cosignBy(draftFor('old head'), oldAlice, bob), plcLogs: oldLogs };
  hidden = true;
  const replayed = service.signRecord(replay as never);
  hidden = false;
  await assert.rejects(replayed, (e: unknown) => e instanceof EncumberError && e.code === 'StalePlcLog');
});

test(
  'a PLC entry carrying ~17 000 rotation keys is refused cheaply (before parsing every did:key)',
  async () => {
    const w = await createWorld();
    const [a, b] = w.members as [any, any];
    // 17 000 well-formed did:keys: 65 distinct points (P, P+G, …; one past the bound of 64) cycled, so making
    // them costs 65 encodings, while a parser without the bound would decode all 17 000.
    const distinct: string[] = [];
    for (let i = 0, p = secp256k1.Point.BASE.multiply(12345n); i < 65; i++, p = p.add(secp256k1.Point.BASE)) distinct.push(formatDidKey(K256, p.toBytes(true)));
    const keys = Array.from({ length: 17_000 }, (_, i) => distinct[i % distinct.length]!);
    const bogus = { did: a.did, operation: { ...a.log[0].operation, rotationKeys: keys, prev: a.log[0].cid }, cid: 'x', nullified: false, createdAt: '2099-01-01T00:00:00.000Z' };
    const body = JSON.stringify({ ...withLogs(cosignBy(draftFor('dos'), a, b), w.members), plcLogs: { [a.did]: [a.log[0], bogus], [b.did]: b.log } });
    // Cheap means refused by the schema's bound on rotationKeys, before any of them is decoded; asserted by
    // the refusal's reason, not by timing (timing belongs in bench/).
    const res = await w.app.request('/xrpc/dev.encumber.signRecord', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 422);
    const err = (await res.json()) as { error: string; message: string };
    assert.equal(err.error, 'InvalidPlcLog');
    assert.match(err.message, /entry 1: malformed operation: rotationKeys: must be an array of at most 64 items/);
  },
);

test(
  'PLC options mirrors and maxCacheAgeSeconds are accepted with source "fetch" (and enforced: test/e2e/plc-directory-freshness.test.ts), refused with "supplied"',
  async () => {
    const members = [await createMember('p.test')];
    const plc = { directory: 'https://plc.directory', mirrors: ['https://mirror.example'], source: 'fetch', maxCacheAgeSeconds: 60 };
    assert.deepEqual(parsePolicy(policyFor(members, { threshold: 1, plc })).policy.plc, plc);
    assert.throws(() => parsePolicy(policyFor(members, { threshold: 1, plc: { ...plc, source: 'supplied' } })), (e: any) => e.code === 'InvalidPolicy');
  },
);
