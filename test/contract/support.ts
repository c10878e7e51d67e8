/**
 * The lexicons of src/lexicons loaded into @atproto/lexicon (the reference
 * validator), and a small client for the in-process app that validates what
 * it sends and what it gets back against them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lexicons, jsonToLex, type LexiconDoc } from '@atproto/lexicon';
import { REPO_ROOT } from '../support/fixtures.ts';

export const LEXICON_DIR = join(REPO_ROOT, 'src', 'lexicons', 'dev', 'encumber');

export const lexiconDocs: LexiconDoc[] = readdirSync(LEXICON_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(LEXICON_DIR, f), 'utf8')) as LexiconDoc);

/** Throws if any document is not a valid lexicon (the constructor parses each). */
export const lexicons = new Lexicons(lexiconDocs);

/** The `errors` names a query/procedure lexicon declares. */
export function lexiconErrors(nsid: string): string[] {
  const main = lexicons.getDefOrThrow(`lex:${nsid}#main`) as { errors?: { name: string }[] };
  return (main.errors ?? []).map((e) => e.name);
}

/** Validate a data-model JSON value (`$bytes`, `$link`) as the lexicon object or record type `nsid`. */
export function assertValidDocument(nsid: string, json: unknown): void {
  const result = lexicons.validate(`lex:${nsid}`, jsonToLex(json as never));
  assert.ok(result.success, `${nsid}: ${result.success ? '' : result.error.message}`);
}

/** Whether the lexicon accepts `json` as the input of procedure `nsid`. */
export function lexiconAcceptsInput(nsid: string, json: unknown): boolean {
  try {
    lexicons.assertValidXrpcInput(nsid, jsonToLex(json as never));
    return true;
  } catch {
    return false;
  }
}

/** Whether the lexicon accepts `params` as the parameters of query `nsid`. */
export function lexiconAcceptsParams(nsid: string, params: Record<string, unknown>): boolean {
  try {
    lexicons.assertValidXrpcParams(nsid, params);
    return true;
  } catch {
    return false;
  }
}

export interface Answer {
  status: number;
  json: Record<string, any>;
}

type App = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

export async function query(app: App, nsid: string, params: Record<string, string> = {}): Promise<Answer> {
  const qs = new URLSearchParams(params).toString();
  const res = await app.request(`/xrpc/${nsid}${qs ? `?${qs}` : ''}`);
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

export async function procedure(app: App, nsid: string, body: unknown, contentType = 'application/json'): Promise<Answer> {
  const res = await app.request(`/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}
