/**
 * CRC-32/IEEE (the ISO-HDLC / zlib CRC: reflected polynomial 0xEDB88320,
 * init and final XOR 0xFFFFFFFF), incremental. AWS computes it with the `crc`
 * crate (CRC_32_ISO_HDLC, earlier crc32::IEEE with initial 0, the same CRC).
 * Written here rather than taken from node:zlib so the core has no
 * Node-version dependency (zlib.crc32 only exists from Node 20.15).
 */
import { CRC_OFFSET, HEADER_SIZE } from './format.ts';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Continue a CRC: `crc32Update(crc32Update(0, a), b) === crc32(a ‖ b)`. */
export function crc32Update(crc: number, data: Uint8Array): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

export function crc32(data: Uint8Array): number {
  return crc32Update(0, data);
}

/** eif_crc32: the CRC of the whole file except the CRC field itself (the header's last 4 bytes). */
export function eifCrc(bytes: Uint8Array): number {
  return crc32Update(crc32Update(0, bytes.subarray(0, CRC_OFFSET)), bytes.subarray(HEADER_SIZE));
}
