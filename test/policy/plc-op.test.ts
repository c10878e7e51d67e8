/** Quorum-approved PLC operations (src/policy/plc-op.ts): the strict shape, the payload members sign, the rules against the DID's state. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPlcOpAgainstState, parseUnsignedPlcOp, plcOpPayload, PLC_OP_TYPE } from '../../src/policy/plc-op.ts';
import { buildPayload } from '../../src/policy/payload.ts';
import { generateMemberKey } from '../../src/member/keys.ts';
import type { PlcState } from '../../src/plc/types.ts';

const DID = 'did:plc:orgorgorgorgorgorgorgorg';
const guard = generateMemberKey().did;
const pds = generateMemberKey().did;
const HEAD = 'bafyreihead';
const op = () => ({
  type: 'plc_operation',
  rotationKeys: [guard, pds],
  verificationMethods: { atproto: generateMemberKey().did },
  alsoKnownAs: ['at://org.test'],
  services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://pds.example' } },
  prev: HEAD,
});
const state = (over: Partial<PlcState> = {}): PlcState =>
  ({ did: DID, rotationKeys: [guard, pds], verificationMethods: {}, alsoKnownAs: [], services: {}, tombstoned: false, head: { cid: HEAD, createdAt: '2026-01-01T00:00:00.000Z', index: 0 }, nullified: [false], canonicalCids: [HEAD], entryCids: [HEAD], warnings: [], ...over }) as PlcState;

test('the operation is parsed strictly: PlcOpInvalid for a sig, an unknown field, a tombstone, a null prev, repeated or too many keys', () => {
  assert.equal(parseUnsignedPlcOp(op()).prev, HEAD);
  for (const bad of [
    { ...op(), sig: 'x' },
    { ...op(), extra: 1 },
    { type: 'plc_tombstone', prev: HEAD },
    { ...op(), prev: null },
    { ...op(), rotationKeys: [guard, guard] },
    { ...op(), rotationKeys: [guard, pds, pds + 'a', 'b', 'c', 'd'] },
    { ...op(), rotationKeys: ['not a key'] },
    {},
  ]) {
    assert.throws(() => parseUnsignedPlcOp(bad), { code: 'PlcOpInvalid' }, JSON.stringify(bad).slice(0, 60));
  }
});

test('the payload is a dev.encumber.plcOp document with $sig naming the DID and the collection dev.encumber.plcOp: never a record payload', () => {
  const o = parseUnsignedPlcOp(op());
  const p = plcOpPayload(DID, o);
  assert.deepEqual((p.value as any).$sig, { $type: 'dev.encumber.payload', repository: DID, collection: PLC_OP_TYPE });
  assert.equal((p.value as any).operation.prev, HEAD);
  const asRecord = buildPayload({ $type: 'app.bsky.feed.post', did: DID, operation: o as never }, DID, 'app.bsky.feed.post');
  assert.notEqual(asRecord.cid.toString(), p.cid.toString());
  assert.notEqual(plcOpPayload('did:plc:otherotherotherotherothe', o).cid.toString(), p.cid.toString());
});

test('rules against the state: the guard key listed, prev = head, the guard key first', () => {
  const o = parseUnsignedPlcOp(op());
  checkPlcOpAgainstState(o, state(), guard);
  assert.throws(() => checkPlcOpAgainstState(o, state({ rotationKeys: [pds] }), guard), { code: 'DidGuardNotRotationKey' });
  assert.throws(() => checkPlcOpAgainstState(o, state({ tombstoned: true, rotationKeys: [] }), guard), { code: 'DidGuardNotRotationKey' });
  assert.throws(() => checkPlcOpAgainstState({ ...o, prev: 'bafyreiother' }, state(), guard), { code: 'PlcOpPrevMismatch' });
  assert.throws(() => checkPlcOpAgainstState({ ...o, rotationKeys: [pds, guard] }, state(), guard), { code: 'PlcOpGuardKeyNotFirst' });
  assert.throws(() => checkPlcOpAgainstState({ ...o, rotationKeys: [pds] }, state(), guard), { code: 'PlcOpGuardKeyNotFirst' });
  assert.throws(() => checkPlcOpAgainstState({ ...o, rotationKeys: [pds] }, state(), guard, { allowRelease: false }), { code: 'PlcOpGuardKeyNotFirst' });
});

test('allowRelease: a quorum may give the DID up (another key first, or the guard key dropped); the other rules still hold', () => {
  const o = parseUnsignedPlcOp(op());
  checkPlcOpAgainstState({ ...o, rotationKeys: [pds, guard] }, state(), guard, { allowRelease: true });
  checkPlcOpAgainstState({ ...o, rotationKeys: [pds] }, state(), guard, { allowRelease: true });
  assert.throws(() => checkPlcOpAgainstState({ ...o, rotationKeys: [pds], prev: 'bafyreiother' }, state(), guard, { allowRelease: true }), { code: 'PlcOpPrevMismatch' });
  assert.throws(() => checkPlcOpAgainstState({ ...o, rotationKeys: [pds] }, state({ rotationKeys: [pds] }), guard, { allowRelease: true }), { code: 'DidGuardNotRotationKey' });
});
