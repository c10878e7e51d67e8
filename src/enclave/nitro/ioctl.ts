/**
 * The NSM ioctl, as numbers and bytes (pure). From uapi/linux/nsm.h:
 *
 *   struct nsm_iovec { __u64 addr; __u64 len; };
 *   struct nsm_raw   { struct nsm_iovec request; struct nsm_iovec response; };   // 32 bytes
 *   #define NSM_IOCTL_RAW _IOWR(0x0A, 0x0, struct nsm_raw)
 *
 * (AWS's older out-of-tree driver calls the same layout `struct nsm_message`
 * of two `struct iovec`, NSM_IOCTL_REQUEST: on 64-bit Linux the bytes are the
 * same.) The request number follows asm-generic/ioctl.h, which x86-64 and
 * arm64 — the two Nitro architectures — both use; both are little-endian.
 * The driver writes the response length back into response.len (truncated to
 * the buffer: min(buffer, response)).
 */

/** asm-generic/ioctl.h field widths and directions. */
export const IOC = { nrBits: 8, typeBits: 8, sizeBits: 14, dirBits: 2, none: 0, write: 1, read: 2 } as const;

/** _IOC(dir, type, nr, size) as an unsigned 32-bit number. */
export function ioc(dir: number, type: number, nr: number, size: number): number {
  const fits = (v: number, bits: number) => Number.isInteger(v) && v >= 0 && v < 2 ** bits;
  if (!fits(dir, IOC.dirBits) || !fits(type, IOC.typeBits) || !fits(nr, IOC.nrBits) || !fits(size, IOC.sizeBits)) {
    throw new RangeError(`_IOC(${dir}, ${type}, ${nr}, ${size}): a field does not fit its bits`);
  }
  const typeShift = IOC.nrBits;
  const sizeShift = typeShift + IOC.typeBits;
  const dirShift = sizeShift + IOC.sizeBits;
  return ((dir << dirShift) | (size << sizeShift) | (type << typeShift) | nr) >>> 0;
}

export const iowr = (type: number, nr: number, size: number): number => ioc(IOC.read | IOC.write, type, nr, size);

export const NSM_MAGIC = 0x0a;
/** sizeof(struct nsm_raw): two { u64 addr; u64 len }. */
export const NSM_MESSAGE_BYTES = 32;
/** 0xC0200A00 */
export const NSM_IOCTL_REQUEST = iowr(NSM_MAGIC, 0, NSM_MESSAGE_BYTES);

export interface NsmMessage {
  requestAddr: bigint;
  requestLen: number;
  responseAddr: bigint;
  responseLen: number;
}

/** struct nsm_raw as the kernel reads it: four little-endian u64 in field order. */
export function encodeNsmMessage(m: NsmMessage): Uint8Array {
  const out = new Uint8Array(NSM_MESSAGE_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt.asUintN(64, m.requestAddr), true);
  view.setBigUint64(8, BigInt(m.requestLen), true);
  view.setBigUint64(16, BigInt.asUintN(64, m.responseAddr), true);
  view.setBigUint64(24, BigInt(m.responseLen), true);
  return out;
}

export function decodeNsmMessage(bytes: Uint8Array): NsmMessage {
  if (bytes.length !== NSM_MESSAGE_BYTES) throw new RangeError(`struct nsm_raw is ${NSM_MESSAGE_BYTES} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = (off: number) => {
    const v = view.getBigUint64(off, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  return {
    requestAddr: view.getBigUint64(0, true),
    requestLen: len(8),
    responseAddr: view.getBigUint64(16, true),
    responseLen: len(24),
  };
}
