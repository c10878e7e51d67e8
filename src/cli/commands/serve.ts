/**
 * `encumber serve [--policy FILE] [--port N] [--host H] [--platform dev|nitro|sev-snp] [--data-dir DIR]`
 * Flags and printing only: the service is built by the composition root
 * (src/enclave/boot.ts), the same one the enclave image's entry point uses.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EncumberError } from '../../errors.ts';
import { isDemoPolicy } from '../../policy/default-policy.ts';
import { bootService, checkAttestationAtStart, loadPolicy } from '../../enclave/boot.ts';
import { checkServeFlags, FlagError, SERVE_OPTIONS, type ServeFlags } from '../../enclave/flags.ts';
import { createApp, listen, type RunningServer } from '../../server/app.ts';
import { jsonErrorLogger, jsonLogger } from '../../server/log.ts';
import { loadWebAssets } from '../../web/assets.ts';
import { UsageProblem, type CliIo } from '../io.ts';

export type { ServeFlags, RunningServer };

/** The serve options (src/enclave/flags.ts), declared to a commander command. */
export function addServeOptions(cmd: Command): Command {
  for (const o of SERVE_OPTIONS) {
    const spec = `--${o.flag}${o.value ? ` <${o.value}>` : ''}`;
    if (o.default !== undefined) cmd.option(spec, o.description, o.default);
    else cmd.option(spec, o.description);
  }
  return cmd;
}

/** A configuration that must not run is the operator's usage problem (exit 2). */
async function usage<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof FlagError) throw new UsageProblem(e.message);
    if (e instanceof EncumberError && e.code === 'UsageError') throw new UsageProblem(e.message);
    throw e;
  }
}

export async function serve(flags: ServeFlags, io: CliIo): Promise<RunningServer> {
  const { platform, port } = await usage(() => checkServeFlags(flags));
  const policy = await usage(() => loadPolicy(flags.policy));
  const log = (line: string) => io.err(line);
  const service = await usage(() =>
    bootService({
      policy,
      attestor: {
        platform,
        dataDir: resolve(flags.dataDir),
        ...(flags.snpCerts ? { snpCertsFile: flags.snpCerts } : {}),
        ...(flags.tsmReportDir ? { tsmReportDir: flags.tsmReportDir } : {}),
        ...(flags.nsmDevice ? { nsmDevice: flags.nsmDevice } : {}),
      },
      ...(flags.allowDemoPolicy ? { allowDemoPolicy: true } : {}),
      ...(flags.join ? { join: { url: flags.join } } : {}),
      log,
    }),
  );
  if (!flags.join) await checkAttestationAtStart(service, log);
  const app = createApp({ service, logger: flags.quiet ? () => {} : jsonLogger, errorLogger: jsonErrorLogger, web: loadWebAssets });
  const server = await listen(app, flags.host, port);
  if (flags.join) {
    // Listening (health: 503 booting) while the hand-off runs; serving only once the key is held.
    io.err(`encumber ${service.platform} instance on ${server.url}: booting, joining ${flags.join}`);
    if ((await service.settled()) === 'failed') {
      const f = service.failure!;
      io.err(`encumber: NOT serving: the hand-off failed: ${f.code}: ${f.message} (GET ${server.url}/xrpc/_health says so)`);
      return server;
    }
    await checkAttestationAtStart(service, log);
  }

  const id = service.identity();
  io.err(`encumber ${id.program.version} serving on ${server.url} (platform ${id.platform}${id.platform === 'dev' ? ': NOT hardware-backed' : ''})`);
  io.err(`  enclave key  ${id.key}`);
  io.err(`  policy       ${id.policyCid}${isDemoPolicy(policy) ? ' (demo policy: 2 of alice, bob, carol, keys public)' : ''}`);
  io.err(`  binding      ${id.bindingCid}`);
  io.err(`verification page: ${server.url}/`);
  io.err(`try it:  curl ${server.url}/xrpc/dev.encumber.getIdentity`);
  io.err(`         npm run demo   (three members, two co-sign, the enclave signs, a verifier checks)`);
  return server;
}
