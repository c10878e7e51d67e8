/** GUIDs in the mixed-endian byte order EFI, QEMU and the SNP certificate table store them in (first three fields little-endian). */
import { fromHex, toHex } from '../../crypto/encoding.ts';

const GUID = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

export function guidBytes(guid: string): Uint8Array {
  const m = GUID.exec(guid);
  if (!m) throw new Error(`not a GUID: ${guid}`);
  const b = fromHex(m.slice(1).join(''), 'GUID');
  // Data1 (4), Data2 (2), Data3 (2) are little-endian.
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b;
}

export function guidEqual(bytes: Uint8Array, at: number, guid: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (bytes[at + i] !== guid[i]) return false;
  return true;
}

export function guidString(bytes: Uint8Array, at = 0): string {
  // A copy (a Node buffer's slice is a view: reversing it would change the caller's bytes).
  const c = new Uint8Array(bytes.subarray(at, at + 16));
  c.subarray(0, 4).reverse();
  c.subarray(4, 6).reverse();
  c.subarray(6, 8).reverse();
  const h = toHex(c);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
