/**
 * `encumber publish SIGNED --pds URL --identifier HANDLE|DID [--identity URL|FILE]
 *  [--app-password-file FILE] [--json]`: write a signed record (the signRecord
 * answer `submit` wrote) into the organisation's repository on its PDS.
 * The app password comes from a file or ENCUMBER_APP_PASSWORD, never from a
 * flag value (command lines are visible to other users and kept in shell
 * history). Prints the record's at:// URI and CID; exit 0 published,
 * 1 refused (by our checks or by the PDS), 2 usage/IO.
 */
import { EncumberError } from '../../errors.ts';
import { getJsonObject } from '../../http/json.ts';
import { PdsRefused, publishSigned, type PdsHttpOptions } from '../../member/publish.ts';
import { identityFromAnswer } from '../../verifier/inputs.ts';
import type { Identity } from '../../verifier/record.ts';
import { EXIT_INVALID, EXIT_OK, UsageProblem, readJsonInput, type CliIo } from '../io.ts';

export const PASSWORD_ENV = 'ENCUMBER_APP_PASSWORD';

export interface PublishFlags {
  pds: string;
  identifier: string;
  /** The enclave (URL) or its getIdentity answer (file): verify the record against its policy first. */
  identity?: string;
  appPasswordFile?: string;
  json?: boolean;
}

/** The app password: `--app-password-file` (one trailing newline dropped), else the environment. */
export async function resolvePassword(flags: { appPasswordFile?: string }, io: CliIo, env: Readonly<Record<string, string | undefined>>): Promise<string> {
  let password: string | undefined;
  if (flags.appPasswordFile !== undefined) {
    try {
      password = (await io.readInput(flags.appPasswordFile)).replace(/\r?\n$/, '');
    } catch (e) {
      throw new UsageProblem(`cannot read the app password file ${flags.appPasswordFile}: ${(e as Error).message}`);
    }
    if (password === '') throw new UsageProblem(`the app password file ${flags.appPasswordFile} is empty`);
  } else {
    password = env[PASSWORD_ENV] || undefined;
  }
  if (password === undefined) throw new UsageProblem(`no app password: give --app-password-file FILE or set ${PASSWORD_ENV}`);
  return password;
}

/** The enclave's getIdentity answer from its URL or a file. */
export async function loadIdentity(source: string, io: CliIo, http: PdsHttpOptions = {}): Promise<Identity> {
  let doc: unknown;
  if (/^https?:\/\//.test(source)) {
    const url = new URL('/xrpc/dev.encumber.getIdentity', source);
    try {
      doc = await getJsonObject(url, { ...http, what: `the enclave at ${url.origin}` });
    } catch (e) {
      if (e instanceof EncumberError) throw new UsageProblem(`cannot read the identity: ${e.message}`);
      throw e;
    }
  } else {
    doc = await readJsonInput(io, source, 'identity');
  }
  try {
    return identityFromAnswer(doc);
  } catch (e) {
    throw new UsageProblem(`${source}: ${(e as Error).message}`);
  }
}

/**
 * One of the enclave's public answers (e.g. getUpgrades, getGuardLog): read from `file` when given, else fetched
 * from the enclave at `identitySource` (which must then be a URL).
 */
export async function loadEnclaveAnswer(identitySource: string, nsid: string, file: string | undefined, io: CliIo, what: string): Promise<unknown> {
  if (file) return readJsonInput(io, file, what);
  if (!/^https?:\/\//.test(identitySource)) throw new UsageProblem(`--identity is a file: give the ${nsid} answer as a file too`);
  const url = new URL(`/xrpc/${nsid}`, identitySource);
  try {
    return await getJsonObject(url, { what: `the enclave at ${url.origin}` });
  } catch (e) {
    if (e instanceof EncumberError) throw new UsageProblem(`cannot read the ${what}: ${e.message}`);
    throw e;
  }
}

/** Publish a parsed signRecord answer; prints the URI and CID. Shared by `publish` and `submit --publish`. */
export async function publishDocument(
  signed: unknown,
  opts: { pds: string; identifier: string; password: string; identity?: Identity | (() => Promise<Identity>); json?: boolean },
  io: CliIo,
  http: PdsHttpOptions = {},
): Promise<number> {
  try {
    const done = await publishSigned({ signed, pds: opts.pds, identifier: opts.identifier, password: opts.password, ...(opts.identity ? { identity: opts.identity } : {}), log: io.err }, http);
    if (opts.json) io.out(JSON.stringify({ uri: done.uri, cid: done.cid }));
    else {
      io.out(done.uri);
      io.out(done.cid);
    }
    io.err(`published: ${done.uri}`);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof PdsRefused) {
      io.err(`refused by the PDS: ${e.message}`);
      return EXIT_INVALID;
    }
    if (e instanceof EncumberError) {
      if (e.code === 'UsageError') throw new UsageProblem(e.message);
      if (e.code === 'RemoteUnavailable') throw new UsageProblem(e.message);
      io.err(`refused: ${e.code}: ${e.message}`);
      return EXIT_INVALID;
    }
    throw e;
  }
}

export async function publish(file: string, flags: PublishFlags, io: CliIo, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const password = await resolvePassword(flags, io, env);
  const signed = await readJsonInput(io, file, 'signed record', { strict: true });
  const source = flags.identity;
  // Loaded after the checks that need nothing (an enclave URL is a request too).
  const identity = source === undefined ? undefined : () => loadIdentity(source, io);
  return publishDocument(signed, { pds: flags.pds, identifier: flags.identifier, password, ...(identity ? { identity } : {}), ...(flags.json ? { json: true } : {}) }, io);
}
