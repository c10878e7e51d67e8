/**
 * configfs-tsm (Linux ≥ 6.7): the kernel's generic report interface.
 *
 *   mkdir  /sys/kernel/config/tsm/report/<entry>
 *   read   generation                      (before)
 *   write  inblob  ← 64 bytes report_data
 *   read   outblob → the report; auxblob → the certificate table (if the host provides it)
 *   read   generation                      (after: must be before + 1, else someone raced us)
 *   read   provider (must be "sev_guest")
 *   rmdir  <entry>
 *
 * The file system is injected so tests can run the flow against a stand-in
 * that behaves like the kernel (a directory tree that answers inblob writes).
 */
import { mkdir, readFile, rmdir, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EncumberError } from '../../errors.ts';
import { toHex } from '../../crypto/encoding.ts';

export const TSM_REPORT_DIR = '/sys/kernel/config/tsm/report';

export interface TsmFs {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  exists(path: string): Promise<boolean>;
}

export const nodeTsmFs: TsmFs = {
  mkdir: async (p) => {
    await mkdir(p);
  },
  rmdir: (p) => rmdir(p),
  readFile: async (p) => new Uint8Array(await readFile(p)),
  writeFile: (p, d) => writeFile(p, d),
  exists: (p) =>
    access(p).then(
      () => true,
      () => false,
    ),
};

export interface TsmReport {
  report: Uint8Array;
  /** Certificate table; empty when the host supplies none. */
  auxblob: Uint8Array;
  provider: string;
}

function failed(message: string, cause?: unknown): EncumberError {
  return new EncumberError('InternalError', `configfs-tsm: ${message}`, { cause });
}

export async function tsmAvailable(root = TSM_REPORT_DIR, fs: TsmFs = nodeTsmFs): Promise<boolean> {
  return fs.exists(root);
}

export async function requestTsmReport(reportData: Uint8Array, opts: { root?: string; fs?: TsmFs; privlevel?: number } = {}): Promise<TsmReport> {
  const root = opts.root ?? TSM_REPORT_DIR;
  const fs = opts.fs ?? nodeTsmFs;
  if (reportData.length !== 64) throw new EncumberError('UsageError', 'SNP report_data must be 64 bytes');
  const entry = join(root, `encumber-${toHex(randomBytes(8))}`);
  try {
    await fs.mkdir(entry);
  } catch (cause) {
    throw failed(`cannot create ${entry} (is configfs mounted and tsm available?)`, cause);
  }
  try {
    const readGeneration = async () => Number(new TextDecoder().decode(await fs.readFile(join(entry, 'generation'))).trim());
    const before = await readGeneration();
    let writes = 0;
    if (opts.privlevel !== undefined) {
      await fs.writeFile(join(entry, 'privlevel'), new TextEncoder().encode(String(opts.privlevel)));
      writes++;
    }
    await fs.writeFile(join(entry, 'inblob'), reportData);
    writes++;
    const report = await fs.readFile(join(entry, 'outblob'));
    const auxblob = (await fs.exists(join(entry, 'auxblob'))) ? await fs.readFile(join(entry, 'auxblob')) : new Uint8Array();
    const after = await readGeneration();
    if (!Number.isInteger(before) || after !== before + writes) {
      throw failed(`generation moved from ${before} to ${after} (expected ${before + writes}): another writer raced this request`);
    }
    const provider = new TextDecoder().decode(await fs.readFile(join(entry, 'provider'))).trim();
    if (provider !== 'sev_guest') throw failed(`provider is ${JSON.stringify(provider)}, expected "sev_guest"`);
    return { report, auxblob, provider };
  } finally {
    await fs.rmdir(entry).catch(() => {});
  }
}
