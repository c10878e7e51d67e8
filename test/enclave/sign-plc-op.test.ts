/**
 * dev.encumber.signPlcOp and dev.encumber.getGuardLog through the app, with
 * the watcher composed by bootService (docs/did-guard.md): an approved
 * operation reaches the directory signed by the guard key; refusals carry
 * their codes; the watcher started with the service reverts an operation the
 * PDS key made, and its log is public.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guardedWorld, nextOp, plcOpRequest } from '../support/did-guard.ts';
import { procedure, query } from '../contract/support.ts';
import { verifyAuditLog } from '../../src/plc/verify.ts';
import { generateMemberKey } from '../../src/member/keys.ts';
import type { PlcAuditEntry } from '../../src/plc/types.ts';

const settle = () => new Promise((ok) => setImmediate(ok));

test('an approved handle change (2 of 3): signed by the guard key, accepted by the directory, in its log', async () => {
  const g = await guardedWorld();
  const [alice, bob] = g.members as [any, any];
  const op = nextOp(g, (o) => ({ ...o, alsoKnownAs: ['at://renamed.test'] }));
  const res = await procedure(g.w.app, 'dev.encumber.signPlcOp', plcOpRequest(g.org, op, [alice, bob]));
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.deepEqual(res.json.cosigners, [alice.did, bob.did]);
  assert.equal(res.json.directory.status, 200);
  const head = g.dir.head(g.org);
  assert.equal(head.cid, res.json.operationCid);
  assert.deepEqual(head.operation.alsoKnownAs, ['at://renamed.test']);
  const log = g.dir.logs.get(g.org)!;
  const verdict = verifyAuditLog(g.org, log);
  assert.ok(verdict.ok);
  // The guard sees its own operation and leaves it.
  g.poll();
  await settle();
  const report = (await query(g.w.app, 'dev.encumber.getGuardLog')).json;
  assert.equal(report.guardKey, g.guardDid);
  assert.deepEqual(report.entries, []);
});

test('refusals: one co-signer, a stale prev, the guard key dropped or moved down, a DID without the guard key, the directory refusing', async () => {
  const g = await guardedWorld();
  const [alice, bob] = g.members as [any, any];
  const sign = (body: unknown) => procedure(g.w.app, 'dev.encumber.signPlcOp', body);
  const handle = nextOp(g, (o) => ({ ...o, alsoKnownAs: ['at://x.test'] }));
  assert.equal((await sign(plcOpRequest(g.org, handle, [alice]))).json.error, 'InsufficientCosigners');
  assert.equal((await sign(plcOpRequest(g.org, { ...handle, prev: 'bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua' }, [alice, bob]))).json.error, 'PlcOpPrevMismatch');
  assert.equal((await sign(plcOpRequest(g.org, { ...handle, rotationKeys: [g.pds.did] }, [alice, bob]))).json.error, 'PlcOpGuardKeyNotFirst');
  assert.equal((await sign(plcOpRequest(g.org, { ...handle, rotationKeys: [g.pds.did, g.guardDid] }, [alice, bob]))).json.error, 'PlcOpGuardKeyNotFirst');
  assert.equal((await sign(plcOpRequest(g.org, { ...handle, sig: 'x' } as never, [alice, bob]))).json.error, 'PlcOpInvalid');
  assert.equal((await sign({ ...plcOpRequest(g.org, handle, [alice, bob]), repository: alice.did })).json.error, 'RepositoryNotAllowed');
  // The directory refuses (the stand-in refuses what its verifier refuses): PlcOpRejected.
  const submit = g.dir.submit.bind(g.dir);
  g.dir.submit = async () => {
    throw new (await import('../../src/errors.ts')).EncumberError('PlcOpRejected', 'refused by the directory');
  };
  assert.equal((await sign(plcOpRequest(g.org, handle, [alice, bob]))).json.error, 'PlcOpRejected');
  g.dir.submit = submit;
  // The directory down: 503, nothing accepted.
  g.dir.down = true;
  const down = await sign(plcOpRequest(g.org, handle, [alice, bob]));
  assert.equal(down.status, 503);
  assert.equal(down.json.error, 'DirectoryUnavailable');
  g.dir.down = false;
  // Nothing of the above reached the log.
  assert.equal(g.dir.logs.get(g.org)!.length, 1);

  // A DID whose rotation keys do not include the guard key (after a change the guard could not revert).
  const h = await guardedWorld({ guardFirst: false });
  await h.dir.update(h.org, h.pds, (o) => ({ ...o, rotationKeys: [h.pds.did] }));
  const [a2, b2] = h.members as [any, any];
  const res = await procedure(h.w.app, 'dev.encumber.signPlcOp', plcOpRequest(h.org, nextOp(h, (o) => ({ ...o, rotationKeys: [h.guardDid, h.pds.did] })), [a2, b2]));
  assert.equal(res.json.error, 'DidGuardNotRotationKey');
});

test('the watcher composed by bootService: an unapproved #atproto change by the PDS key is reverted and logged in getGuardLog', async () => {
  const g = await guardedWorld();
  await settle(); // the first poll (at start) sets the baseline
  const evil = generateMemberKey();
  const intruder = await g.dir.update(g.org, g.pds, (o) => ({ ...o, verificationMethods: { ...o.verificationMethods, atproto: evil.did } }));
  g.poll();
  await settle();
  await settle();
  const log = g.dir.logs.get(g.org)! as PlcAuditEntry[];
  assert.deepEqual(log.filter((e) => e.nullified).map((e) => e.cid), [intruder]);
  const report = (await query(g.w.app, 'dev.encumber.getGuardLog')).json;
  assert.equal(report.entries.length, 1);
  assert.equal(report.entries[0].intruder.cid, intruder);
  assert.equal(report.entries[0].outcome, 'reverted');
  assert.equal(report.entries[0].recovery.cid, g.dir.head(g.org).cid);
});

test('a failed service signs nothing: the watcher stops, signPlcOp and getGuardLog answer ServiceNotReady', async () => {
  const g = await guardedWorld();
  await settle();
  const [alice, bob] = g.members as [any, any];
  g.w.service.fail();
  await g.dir.update(g.org, g.pds, (o) => ({ ...o, rotationKeys: [g.pds.did] }));
  g.poll();
  await settle();
  assert.equal(g.dir.logs.get(g.org)!.filter((e) => e.nullified).length, 0);
  assert.equal((await procedure(g.w.app, 'dev.encumber.signPlcOp', plcOpRequest(g.org, nextOp(g, (o) => o), [alice, bob]))).json.error, 'ServiceNotReady');
  assert.equal((await query(g.w.app, 'dev.encumber.getGuardLog')).json.error, 'ServiceNotReady');
});

test('an operation built on one the guard will revert is refused (DidGuardIntrusionPending), nothing signed; once reverted, the quorum drafts again on the new head', async () => {
  const g = await guardedWorld();
  const [alice, bob] = g.members as [any, any];
  await settle(); // the guard's first poll: its baseline
  const intruder = await g.dir.update(g.org, g.pds, (o) => ({ ...o, verificationMethods: { ...o.verificationMethods, atproto: generateMemberKey().did } }));
  const before = g.dir.submissions;
  const onTop = await procedure(g.w.app, 'dev.encumber.signPlcOp', plcOpRequest(g.org, nextOp(g, (o) => ({ ...o, alsoKnownAs: ['at://on-top.test'] })), [alice, bob]));
  assert.equal(onTop.status, 422);
  assert.equal(onTop.json.error, 'DidGuardIntrusionPending');
  assert.match(onTop.json.message, new RegExp(intruder));
  assert.equal(g.dir.submissions, before, 'nothing submitted');
  // The guard reverts; the same change drafted on the new head goes through and stays.
  g.poll();
  for (let i = 0; i < 100 && !g.dir.logs.get(g.org)!.some((e) => e.nullified); i++) await settle();
  const again = await procedure(g.w.app, 'dev.encumber.signPlcOp', plcOpRequest(g.org, nextOp(g, (o) => ({ ...o, alsoKnownAs: ['at://on-top.test'] })), [alice, bob]));
  assert.equal(again.status, 200, JSON.stringify(again.json));
  assert.equal(g.dir.head(g.org).cid, again.json.operationCid);
});
