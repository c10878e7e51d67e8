/** GUIDs in the mixed-endian byte order EFI and QEMU store them in (first three fields little-endian). */
export function guidBytes(guid: string): Uint8Array {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(guid);
  if (!m) throw new Error(`not a GUID: ${guid}`);
  const hex = (s: string) => s.match(/../g)!.map((b) => parseInt(b, 16));
  return new Uint8Array([...hex(m[1]!).reverse(), ...hex(m[2]!).reverse(), ...hex(m[3]!).reverse(), ...hex(m[4]!), ...hex(m[5]!)]);
}

export function guidEqual(bytes: Uint8Array, at: number, guid: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (bytes[at + i] !== guid[i]) return false;
  return true;
}

export function guidString(bytes: Uint8Array, at = 0): string {
  const h = (from: number, to: number, rev: boolean) => {
    const a = Array.from(bytes.subarray(at + from, at + to), (b) => b.toString(16).padStart(2, '0'));
    return (rev ? a.reverse() : a).join('');
  };
  return `${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}`;
}
