/**
 * The CLI's edge: where output goes and how input is read. Commands take a
 * `CliIo` so tests can run them in process and read what they printed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { parseJsonStrict } from '../data/strict-json.ts';
import { EncumberError } from '../errors.ts';
import { requestJson, xrpcErrorText, type HttpJsonAnswer, type HttpJsonOptions } from '../http/json.ts';
import { parseMemberKeyFile, type MemberKey } from '../member/keys.ts';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  readInput(path: string): Promise<string>;
  /**
   * Ask the person at the terminal a yes/no question. Absent when nobody can
   * answer (stdin is not a terminal): commands that need consent then refuse.
   */
  confirm?(question: string): Promise<boolean>;
}

async function askTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^(y|yes)$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
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
  ...(process.stdin.isTTY ? { confirm: askTerminal } : {}),
};

/** Thrown by commands for usage and I/O problems (exit code 2). */
export class UsageProblem extends Error {}

/**
 * Read a JSON input (file or - for stdin); unreadable or non-JSON input is a
 * usage problem (exit 2). `strict`: duplicate object keys are refused too (for
 * anything a person signs: readers disagree on which duplicate wins).
 */
export async function readJsonInput(io: CliIo, path: string, what: string, opts: { strict?: boolean } = {}): Promise<unknown> {
  let text: string;
  try {
    text = await io.readInput(path);
  } catch (e) {
    throw new UsageProblem(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    return opts.strict ? parseJsonStrict(text) : JSON.parse(text);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UsageProblem(`${what} ${path} is not JSON: ${e.message}`);
    throw new UsageProblem(`${what} ${path} is refused: ${(e as Error).message}`);
  }
}

/** `f()`, with a typed failure turned into a usage/IO problem (exit 2) that says what was being read. */
export function usageOf<T>(f: () => T, what: string): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof EncumberError) throw new UsageProblem(`${what}: ${e.message}`);
    throw e;
  }
}

/** JSON to `out` (a file), or to stdout when there is none or it is `-`. */
export async function output(io: CliIo, value: unknown, out: string | undefined): Promise<void> {
  const text = JSON.stringify(value, null, 2);
  if (out && out !== '-') await writeFile(out, text + '\n');
  else io.out(text);
}

/** A member's key file (`--key`); one that cannot be read or parsed is a usage problem naming it. */
export async function readMemberKey(io: CliIo, path: string): Promise<MemberKey> {
  try {
    return parseMemberKeyFile(await io.readInput(path));
  } catch (e) {
    throw new UsageProblem(`key file ${path}: ${(e as Error).message}`);
  }
}

/**
 * A member's consent to co-sign what was just shown (`what`: the payload, the operation, the statement): `--yes`,
 * or a "y" to `question` from the person at the terminal. Nobody to ask (a pipe, a script, a draft read from
 * stdin) is a usage problem; a "no" prints "not signed" and answers false.
 */
export async function consentToSign(io: CliIo, opts: { draftPath: string; yes?: boolean | undefined; what: string; question: string }): Promise<boolean> {
  if (opts.yes) return true;
  if (opts.draftPath === '-' || !io.confirm) {
    throw new UsageProblem(`not signing: nobody at a terminal to confirm (stdin is not interactive); read the ${opts.what} above and pass --yes to sign it`);
  }
  if (await io.confirm(opts.question)) return true;
  io.err('not signed');
  return false;
}

/** A co-signed draft back where it came from (`--out`, else the draft's own file; stdout for a draft read from stdin). */
export function outputCosigned(io: CliIo, draft: unknown, draftPath: string, out: string | undefined): Promise<void> {
  return output(io, draft, out ?? (draftPath === '-' ? undefined : draftPath));
}

/** A request whose transport failure is a usage/IO problem (exit 2) naming the remote, and a hint if given. */
export async function send(url: URL, opts: HttpJsonOptions, hint = ''): Promise<HttpJsonAnswer> {
  try {
    return await requestJson(url, opts);
  } catch (e) {
    if (e instanceof EncumberError) throw new UsageProblem(`${e.message}${hint}`);
    throw e;
  }
}

/**
 * POST a draft to one of the enclave's procedures (signRecord, signPlcOp, approveUpgrade), saying where; the
 * answer on 200, else undefined once the refusal (status and XRPC error) is printed. Unreachable is exit 2.
 */
export async function submitToEnclave(io: CliIo, enclave: string, nsid: string, draft: unknown, hint = ''): Promise<Record<string, unknown> | undefined> {
  const url = new URL(`/xrpc/${nsid}`, enclave);
  io.err(`submitting to ${url} …`);
  const res = await send(url, { method: 'POST', body: draft, what: `the enclave at ${url.origin}` }, hint);
  const body = (res.body ?? {}) as Record<string, unknown>;
  if (res.status === 200) return body;
  io.err(`refused: HTTP ${res.status}${xrpcErrorText(body)}`);
  return undefined;
}
