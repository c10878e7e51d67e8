/**
 * The enclave program's entry point: only `serve`, nothing of the member or
 * verifier tools. This is what the reproducible bundle (dist/encumber-enclave.mjs)
 * is built from and what runs inside the TEE.
 */
import { Command, CommanderError } from 'commander';
import { serve, type ServeFlags } from '../cli/commands/serve.ts';
import { processIo, UsageProblem } from '../cli/io.ts';

const program = new Command('encumber-enclave')
  .description('encumber signing service (enclave entry point)')
  .option('--policy <file>', 'policy JSON (default: the embedded demo policy)')
  .option('--port <n>', 'TCP port', '8080')
  .option('--host <addr>', 'address to listen on', '127.0.0.1')
  .option('--platform <p>', 'dev | nitro | sev-snp', 'dev')
  .option('--data-dir <dir>', 'where the dev root lives', '.data')
  .option('--quiet', 'no request log lines')
  .exitOverride();

try {
  program.parse(process.argv);
  await serve(program.opts<ServeFlags>(), processIo);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (e instanceof UsageProblem) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}
