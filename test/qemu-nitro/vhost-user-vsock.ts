/**
 * A vhost-user-vsock backend that carries no traffic: it answers the
 * vhost-user requests QEMU sends while it sets up the `nitro-enclave`
 * machine's vsock device (and when the guest driver starts it), so the
 * machine starts and the guest's virtio-vsock driver probes. Guest
 * connections go nowhere (a connect to the parent times out in the guest).
 *
 * Plain Node, no native code. vhost-user passes file descriptors
 * (SCM_RIGHTS) with SET_MEM_TABLE and SET_VRING_KICK/CALL/ERR; a read without
 * ancillary space makes the kernel close them, which is right for a backend
 * that never touches guest memory or eventfds. The message bytes still arrive.
 *
 * Protocol (QEMU docs/interop/vhost-user.rst): a 12-byte header, all
 * little-endian: u32 request, u32 flags (bits 0-1 version = 1, bit 2 reply,
 * bit 3 need-reply), u32 size; then `size` bytes of payload.
 *
 *   node --import tsx test/qemu-nitro/vhost-user-vsock.ts SOCKET [GUEST_CID]
 */
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const VHOST_USER = {
  GET_FEATURES: 1,
  SET_FEATURES: 2,
  SET_OWNER: 3,
  RESET_OWNER: 4,
  SET_MEM_TABLE: 5,
  SET_LOG_BASE: 6,
  SET_LOG_FD: 7,
  SET_VRING_NUM: 8,
  SET_VRING_ADDR: 9,
  SET_VRING_BASE: 10,
  GET_VRING_BASE: 11,
  SET_VRING_KICK: 12,
  SET_VRING_CALL: 13,
  SET_VRING_ERR: 14,
  GET_PROTOCOL_FEATURES: 15,
  SET_PROTOCOL_FEATURES: 16,
  GET_QUEUE_NUM: 17,
  SET_VRING_ENABLE: 18,
  SET_BACKEND_REQ_FD: 21,
  GET_CONFIG: 24,
  SET_CONFIG: 25,
  GET_MAX_MEM_SLOTS: 36,
  SET_STATUS: 39,
  GET_STATUS: 40,
} as const;

const NAMES = new Map<number, string>(Object.entries(VHOST_USER).map(([k, v]) => [v, k]));
export const requestName = (request: number): string => NAMES.get(request) ?? `UNKNOWN(${request})`;

export const HEADER_BYTES = 12;
export const FLAG_VERSION = 0x1;
export const FLAG_REPLY = 0x4;
export const FLAG_NEED_REPLY = 0x8;
/** QEMU's own bound on a message payload (VHOST_USER_PAYLOAD_SIZE is far smaller; this only stops garbage). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** virtio feature bits the backend offers. */
export const VIRTIO_F_VERSION_1 = 32n;
export const VHOST_USER_F_PROTOCOL_FEATURES = 30n;
/** vhost-user protocol feature bits: CONFIG (vhost-user-vsock reads guest_cid through GET_CONFIG). */
export const VHOST_USER_PROTOCOL_F_CONFIG = 9n;

export const BACKEND_FEATURES = (1n << VIRTIO_F_VERSION_1) | (1n << VHOST_USER_F_PROTOCOL_FEATURES);
export const BACKEND_PROTOCOL_FEATURES = 1n << VHOST_USER_PROTOCOL_F_CONFIG;
/** Size of VhostUserConfig's header: u32 offset, u32 size, u32 flags. */
export const CONFIG_HEADER_BYTES = 12;

export interface VhostUserMessage {
  request: number;
  flags: number;
  payload: Uint8Array;
}

export class VhostUserProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VhostUserProtocolError';
  }
}

/**
 * Splits a byte stream into messages. push() takes what arrived and returns
 * every message it completes; a partial one waits for the next chunk.
 */
