/**
 * QEMU's SEV hashes table (target/i386/sev.c, kernel-hashes=on): what the
 * AmdSev firmware checks the kernel, initrd and command line against before it
 * boots them, placed by QEMU at the firmware's hash-table GPA and measured
 * with the launch.
 *
 *   table  = GUID 9438d606-… ‖ u16 length ‖ entry(cmdline) ‖ entry(initrd) ‖ entry(kernel), zero-padded to 16 bytes
 *   entry  = GUID ‖ u16 length (= 50) ‖ SHA-256
 *
 * The command line is hashed with its trailing NUL (no command line: "\0");
 * no initrd is the hash of zero bytes. Every input can be given as its bytes
 * or as its SHA-256, so a table can be rebuilt from published hashes alone.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { guidBytes } from './guid.ts';
import { PAGE_SIZE } from './ovmf.ts';
import { SnpMeasureError } from './measure-errors.ts';

export const SEV_HASHES_GUIDS = {
  table: '9438d606-4f22-4cc9-b479-a793d411fd21',
  kernel: '4de79437-abd2-427f-b835-d5b172d2045b',
  initrd: '44baf731-3a2f-4bd7-9af1-41e29169781d',
  cmdline: '97d02dd8-bd20-4c94-aa78-e7714d36ab2a',
} as const;

/** A file's bytes, or its SHA-256 when only that is known. */
export type HashedInput = Uint8Array | { sha256: Uint8Array };

export interface SevHashesInputs {
  kernel: HashedInput;
  /** Absent: no -initrd (hash of zero bytes). */
  initrd?: HashedInput;
  /** The -append string (hashed as UTF-8 plus NUL), or the SHA-256 of those bytes. Absent: "". */
  cmdline?: string | { sha256: Uint8Array };
}

const ENTRY_BYTES = 16 + 2 + 32;
const TABLE_BYTES = 16 + 2 + 3 * ENTRY_BYTES; // 168
export const SEV_HASHES_TABLE_BYTES = (TABLE_BYTES + 15) & ~15; // 176

function digestOf(x: HashedInput, what: string): Uint8Array {
  if (x instanceof Uint8Array) return sha256(x);
  if (!(x?.sha256 instanceof Uint8Array) || x.sha256.length !== 32) throw new SnpMeasureError('InvalidMeasureInput', `${what}: a SHA-256 is 32 bytes`);
  return x.sha256;
}

/** The SHA-256 QEMU puts in the table for a command line. */
export function cmdlineSha256(cmdline: string): Uint8Array {
  const text = new TextEncoder().encode(cmdline);
  const bytes = new Uint8Array(text.length + 1);
  bytes.set(text);
  return sha256(bytes);
}

export function sevHashesTable(inputs: SevHashesInputs): Uint8Array {
  const cmd = inputs.cmdline;
  const hashes: [string, Uint8Array][] = [
    [SEV_HASHES_GUIDS.cmdline, typeof cmd === 'object' ? digestOf(cmd, 'cmdline') : cmdlineSha256(cmd ?? '')],
    [SEV_HASHES_GUIDS.initrd, digestOf(inputs.initrd ?? new Uint8Array(0), 'initrd')],
    [SEV_HASHES_GUIDS.kernel, digestOf(inputs.kernel, 'kernel')],
  ];
  const table = new Uint8Array(SEV_HASHES_TABLE_BYTES);
  const v = new DataView(table.buffer);
  table.set(guidBytes(SEV_HASHES_GUIDS.table), 0);
  v.setUint16(16, TABLE_BYTES, true);
  let at = 18;
  for (const [guid, digest] of hashes) {
    table.set(guidBytes(guid), at);
    v.setUint16(at + 16, ENTRY_BYTES, true);
    table.set(digest, at + 18);
    at += ENTRY_BYTES;
  }
  return table;
}

/** The 4 KiB page holding the table at offsetInPage (the low 12 bits of the firmware's hash-table GPA), zeros elsewhere. */
export function sevHashesPage(table: Uint8Array, offsetInPage: number): Uint8Array {
  if (!Number.isInteger(offsetInPage) || offsetInPage < 0 || offsetInPage + table.length > PAGE_SIZE) {
    throw new SnpMeasureError('InvalidMeasureInput', `a ${table.length}-byte hashes table does not fit in a page at offset ${offsetInPage}`);
  }
  const page = new Uint8Array(PAGE_SIZE);
  page.set(table, offsetInPage);
  return page;
}
