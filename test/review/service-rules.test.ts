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
import { KeyHolder } from '../../src/enclave/key-holder.ts';
import { PlcResolver } from '../../src/enclave/plc-resolver.ts';
import { SigningService } from '../../src/enclave/service.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { MemoryHighWaterStore } from '../../src/policy/high-water.ts';
import { cosignBy, createMember, createWorld, draftFor, echoAttestor, policyFor, rotateSigningKey, tick, withLogs } from '../support/world.ts';

test('the service re-checks the high-water mark itself right before signing (not only in the resolver)', async () => {
  // docs/decisions.md: "The marks are re-checked synchronously right before signing".
  // Isolate that re-check: the resolver sees an empty store, the service the real one.
  const members = [await createMember('a.test'), await createMember('b.test'), await createMember('c.test')];
  const [alice, bob] = members as [any, any];
  const oldLogs = Object.fromEntries(members.map((m) => [m.did, m.log]));
  const policy = parsePolicy(policyFor(members));
  const highWater = new MemoryHighWaterStore();
  const resolver = new PlcResolver({ source: 'supplied', highWater: new MemoryHighWaterStore() });
  const service = new SigningService({ key: KeyHolder.generate(), policy, attestor: echoAttestor, resolver, highWater, clock: () => tick(1) });
  service.start();
  // Alice rotates; a record is signed on her new head.
  const oldAlice = { ...alice };
  await rotateSigningKey(alice);
  await service.signRecord(withLogs(cosignBy(draftFor('new head'), alice, bob), members) as never);
  // Her old log with her old key (which an attacker may hold) must now be stale.
  const replay = { ...cosignBy(draftFor('old head'), oldAlice, bob), plcLogs: oldLogs };
  await assert.rejects(
    () => service.signRecord(replay as never),
    (e: unknown) => e instanceof EncumberError && e.code === 'StalePlcLog',
  );
});

test(
  'a PLC entry carrying ~17 000 rotation keys is refused cheaply (before parsing every did:key)',
  async () => {
    const w = await createWorld();
    const [a, b] = w.members as [any, any];
    const keys: string[] = [];
    // Distinct points, cheaply: P, P+G, P+2G, …
    let p = secp256k1.Point.BASE.multiply(12345n);
    for (let i = 0; i < 17_000; i++, p = p.add(secp256k1.Point.BASE)) keys.push(formatDidKey(K256, p.toBytes(true)));
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
