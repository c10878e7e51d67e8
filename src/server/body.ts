/**
 * The request body as text, within a byte limit checked before reading
 * (Content-Length) and while reading (a chunked body is cut off at the limit).
 *
 * Under Node's HTTP server (@hono/node-server puts the IncomingMessage in
 * `c.env.incoming`) the body is read from the socket stream directly: going
 * through `c.req.text()` would make @hono/node-server build a full web
 * `Request` (Headers, AbortController, a web stream over the Node stream) for
 * every request, which costs more than the JSON parse that follows. Anywhere
 * else (`app.request` in tests, other runtimes) the web body stream is read
 * with the same limit.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { concatBytes } from '@noble/hashes/utils.js';
import { EncumberError } from '../errors.ts';
import { readLimited } from '../http/json.ts';

const tooLarge = (max: number) => new EncumberError('TooLarge', `request body exceeds ${max} bytes`);

/** The incoming message when the app runs under @hono/node-server. */
export function nodeIncoming(c: Context): IncomingMessage | undefined {
  const env = c.env as { incoming?: IncomingMessage } | undefined;
  const incoming = env?.incoming;
  return incoming && typeof incoming.on === 'function' && typeof incoming.headers === 'object' ? incoming : undefined;
}

/** A request header, read from the Node message when there is one (no web `Headers` is built). */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = nodeIncoming(c);
  if (!incoming) return c.req.header(name);
  const v = incoming.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Content-Length as a number, undefined when absent; a malformed one is refused. */
function declaredLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) throw new EncumberError('InvalidRequest', 'malformed Content-Length');
  return Number(value.trim());
}

export async function readBodyText(c: Context, max: number): Promise<string> {
  const declared = declaredLength(requestHeader(c, 'content-length'));
  if (declared !== undefined && declared > max) throw tooLarge(max);
  const incoming = nodeIncoming(c);
  const bytes = incoming ? await readNode(incoming, max) : await readLimited(c.req.raw.body, max);
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

async function readNode(incoming: IncomingMessage, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of incoming as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > max) {
      // Stop reading; the 413 goes out with Connection: close (app.ts), so the rest is never read.
      incoming.pause();
      throw tooLarge(max);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : concatBytes(...chunks);
}

