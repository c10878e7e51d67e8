/**
 * A stand-in PDS on loopback (a hono app on 127.0.0.1, port 0) with the two
 * methods `encumber publish` calls, answering as a PDS does:
 * createSession (401 AuthenticationRequired on a wrong identifier or
 * password) and createRecord (401 AuthRequired without the session's token,
 * 400 InvalidRequest on a record whose $type is not the collection or a repo
 * that is not the session's). It records every request it gets. The
 * reference PDS (test/pds) is driven by the end-to-end tier.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { cidForValue } from '../../src/data/cid.ts';
import { jsonToIpld } from '../../src/data/json.ts';

export interface PdsRequest {
  method: string;
  body: Record<string, any>;
  authorization: string | undefined;
}

export interface FakePds {
  url: string;
  requests: PdsRequest[];
  close(): Promise<void>;
}

export interface FakePdsOptions {
  did: string;
  handle: string;
  password: string;
  /** Answer createRecord with this XRPC error (status 400) instead of storing. */
  refuseRecord?: { error: string; message: string };
}

export async function startFakePds(opts: FakePdsOptions): Promise<FakePds> {
  const requests: PdsRequest[] = [];
  const token = `access-${opts.did}`;
  let rkey = 0;
  const app = new Hono();
  const seen = async (method: string, c: { req: { json(): Promise<unknown>; header(n: string): string | undefined } }) => {
    const body = (await c.req.json().catch(() => ({}))) as Record<string, any>;
    requests.push({ method, body, authorization: c.req.header('authorization') });
    return body;
  };
  app.post('/xrpc/com.atproto.server.createSession', async (c) => {
    const body = await seen('com.atproto.server.createSession', c);
    if ((body.identifier !== opts.did && body.identifier !== opts.handle) || body.password !== opts.password) {
      return c.json({ error: 'AuthenticationRequired', message: 'Invalid identifier or password' }, 401);
    }
    return c.json({ did: opts.did, handle: opts.handle, accessJwt: token, refreshJwt: `refresh-${opts.did}`, active: true });
  });
  app.post('/xrpc/com.atproto.repo.createRecord', async (c) => {
    const body = await seen('com.atproto.repo.createRecord', c);
    if (c.req.header('authorization') !== `Bearer ${token}`) return c.json({ error: 'AuthRequired', message: 'Authentication Required' }, 401);
    if (body.repo !== opts.did) return c.json({ error: 'InvalidRequest', message: 'Invalid repo' }, 400);
    if (typeof body.record !== 'object' || body.record === null || body.record.$type !== body.collection) {
      return c.json({ error: 'InvalidRequest', message: `Invalid $type: expected ${body.collection}, got ${body.record?.$type}` }, 400);
    }
    if (opts.refuseRecord) return c.json(opts.refuseRecord, 400);
    rkey++;
    const cid = cidForValue(jsonToIpld(body.record)).toString();
    return c.json({
      uri: `at://${opts.did}/${body.collection}/3lpub${String(rkey).padStart(8, '0')}`,
      cid,
      commit: { cid, rev: '3lpubrev' },
      validationStatus: body.validate === true ? 'valid' : 'unknown',
    });
  });
  const server = await new Promise<ReturnType<typeof serve>>((ok) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => ok(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
