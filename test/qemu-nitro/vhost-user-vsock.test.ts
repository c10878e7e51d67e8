/**
 * The vhost-user-vsock stub: message framing (split and joined chunks,
 * malformed headers), the replies QEMU waits for at start-up, and one round
 * trip over a real UNIX socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  answer,
  BACKEND_FEATURES,
  BACKEND_PROTOCOL_FEATURES,
  encodeMessage,
  FLAG_REPLY,
  FLAG_VERSION,
  MAX_PAYLOAD_BYTES,
  MessageReader,
  startVsockStub,
  VHOST_USER,
  VhostUserProtocolError,
  type BackendState,
} from './vhost-user-vsock.ts';

const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};
const state = (): BackendState => ({ guestCid: 16n, seen: [] });
const configRequest = (offset: number, size: number) => {
  const p = Buffer.alloc(12 + size);
  p.writeUInt32LE(offset, 0);
  p.writeUInt32LE(size, 4);
  return p;
};

test('the reader splits joined messages and waits for split ones', () => {
  const a = encodeMessage(VHOST_USER.SET_OWNER, FLAG_VERSION, new Uint8Array());
  const b = encodeMessage(VHOST_USER.SET_FEATURES, FLAG_VERSION, u64(1n << 32n));
  const c = encodeMessage(VHOST_USER.SET_VRING_NUM, FLAG_VERSION, Buffer.from([0, 0, 0, 0, 0, 1, 0, 0]));
  const all = Buffer.concat([a, b, c]);
  const reader = new MessageReader();
  // One byte at a time: nothing is lost or duplicated.
  const got = [];
  for (const byte of all) got.push(...reader.push(Uint8Array.of(byte)));
  assert.deepEqual(got.map((m) => m.request), [VHOST_USER.SET_OWNER, VHOST_USER.SET_FEATURES, VHOST_USER.SET_VRING_NUM]);
  assert.deepEqual(Buffer.from(got[1]!.payload), u64(1n << 32n));
  assert.equal(reader.pending, 0);
  // All at once, then half a header more.
  const r2 = new MessageReader();
  assert.equal(r2.push(Buffer.concat([all, a.subarray(0, 6)])).length, 3);
  assert.equal(r2.pending, 6);
  assert.equal(r2.push(a.subarray(6)).length, 1);
});

test('the reader refuses a wrong version and an oversized payload', () => {
  assert.throws(() => new MessageReader().push(encodeMessage(VHOST_USER.GET_FEATURES, 0x2, new Uint8Array())), VhostUserProtocolError);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(VHOST_USER.SET_MEM_TABLE, 0);
  head.writeUInt32LE(FLAG_VERSION, 4);
  head.writeUInt32LE(MAX_PAYLOAD_BYTES + 1, 8);
  assert.throws(() => new MessageReader().push(head), /exceeds/);
});

test('GET_FEATURES and GET_PROTOCOL_FEATURES: VERSION_1 + PROTOCOL_FEATURES, and CONFIG', () => {
  const s = state();
  const f = answer({ request: VHOST_USER.GET_FEATURES, flags: FLAG_VERSION, payload: new Uint8Array() }, s)!;
  const [msg] = new MessageReader().push(f);
  assert.equal(msg!.request, VHOST_USER.GET_FEATURES);
  assert.equal(msg!.flags, FLAG_VERSION | FLAG_REPLY);
  assert.equal(Buffer.from(msg!.payload).readBigUInt64LE(), BACKEND_FEATURES);
  assert.equal(BACKEND_FEATURES, (1n << 32n) | (1n << 30n));
  const p = answer({ request: VHOST_USER.GET_PROTOCOL_FEATURES, flags: FLAG_VERSION, payload: new Uint8Array() }, s)!;
  assert.equal(Buffer.from(new MessageReader().push(p)[0]!.payload).readBigUInt64LE(), BACKEND_PROTOCOL_FEATURES);
  assert.deepEqual(s.seen, ['GET_FEATURES', 'GET_PROTOCOL_FEATURES']);
});

test('GET_CONFIG answers guest_cid; a size that does not match the payload is refused', () => {
  const out = answer({ request: VHOST_USER.GET_CONFIG, flags: FLAG_VERSION, payload: configRequest(0, 8) }, state())!;
  const [msg] = new MessageReader().push(out);
  assert.equal(msg!.payload.length, 20);
  assert.equal(Buffer.from(msg!.payload).readBigUInt64LE(12), 16n);
  const bad = configRequest(0, 8).subarray(0, 16);
  assert.throws(() => answer({ request: VHOST_USER.GET_CONFIG, flags: FLAG_VERSION, payload: bad }, state()), /does not match/);
});

test('GET_VRING_BASE echoes the index; set requests take no reply', () => {
  const req = Buffer.alloc(8);
  req.writeUInt32LE(2, 0);
  req.writeUInt32LE(77, 4);
  const [msg] = new MessageReader().push(answer({ request: VHOST_USER.GET_VRING_BASE, flags: FLAG_VERSION, payload: req }, state())!);
  assert.deepEqual([Buffer.from(msg!.payload).readUInt32LE(0), Buffer.from(msg!.payload).readUInt32LE(4)], [2, 0]);
  for (const r of [VHOST_USER.SET_OWNER, VHOST_USER.SET_MEM_TABLE, VHOST_USER.SET_VRING_KICK, VHOST_USER.SET_VRING_CALL, VHOST_USER.SET_VRING_ENABLE, 999]) {
    assert.equal(answer({ request: r, flags: FLAG_VERSION, payload: new Uint8Array(8) }, state()), null);
  }
});

test('over a UNIX socket: the start-up exchange QEMU performs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vhost-stub-'));
  const stub = await startVsockStub({ path: join(dir, 'vsock.sock'), guestCid: 5n });
  try {
    const sock = connect(stub.path);
    const reader = new MessageReader();
    const replies: number[] = [];
    let cid = -1n;
    const done = new Promise<void>((ok) =>
      sock.on('data', (d) => {
        for (const m of reader.push(d)) {
          replies.push(m.request);
          if (m.request === VHOST_USER.GET_CONFIG) cid = Buffer.from(m.payload).readBigUInt64LE(12);
        }
        if (replies.length === 3) ok();
      }),
    );
    sock.write(
      Buffer.concat([
        encodeMessage(VHOST_USER.GET_FEATURES, FLAG_VERSION, new Uint8Array()),
        encodeMessage(VHOST_USER.GET_PROTOCOL_FEATURES, FLAG_VERSION, new Uint8Array()),
        encodeMessage(VHOST_USER.SET_PROTOCOL_FEATURES, FLAG_VERSION, u64(BACKEND_PROTOCOL_FEATURES)),
        encodeMessage(VHOST_USER.SET_OWNER, FLAG_VERSION, new Uint8Array()),
        encodeMessage(VHOST_USER.GET_CONFIG, FLAG_VERSION, configRequest(0, 8)),
      ]),
    );
    await done;
    sock.destroy();
    assert.deepEqual(replies, [VHOST_USER.GET_FEATURES, VHOST_USER.GET_PROTOCOL_FEATURES, VHOST_USER.GET_CONFIG]);
    assert.equal(cid, 5n);
    assert.deepEqual(stub.state.seen, ['GET_FEATURES', 'GET_PROTOCOL_FEATURES', 'SET_PROTOCOL_FEATURES', 'SET_OWNER', 'GET_CONFIG']);
  } finally {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
