/**
 * The DID guard's key (docs/did-guard.md): drawn at boot exactly when the
 * policy enables `didGuard`, a key of its own (not the signing key), named
 * by getIdentity and bound in the binding document; a verifier checks the
 * binding names it exactly when the policy says so. Policies without
 * `didGuard` are untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMember, createWorld, cosignBy, draftFor, policyFor, type Member } from '../support/world.ts';
import { parseDidKey } from '../../src/crypto/did-key.ts';
import { verifyPublishedRecord, type Identity } from '../../src/verifier/record.ts';
import { cidForValue } from '../../src/data/cid.ts';
import { jsonToIpld, ipldToJson } from '../../src/data/json.ts';

const GUARD = { enabled: true, pollSeconds: 60, revert: 'keys-and-pds' };

async function guardedWorld() {
  const members = [await createMember('alice.test'), await createMember('bob.test'), await createMember('carol.test')];
  const logs = new Map(members.map((m) => [m.did, m.log]));
  const policy = policyFor(members, { plc: { directory: 'http://127.0.0.1:1', source: 'fetch' }, didGuard: GUARD });
  return createWorld({ members, policy, fetchLog: async (did) => logs.get(did) });
}

test('a policy with didGuard enabled: getIdentity names a guard key of its own, k256, bound in the binding', async () => {
  const w = await guardedWorld();
  const id = w.service.identity() as Record<string, any>;
  assert.equal(typeof id.guardKey, 'string');
  assert.notEqual(id.guardKey, id.key, 'a second key, not the signing key');
  assert.equal(parseDidKey(id.guardKey).curve, 'k256');
  assert.equal(id.binding.guardKey, id.guardKey);
  assert.equal(cidForValue(jsonToIpld(id.binding)).toString(), id.bindingCid, 'the binding CID covers the guard key');
  // Over HTTP the same.
  const res = await w.app.request('/xrpc/dev.encumber.getIdentity');
  assert.equal((await res.json()).guardKey, id.guardKey);
});

test('without didGuard (or with enabled: false) nothing changes: no guard key, the binding has the fields it always had', async () => {
  for (const overrides of [{}, { plc: { directory: 'http://127.0.0.1:1', source: 'fetch' }, didGuard: { ...GUARD, enabled: false } }]) {
    const members = [await createMember('a.test'), await createMember('b.test')];
    const w = await createWorld({ members, policy: policyFor(members, overrides) });
    const id = w.service.identity() as Record<string, any>;
    assert.equal('guardKey' in id, false);
    assert.deepEqual(Object.keys(id.binding).sort(), ['$type', 'createdAt', 'key', 'platform', 'policy', 'program', 'version']);
  }
});

test('two instances under one guarded policy draw different guard keys', async () => {
  const a = (await guardedWorld()).service.identity() as Record<string, any>;
  const b = (await guardedWorld()).service.identity() as Record<string, any>;
  assert.notEqual(a.guardKey, b.guardKey);
});

test('a verifier checks the guard key in the binding: present exactly when the policy enables the guard', async () => {
  const w = await guardedWorld();
  const [alice, bob] = w.members as [Member, Member];
  const signed = (await w.service.signRecord(cosignBy(draftFor('guarded'), alice, bob) as never)) as Record<string, any>;
  const identity = w.service.identity() as unknown as Identity & Record<string, any>;
  const ok = verifyPublishedRecord(identity, signed.record);
  assert.ok(ok.ok, JSON.stringify(ok.checks));

  // A binding re-made without the guard key (and its CID updated): refused.
  const rebind = (mutate: (b: Record<string, unknown>) => void): Identity => {
    const b = jsonToIpld(identity.binding) as Record<string, unknown>;
    mutate(b);
    return { ...identity, binding: ipldToJson(b as never), bindingCid: cidForValue(b).toString() };
  };
  const failsBinding = (id: Identity) => {
    const v = verifyPublishedRecord(id, signed.record);
    assert.equal(v.ok, false);
    assert.equal(v.checks.at(-1)!.name, 'identity-binding');
    if (!v.ok) assert.equal(v.error.code, 'BindingMismatch');
  };
  failsBinding(rebind((b) => delete b.guardKey));
  failsBinding(rebind((b) => (b.guardKey = b.key)));
  failsBinding(rebind((b) => (b.guardKey = 'did:key:zQ3shnotakey')));
  failsBinding({ ...identity, guardKey: w.key.did } as Identity);

  // An unguarded identity whose binding claims a guard key: refused too.
  const plain = await createWorld();
  const pid = plain.service.identity() as unknown as Identity;
  const b = jsonToIpld(pid.binding) as Record<string, unknown>;
  b.guardKey = identity.guardKey;
  const v = verifyPublishedRecord({ ...pid, binding: ipldToJson(b as never), bindingCid: cidForValue(b).toString() }, signed.record);
  assert.equal(v.ok, false);
  if (!v.ok) assert.equal(v.error.code, 'BindingMismatch');
});
