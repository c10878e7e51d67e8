/**
 * The service's flags, defined once: `encumber serve` declares them to its
 * command parser from this table, and the enclave image's entry point
 * (./main.ts) reads them with node:util's parseArgs, so the image needs no
 * CLI framework and both accept exactly the same flags (the image's /init
 * passes --platform, --host, --port, --data-dir and --policy).
 */
import { parseArgs } from 'node:util';
import type { Platform } from './documents.ts';

export interface ServeFlags {
  policy?: string;
  port: string;
  host: string;
  platform: string;
  dataDir: string;
  quiet?: boolean;
  /** Run the demo policy (public member keys) on a hardware platform anyway. */
  allowDemoPolicy?: boolean;
  snpCerts?: string;
  /** Take the enclave key from the running instance at this URL (attested hand-off, docs/key-handoff.md). */
  join?: string;
  /** For tests: where the hardware interfaces are (not flags). */
  tsmReportDir?: string;
  nsmDevice?: string;
}

export interface ServeOption {
  /** Long flag name, without the dashes. */
  flag: string;
  /** The ServeFlags key it sets. */
  key: keyof ServeFlags;
  /** The value's placeholder; absent for a switch. */
  value?: string;
  default?: string;
  description: string;
}

export const SERVE_OPTIONS: readonly ServeOption[] = [
  { flag: 'policy', key: 'policy', value: 'file', description: 'policy JSON (default: the embedded demo policy, refused on nitro and sev-snp)' },
  {
    flag: 'allow-demo-policy',
    key: 'allowDemoPolicy',
    description: 'nitro/sev-snp: run the demo policy anyway (its member keys are public: anyone can get records signed)',
  },
  { flag: 'port', key: 'port', value: 'n', default: '8080', description: 'TCP port' },
  { flag: 'host', key: 'host', value: 'addr', default: '127.0.0.1', description: 'address to listen on' },
  { flag: 'platform', key: 'platform', value: 'p', default: 'dev', description: 'dev | nitro | sev-snp' },
  { flag: 'data-dir', key: 'dataDir', value: 'dir', default: '.data', description: 'where the dev root lives' },
  { flag: 'snp-certs', key: 'snpCerts', value: 'file', description: 'sev-snp: certificate table (auxblob format) to use when the host supplies none' },
  {
    flag: 'join',
    key: 'join',
    value: 'url',
    description: 'take the enclave key from the running instance at this URL by attested hand-off (same policy, approved program); serve only once it is held',
  },
  { flag: 'quiet', key: 'quiet', description: 'no request log lines' },
];

export const PLATFORMS: readonly Platform[] = ['dev', 'nitro', 'sev-snp'];

/** A flag value that cannot be used; the entry points answer it with exit status 2. */
export class FlagError extends Error {
  override name = 'FlagError';
}

/** The checked values of the flags that are not passed through as text. */
export function checkServeFlags(flags: ServeFlags): { platform: Platform; port: number } {
  const platform = flags.platform as Platform;
  if (!PLATFORMS.includes(platform)) throw new FlagError('--platform must be dev, nitro or sev-snp');
  const port = Number(flags.port);
  if (!/^\d+$/.test(flags.port) || !Number.isInteger(port) || port < 0 || port > 65535) throw new FlagError('--port must be 0..65535');
  if (flags.join !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(flags.join);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new FlagError('--join must be an http(s) URL of a running instance');
  }
  return { platform, port };
}

export function serveUsage(program: string): string {
  const lines = SERVE_OPTIONS.map((o) => {
    const left = `--${o.flag}${o.value ? ` <${o.value}>` : ''}`;
    return `  ${left.padEnd(24)}${o.description}${o.default !== undefined ? ` (default: "${o.default}")` : ''}`;
  });
  return [`Usage: ${program} [options]`, '', 'Options:', ...lines, `  ${'-h, --help'.padEnd(24)}display help`].join('\n');
}

/** `argv` without the node and script paths. `help` when -h/--help was given. */
export function parseServeArgs(argv: string[]): { help: true } | { help: false; flags: ServeFlags } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const o of SERVE_OPTIONS) options[o.flag] = { type: o.value ? 'string' : 'boolean' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new FlagError((e as Error).message);
  }
  if (values.help) return { help: true };
  const flags: Record<string, string | boolean> = {};
  for (const o of SERVE_OPTIONS) {
    const v = values[o.flag] ?? o.default;
    if (v !== undefined) flags[o.key] = v;
  }
  return { help: false, flags: flags as unknown as ServeFlags };
}
