/** Run the CLI in process with captured output. */
import { readFile } from 'node:fs/promises';
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/io.ts';

export interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

export async function runCli(argv: string[], stdin = ''): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    readInput: (p) => (p === '-' ? Promise.resolve(stdin) : readFile(p, 'utf8')),
  };
  const code = await main(argv, io);
  return { code, out, err };
}
