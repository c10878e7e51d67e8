/**
 * `encumber serve [--policy FILE] [--port N] [--host H] [--platform dev|nitro|sev-snp] [--data-dir DIR]`
 * Boots the service (composition root) and serves the HTTP API.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { serve as serveHttp } from '@hono/node-server';
import type { Command } from 'commander';
import { EncumberError } from '../../errors.ts';
import { isDemoPolicy, loadDefaultPolicy } from '../../policy/default-policy.ts';
import { parsePolicyJson, type LoadedPolicy } from '../../policy/policy.ts';
import { bootService } from '../../enclave/boot.ts';
import { createAttestor } from '../../enclave/platforms.ts';
import type { Platform } from '../../enclave/documents.ts';
import { createApp } from '../../server/app.ts';
import { jsonErrorLogger, jsonLogger } from '../../server/log.ts';
import { attestationSelfCheck } from '../../enclave/self-check.ts';
import type { SigningService } from '../../enclave/service.ts';
import type { Attestor } from '../../enclave/attestor.ts';
import { UsageProblem, type CliIo } from '../io.ts';

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
  /** For tests: where the hardware interfaces are. */
  tsmReportDir?: string;
  nsmDevice?: string;
}

/** The serve options, shared by `encumber serve` and the enclave entry point. */
export function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--policy <file>', 'policy JSON (default: the embedded demo policy, refused on nitro and sev-snp)')
    .option('--allow-demo-policy', 'nitro/sev-snp: run the demo policy anyway (its member keys are public: anyone can get records signed)')
    .option('--port <n>', 'TCP port', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--platform <p>', 'dev | nitro | sev-snp', 'dev')
    .option('--data-dir <dir>', 'where the dev root lives', '.data')
    .option('--snp-certs <file>', 'sev-snp: certificate table (auxblob format) to use when the host supplies none')
    .option('--quiet', 'no request log lines');
}

/**
 * On a hardware platform, one attestation before serving (src/enclave/self-check.ts): a broken NSM or
 * configfs-tsm stops the start-up here, and the console gets the document (public data) and the identity.
 */
async function selfCheck(service: SigningService, attestor: Attestor, io: CliIo): Promise<void> {
  const id = service.identity();
  io.err(`encumber: identity: key=${id.key} binding=${id.bindingCid} policy=${id.policyCid} platform=${id.platform}`);
  try {
    for (const line of (await attestationSelfCheck(service, attestor)).lines) io.err(line);
  } catch (e) {
    service.fail();
    const err = e as EncumberError & { reason?: string };
    io.err(`encumber: attestation self-check FAILED: ${err.code ?? 'InternalError'}${err.reason ? ` (${err.reason})` : ''}: ${err.message}`);
    throw e;
  }
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function serve(flags: ServeFlags, io: CliIo): Promise<RunningServer> {
  const platform = flags.platform as Platform;
  if (!['dev', 'nitro', 'sev-snp'].includes(platform)) throw new UsageProblem(`--platform must be dev, nitro or sev-snp`);
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageProblem(`--port must be 0..65535`);

  let policy: LoadedPolicy;
  try {
    policy = flags.policy ? parsePolicyJson(await readFile(flags.policy, 'utf8')) : loadDefaultPolicy();
  } catch (e) {
    if (e instanceof EncumberError) throw new UsageProblem(`${flags.policy}: ${e.code}: ${e.message}`);
    throw new UsageProblem(`cannot read policy ${flags.policy}: ${(e as Error).message}`);
  }
  // The demo policy's member keys are public (test/fixtures/demo): on hardware
  // an attested key under it would sign anything for the demo repository.
  if (platform !== 'dev' && isDemoPolicy(policy)) {
    if (!flags.allowDemoPolicy) {
      throw new UsageProblem(
        `refusing the demo policy ${policy.cid} on ${platform}: its member keys are public, so anyone could get records signed; give --policy FILE (your organisation's policy), or --allow-demo-policy to run the demo anyway`,
      );
    }
    io.err(`encumber: WARNING: running the demo policy ${policy.cid} on ${platform} (--allow-demo-policy): its member keys are public`);
  }

  let attestor;
  try {
    const made = createAttestor(platform, {
      dataDir: resolve(flags.dataDir),
      now: new Date(),
      ...(flags.snpCerts ? { snpCertsFile: flags.snpCerts } : {}),
      ...(flags.tsmReportDir ? { tsmReportDir: flags.tsmReportDir } : {}),
      ...(flags.nsmDevice ? { nsmDevice: flags.nsmDevice } : {}),
    });
    attestor = made.attestor;
    for (const n of made.notes) io.err(n);
  } catch (e) {
    if (e instanceof EncumberError) throw new UsageProblem(e.message);
    throw e;
  }

  const service = bootService({ policy, attestor });
  if (platform !== 'dev') await selfCheck(service, attestor, io);
  const app = createApp({ service, logger: flags.quiet ? () => {} : jsonLogger, errorLogger: jsonErrorLogger });
  const server = await new Promise<ReturnType<typeof serveHttp>>((ok, fail) => {
    const s = serveHttp({ fetch: app.fetch, port, hostname: flags.host }, () => ok(s));
    s.once('error', fail);
  });
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const url = `http://${flags.host.includes(':') ? `[${flags.host}]` : flags.host}:${actualPort}`;

  const id = service.identity();
  io.err(`encumber ${id.program.version} serving on ${url} (platform ${id.platform}${id.platform === 'dev' ? ': NOT hardware-backed' : ''})`);
  io.err(`  enclave key  ${id.key}`);
  io.err(`  policy       ${id.policyCid}${isDemoPolicy(policy) ? ' (demo policy: 2 of alice, bob, carol, keys public)' : ''}`);
  io.err(`  binding      ${id.bindingCid}`);
  io.err(`verification page: ${url}/`);
  io.err(`try it:  curl ${url}/xrpc/dev.encumber.getIdentity`);
  io.err(`         npm run demo   (three members, two co-sign, the enclave signs, a verifier checks)`);
  return {
    url,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
