/**
 * Attestation providers per platform (the I/O edge of attestation).
 *
 * dev: a local P-384 dev root, created on first start under the data
 * directory (mode 0600 key file) and reused after; documents in the Nitro
 * format, PCR0/1/2 from the program digest. Never trusted by default: a
 * verifier must be given the root (`dev-root.pem`) explicitly.
 *
 * sev-snp: reports from configfs-tsm (see sev-snp/). nitro: the NSM device.
 * Whenever the hardware interface is absent, the service refuses to start on
 * that platform rather than fall back to dev.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EncumberError } from '../errors.ts';
import { encodePem } from '../crypto/encoding.ts';
import { createDevRoot, DevRoot, devPcrsFromDigests, issueDevDocument } from '../attestation/dev/index.ts';
import type { Attestor } from './attestor.ts';
import type { Platform } from './documents.ts';
import { programDigest } from './program-digest.ts';
import { snpAttestor } from './sev-snp/attestor.ts';
import { nitroAttestor, openNsmDevice } from './nitro/index.ts';
import { TSM_REPORT_DIR } from './sev-snp/tsm.ts';

export const DEV_ROOT_FILE = 'dev-root.json';
export const DEV_ROOT_PEM = 'dev-root.pem';

export function loadOrCreateDevRoot(dataDir: string, now: Date): { root: DevRoot; created: boolean; pemPath: string } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, DEV_ROOT_FILE);
  const pemPath = join(dataDir, DEV_ROOT_PEM);
  if (existsSync(file)) {
    const root = DevRoot.import(JSON.parse(readFileSync(file, 'utf8')));
    if (!existsSync(pemPath)) writeFileSync(pemPath, encodePem(root.certificate));
    return { root, created: false, pemPath };
  }
  const root = createDevRoot({ now, validityDays: 3650 });
  writeFileSync(file, JSON.stringify(root.exportWithPrivateKey(), null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  writeFileSync(pemPath, encodePem(root.certificate));
  return { root, created: true, pemPath };
}

export function devAttestor(root: DevRoot, bundleSha384: Uint8Array): Attestor {
  const pcrs = devPcrsFromDigests({ bundleSha384 });
  return {
    platform: 'dev',
    devRoot: root.certificate,
    attest: async (req) =>
      issueDevDocument(root, {
        pcrs,
        publicKey: req.publicKey,
        userData: req.bindingCid,
        nonce: req.nonce,
        now: req.now,
        moduleId: 'encumber-dev',
      }),
  };
}

export interface PlatformOptions {
  dataDir: string;
  now: Date;
  /** Where the hardware would be; overridable so tests can point at a stand-in. */
  nsmDevice?: string;
  tsmReportDir?: string;
  /** SEV-SNP: a certificate table (auxblob format) used when the host supplies none. */
  snpCertsFile?: string;
}

export function createAttestor(platform: Platform, opts: PlatformOptions): { attestor: Attestor; notes: string[] } {
  switch (platform) {
    case 'dev': {
      const { root, created, pemPath } = loadOrCreateDevRoot(opts.dataDir, opts.now);
      return {
        attestor: devAttestor(root, programDigest()),
        notes: [`${created ? 'created' : 'using'} dev root ${pemPath} (verifiers must pass it explicitly: --root ${pemPath})`],
      };
    }
    case 'nitro': {
      const dev = opts.nsmDevice ?? '/dev/nsm';
      if (!existsSync(dev)) {
        throw new EncumberError('UsageError', `platform nitro needs the Nitro Security Module at ${dev}, which is absent: run inside a Nitro Enclave, or use --platform dev`);
      }
      return {
        attestor: nitroAttestor(openNsmDevice({ path: dev })),
        notes: [`Nitro attestation from the NSM at ${dev}`],
      };
    }
    case 'sev-snp': {
      const dir = opts.tsmReportDir ?? TSM_REPORT_DIR;
      if (!existsSync(dir)) {
        throw new EncumberError('UsageError', `platform sev-snp needs configfs-tsm at ${dir}, which is absent: run inside an SEV-SNP guest (Linux ≥ 6.7) with configfs mounted at /sys/kernel/config, or use --platform dev`);
      }
      const fallbackCertTable = opts.snpCertsFile ? readFileSync(opts.snpCertsFile) : undefined;
      return {
        attestor: snpAttestor({ root: dir, ...(fallbackCertTable ? { fallbackCertTable: new Uint8Array(fallbackCertTable) } : {}) }),
        notes: [`SEV-SNP reports from configfs-tsm at ${dir}; certificates from the host's auxblob${opts.snpCertsFile ? `, else ${opts.snpCertsFile}` : ' (no fallback table given: --snp-certs FILE)'}`],
      };
    }
  }
}
