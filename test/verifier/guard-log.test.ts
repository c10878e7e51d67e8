/**
 * The DID guard's public log, signed by the enclave key (docs/did-guard.md
 * "Guard log"): what getGuardLog answers verifies against the enclave's
 * identity, and every change to it, or an identity it does not belong to,
 * is refused with a typed code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyGuardLog } from '../../src/verifier/guard-log.ts';
import type { Identity } from '../../src/verifier/identity.ts';
import { createWorld } from '../support/world.ts';
import { guardedWorld } from '../support/did-guard.ts';

/** A guarded world after one reverted intrusion: its identity and its log as the endpoint answers it. */
async function withIntrusion() {
  const g = await guardedWorld();
  g.poll(); // the first poll ran at start; the timer's next one
  await g.dir.update(g.org, g.pds, (op) => ({ ...op, verificationMethods: { ...op.verificationMethods, atproto: 'did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N' } }));
  for (let i = 0; i < 200 && g.w.service.guardLog().entries.length === 0; i++) {
    g.poll();
    await new Promise((r) => setTimeout(r, 2));
  }
  const res = await g.w.app.request('/xrpc/dev.encumber.getGuardLog');
  assert.equal(res.status, 200);
  const log = (await res.json()) as Record<string, any>;
  const identity = (await (await g.w.app.request('/xrpc/dev.encumber.getIdentity')).json()) as Identity;
  return { g, log, identity };
}

test('a getGuardLog answer verifies against the enclave identity: repository, guard key, policy, the enclave key\'s signature', async () => {
  const { g, log, identity } = await withIntrusion();
  assert.equal(log.$type, 'dev.encumber.guardLog');
  assert.equal(log.entries.length, 1);
  assert.equal(log.entries[0].outcome, 'reverted');
  const v = verifyGuardLog(identity, log);
  assert.ok(v.ok, JSON.stringify(v.checks));
  assert.equal(v.did, g.org);
  assert.deepEqual(v.entries, log.entries);
  assert.deepEqual(
    v.checks.map((c) => c.name),
    ['identity-policy', 'identity-binding', 'guard-enabled', 'guard-log-document', 'guard-log-signature'],
  );
});

test('a changed log, another key, another repository or policy, a missing signature: refused with the code of the rule', async () => {
  const { log, identity } = await withIntrusion();
  const refused = (id: Identity, l: unknown, code: string, row: string) => {
    const v = verifyGuardLog(id, l);
    assert.equal(v.ok, false, row);
    if (!v.ok) {
      assert.equal(v.error.code, code, row);
      assert.equal(v.checks.at(-1)!.name, row);
    }
  };
  const edit = (f: (l: Record<string, any>) => void) => {
    const copy = structuredClone(log);
    f(copy);
    return copy;
  };
  // The entries rewritten (an intrusion hidden, an outcome changed): the signature no longer verifies.
  refused(identity, edit((l) => (l.entries = [])), 'ReceiptInvalid', 'guard-log-signature');
  refused(identity, edit((l) => (l.entries[0].outcome = 'failed')), 'ReceiptInvalid', 'guard-log-signature');
  refused(identity, edit((l) => (l.signedAt = '2030-01-01T00:00:00.000Z')), 'ReceiptInvalid', 'guard-log-signature');
  refused(identity, edit((l) => delete l.sig), 'ReceiptInvalid', 'guard-log-signature');
  // What the document says against what the identity binds.
  refused(identity, edit((l) => (l.did = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')), 'ReceiptInvalid', 'guard-log-document');
  refused(identity, edit((l) => (l.guardKey = identity.key)), 'ReceiptInvalid', 'guard-log-document');
  refused(identity, edit((l) => (l.policy = { $link: identity.bindingCid })), 'ReceiptInvalid', 'guard-log-document');
  refused(identity, edit((l) => (l.$type = 'dev.encumber.receipt')), 'ReceiptInvalid', 'guard-log-document');
  refused(identity, edit((l) => (l.entries = [{ outcome: 'reverted' }])), 'ReceiptInvalid', 'guard-log-document');
  // A member the enclave does not write (a record payload's $sig, say): refused before the signature is looked at.
  refused(identity, edit((l) => (l.$sig = { $type: 'dev.encumber.payload', repository: l.did, collection: 'dev.encumber.guardLog' })), 'ReceiptInvalid', 'guard-log-document');
  refused(identity, 'not a log', 'ReceiptInvalid', 'guard-log-document');
  // Another enclave's identity under the same rules: its key did not sign this log.
  const other = await withIntrusion();
  refused(other.identity, log, 'ReceiptInvalid', 'guard-log-document');
  refused({ ...identity, key: other.identity.key }, log, 'BindingMismatch', 'identity-binding');
  // An identity whose policy has no guard.
  const plain = (await (await (await createWorld()).app.request('/xrpc/dev.encumber.getIdentity')).json()) as Identity;
  refused(plain, log, 'DidGuardDisabled', 'guard-enabled');
});
