/**
 * The enclave program's entry point: only `serve`, nothing of the member or
 * verifier tools. This is what the reproducible bundle (dist/encumber-enclave.mjs)
 * is built from and what runs inside the TEE.
 */
import { Command, CommanderError } from 'commander';
import { addServeOptions, serve, type ServeFlags } from '../cli/commands/serve.ts';
import { processIo, UsageProblem } from '../cli/io.ts';

const program = addServeOptions(new Command('encumber-enclave').description('encumber signing service (enclave entry point)'))
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
