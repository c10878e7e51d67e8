/**
 * The enclave program's entry point: the signing service and nothing of the
 * member or verifier tools. This is what the reproducible bundle
 * (dist/encumber-enclave.mjs) is built from and what runs inside the TEE.
 *
 * It reads its few flags itself (src/enclave/flags.ts, node:util parseArgs: the same
 * flags as `encumber serve`), so the image carries neither the CLI nor a CLI
 * framework; the service is built by the composition root (src/enclave/boot.ts).
 * Exit status 2 for a flag or configuration that cannot run.
 */
import { resolve } from 'node:path';
import { EncumberError } from '../errors.ts';
import { bootService, checkAttestationAtStart, loadPolicy } from '../enclave/boot.ts';
import { checkServeFlags, FlagError, parseServeArgs, serveUsage } from '../enclave/flags.ts';
import { createApp, listen } from '../server/app.ts';
import { jsonErrorLogger, jsonLogger } from '../server/log.ts';
import { loadWebAssets } from '../web/assets.ts';

const log = (line: string) => process.stderr.write(line + '\n');

function usageFailure(e: unknown): never {
  log(`error: ${(e as Error).message}`);
  process.exit(2);
}

try {
  const parsed = parseServeArgs(process.argv.slice(2));
  if (parsed.help) {
    process.stdout.write(serveUsage('encumber-enclave') + '\n');
    process.exit(0);
  }
  const { flags } = parsed;
  const { platform, port } = checkServeFlags(flags);
  const service = bootService({
    policy: await loadPolicy(flags.policy),
    attestor: { platform, dataDir: resolve(flags.dataDir), ...(flags.snpCerts ? { snpCertsFile: flags.snpCerts } : {}) },
    ...(flags.allowDemoPolicy ? { allowDemoPolicy: true } : {}),
    ...(flags.join ? { join: { url: flags.join } } : {}),
    log,
  });
  if (!flags.join) await checkAttestationAtStart(service, log);
  const app = createApp({ service, logger: flags.quiet ? () => {} : jsonLogger, errorLogger: jsonErrorLogger, web: loadWebAssets });
  const { url } = await listen(app, flags.host, port);
  let serving = true;
  if (flags.join) {
    // Booting (health 503) until the hand-off delivered the key; failed (health says why) if it did not.
    serving = (await service.settled()) === 'serving';
    if (serving) await checkAttestationAtStart(service, log);
    else log(`encumber: NOT serving on ${url}: the hand-off from ${flags.join} failed: ${service.failure?.code}: ${service.failure?.message}`);
  }
  if (serving) {
    const id = service.identity();
    log(`encumber ${id.program.version} serving on ${url} (platform ${id.platform}${id.platform === 'dev' ? ': NOT hardware-backed' : ''})`);
    log(`  enclave key  ${id.key}`);
    log(`  policy       ${id.policyCid}`);
    log(`  binding      ${id.bindingCid}`);
  }
} catch (e) {
  if (e instanceof FlagError || (e instanceof EncumberError && e.code === 'UsageError')) usageFailure(e);
  throw e;
}
