/**
 * The `encumber` command line. Parsing by commander; each command lives in
 * src/cli/commands and returns its exit code.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_OK, EXIT_USAGE, UsageProblem, processIo, type CliIo } from './io.ts';
import { plcVerify, type PlcVerifyFlags } from './commands/plc-verify.ts';
import { keyInspect } from './commands/key-inspect.ts';

function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('encumber')
    .description('An encumbered atproto signing key: M-of-N did:plc co-signing inside a TEE')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const plc = program.command('plc').description('did:plc audit logs');
  plc
    .command('verify')
    .description('verify an audit log (the JSON array served at GET /:did/log/audit); exit 0 valid, 1 invalid, 2 usage/IO')
    .argument('<file>', 'audit-log JSON file, or - for stdin')
    .option('--did <did>', 'the DID the log is for (default: the first entry\'s did)')
    .option('--json', 'print one JSON object { valid, did, head, error }')
    .option('--spec-strict', 'also reject empty or duplicate rotationKeys (creation-time rules)')
    .option('--at <iso>', 'reject entries created after this time (plus 5 min skew)')
    .action(async (file: string, flags: PlcVerifyFlags) => setExit(await plcVerify(file, flags, io)));

  const key = program.command('key').description('keys');
  key
    .command('inspect')
    .description('show the curve and compressed public key of a did:key')
    .argument('<didkey>', 'did:key:z...')
    .option('--json', 'print JSON')
    .action((didKey: string, flags: { json?: boolean }) => setExit(keyInspect(didKey, flags, io)));

  return program;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are successes; everything else is a usage error.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof UsageProblem) {
      io.err(`error: ${e.message}`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
