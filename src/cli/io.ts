/**
 * The CLI's edge: where output goes and how input is read. Commands take a
 * `CliIo` so tests can run them in process and read what they printed.
 */
import { readFile } from 'node:fs/promises';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  readInput(path: string): Promise<string>;
}

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  readInput: (path) => (path === '-' ? readStdin() : readFile(path, 'utf8')),
};

/** Thrown by commands for usage and I/O problems (exit code 2). */
export class UsageProblem extends Error {}

/** Read a JSON input (file or - for stdin); unreadable or non-JSON input is a usage problem (exit 2). */
export async function readJsonInput(io: CliIo, path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await io.readInput(path);
  } catch (e) {
    throw new UsageProblem(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageProblem(`${what} ${path} is not JSON: ${(e as Error).message}`);
  }
}