export class MessageReader {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): VhostUserMessage[] {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
    const out: VhostUserMessage[] = [];
    while (this.#buf.length >= HEADER_BYTES) {
      const request = this.#buf.readUInt32LE(0);
      const flags = this.#buf.readUInt32LE(4);
      const size = this.#buf.readUInt32LE(8);
      if ((flags & 0x3) !== FLAG_VERSION) throw new VhostUserProtocolError(`${requestName(request)}: version ${flags & 0x3}, expected ${FLAG_VERSION}`);
      if (size > MAX_PAYLOAD_BYTES) throw new VhostUserProtocolError(`${requestName(request)}: payload of ${size} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
      if (this.#buf.length < HEADER_BYTES + size) break;
      out.push({ request, flags, payload: new Uint8Array(this.#buf.subarray(HEADER_BYTES, HEADER_BYTES + size)) });
      this.#buf = this.#buf.subarray(HEADER_BYTES + size);
    }
    return out;
  }

  /** Bytes received but not yet a whole message. */
  get pending(): number {
    return this.#buf.length;
  }
}

export function encodeMessage(request: number, flags: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt32LE(request, 0);
  head.writeUInt32LE(flags, 4);
  head.writeUInt32LE(payload.length, 8);
  return Buffer.concat([head, payload]);
}

const u64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};

export interface BackendState {
  guestCid: bigint;
  /** Requests seen, by name, in order (for tests and the log). */
  seen: string[];
}

/**
 * The backend's answer to one message: the reply bytes, or null when the
 * request takes none. Requests that take no reply are accepted and ignored;
 * a NEED_REPLY flag is only honoured with REPLY_ACK, which we do not offer.
 */
export function answer(msg: VhostUserMessage, state: BackendState): Buffer | null {
  state.seen.push(requestName(msg.request));
  const reply = (payload: Uint8Array) => encodeMessage(msg.request, FLAG_VERSION | FLAG_REPLY, payload);
  switch (msg.request) {
    case VHOST_USER.GET_FEATURES:
      return reply(u64(BACKEND_FEATURES));
    case VHOST_USER.GET_PROTOCOL_FEATURES:
      return reply(u64(BACKEND_PROTOCOL_FEATURES));
    case VHOST_USER.GET_QUEUE_NUM:
      return reply(u64(3n));
    case VHOST_USER.GET_MAX_MEM_SLOTS:
      return reply(u64(8n));
    case VHOST_USER.GET_STATUS:
      return reply(u64(0n));
    case VHOST_USER.GET_VRING_BASE: {
      // struct vhost_vring_state { u32 index; u32 num }: the queue's index back, position 0.
      if (msg.payload.length < 8) throw new VhostUserProtocolError(`GET_VRING_BASE: payload of ${msg.payload.length} bytes, expected 8`);
      const p = Buffer.alloc(8);
      p.writeUInt32LE(Buffer.from(msg.payload).readUInt32LE(0), 0);
      return reply(p);
    }
    case VHOST_USER.GET_CONFIG: {
      // VhostUserConfig { u32 offset; u32 size; u32 flags; u8 region[size] }: virtio_vsock_config is { le64 guest_cid }.
      if (msg.payload.length < CONFIG_HEADER_BYTES) throw new VhostUserProtocolError(`GET_CONFIG: payload of ${msg.payload.length} bytes, expected at least ${CONFIG_HEADER_BYTES}`);
      const p = Buffer.from(msg.payload);
      const offset = p.readUInt32LE(0);
      const size = p.readUInt32LE(4);
      if (p.length !== CONFIG_HEADER_BYTES + size) throw new VhostUserProtocolError(`GET_CONFIG: size field ${size} does not match the payload (${p.length - CONFIG_HEADER_BYTES} bytes)`);
      const config = Buffer.alloc(Math.max(8, offset + size));
      config.writeBigUInt64LE(state.guestCid, 0);
      config.copy(p, CONFIG_HEADER_BYTES, offset, offset + size);
      return reply(p);
    }
    default:
      return null;
  }
}

export interface StubOptions {
  path: string;
  guestCid?: bigint;
  log?: (line: string) => void;
}

export interface VsockStub {
  path: string;
  state: BackendState;
  close(): Promise<void>;
}

/** Listens on the UNIX socket `path` (replacing a stale one) and serves each connection from QEMU. */
export function startVsockStub(opts: StubOptions): Promise<VsockStub> {
  const log = opts.log ?? (() => {});
  const state: BackendState = { guestCid: opts.guestCid ?? 4n, seen: [] };
  const sockets = new Set<Socket>();
  rmSync(opts.path, { force: true });
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    const reader = new MessageReader();
    sock.on('data', (chunk) => {
      try {
        for (const msg of reader.push(chunk)) {
          const out = answer(msg, state);
          log(`vhost-user ${requestName(msg.request)}${out ? ' → reply' : ''}`);
          if (out) sock.write(out);
        }
      } catch (e) {
        log(`vhost-user: ${(e as Error).message}; closing the connection`);
        sock.destroy();
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.path, () => {
      resolve({
        path: opts.path,
        state,
        close: () =>
          new Promise<void>((ok) => {
            for (const s of sockets) s.destroy();
            server.close(() => {
              rmSync(opts.path, { force: true });
              ok();
            });
          }),
      });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [path, cid] = process.argv.slice(2);
  if (!path) {
    console.error('usage: vhost-user-vsock.ts SOCKET [GUEST_CID]');
    process.exit(2);
  }
  const stub = await startVsockStub({ path, guestCid: BigInt(cid ?? 4), log: (l) => console.error(l) });
  console.error(`vhost-user-vsock stub listening on ${stub.path} (guest CID ${stub.state.guestCid})`);
  process.once('SIGINT', () => void stub.close().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stub.close().then(() => process.exit(0)));
}
