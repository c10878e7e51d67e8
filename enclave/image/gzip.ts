/**
 * gzip with nothing of the build machine in it (the `gzip -n` of the image
 * build): node:zlib writes a bare 10-byte header — no FNAME, no FCOMMENT,
 * MTIME 0 — and we check that, then pin the OS byte to 3 (Unix) ourselves
 * rather than trust the compile-time OS_CODE of whichever zlib Node carries.
 * The OS byte is not covered by the trailer's CRC-32 (that is over the
 * uncompressed data), so setting it is safe.
 *
 * The deflate stream itself depends on the zlib inside Node, which is why the
 * image build runs on the pinned Node binary (see runtime.ts). Node 20.20.2's
 * zlib (Chromium's fork) gives the same bytes with and without SSE4.2/PCLMUL
 * (checked under qemu-x86_64 -cpu qemu64): its deflate does not pick a CPU-
 * dependent hash.
 */
import { gunzipSync, gzipSync, constants } from 'node:zlib';

export const GZIP_LEVEL = 9;
const OS_UNIX = 3;

export class GzipHeaderError extends Error {
  readonly code = 'GzipHeader';
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string) {
    super(`gzip header: expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
    this.name = 'GzipHeaderError';
  }
}

/** The fixed 10-byte header every output starts with (XFL 2 = "maximum compression", level 9). */
export const GZIP_HEADER = Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, OS_UNIX]);

export function gzipDeterministic(data: Uint8Array): Uint8Array {
  const out = gzipSync(data, { level: GZIP_LEVEL, memLevel: 8, windowBits: 15, strategy: constants.Z_DEFAULT_STRATEGY });
  out[9] = OS_UNIX;
  const head = Buffer.from(out.subarray(0, 10)).toString('hex');
  const want = Buffer.from(GZIP_HEADER).toString('hex');
  if (head !== want) throw new GzipHeaderError(want, head);
  return out;
}

export function gunzip(data: Uint8Array): Uint8Array {
  return gunzipSync(data);
}
