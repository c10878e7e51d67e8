/**
 * The s half of a 64-byte compact r‖s signature as a number, and its
 * negation: (r, n − s) is the other valid signature for the same message,
 * which is why atproto insists on the low one.
 */

/** Big-endian 32-byte scalar at `from`. */
export function readScalar(bytes: Uint8Array, from: number): bigint {
  let v = 0n;
  for (let i = from; i < from + 32; i++) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/**
 * Compare the big-endian 32-byte scalar at `from` with the 32-byte `limit`:
 * negative, zero or positive, like a sort comparator (no numbers are built).
 */
export function compareScalar(bytes: Uint8Array, from: number, limit: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = bytes[from + i]! - limit[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** True when the 32-byte scalar at `from` is zero. */
export function isZeroScalar(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < from + 32; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** A copy of `sig` with s replaced by n − s. */
export function negateS(sig: Uint8Array, n: bigint): Uint8Array {
  let t = n - readScalar(sig, 32);
  const out = sig.slice();
  for (let i = 63; i >= 32; i--) {
    out[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  return out;
}
