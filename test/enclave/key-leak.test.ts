/**
 * The private key never leaves the key holder: drive the service through
 * every endpoint and error path, then search every response body and header,
 * every log line, every error and every serialisation of the service objects
 * for the private key in hex, base64 and base64url.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { generateK256PrivateKey } from '../../src/crypto/k256-signer.ts';
import { KeyHolder } from '../../src/enclave/key-holder.ts';
import { cosignBy, createMember, createWorld, draftFor, withLogs } from '../support/world.ts';

function spellings(key: Uint8Array): string[] {
  const b = Buffer.from(key);
  const b64 = b.toString('base64');
  return [b.toString('hex'), b.toString('hex').toUpperCase(), b64, b64.replace(/=+$/, ''), b.toString('base64url')];
}

test('the private key appears in no response, header, log line, error or serialisation', async () => {
  let privateKey: Uint8Array | undefined;
  const w = await createWorld({
    drawKey: () => {
      privateKey = generateK256PrivateKey();
      return privateKey.slice(); // the holder wipes what it is given
    },
  });
  assert.ok(privateKey, 'the world drew its key through the test hook');
  const seen: string[] = [];
  const call = async (path: string, init?: RequestInit) => {
    const res = await w.app.request(path, init);
    seen.push(await res.text());
    res.headers.forEach((v, k) => {
      seen.push(`${k}: ${v}`);
    });
    return res.status;
  };
  const postJson = (body: unknown) =>
    call('/xrpc/dev.encumber.signRecord', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const [alice, bob] = w.members as [any, any];
  const statuses = [
    await call('/xrpc/_health'),
    await call('/xrpc/dev.encumber.getIdentity'),
    await call('/xrpc/dev.encumber.getAttestation?nonce=00ff'),
    await call('/xrpc/dev.encumber.getAttestation?nonce=zz'),
    await call('/nope'),
    await postJson(withLogs(cosignBy(draftFor('ok'), alice, bob), w.members)),
    await postJson(withLogs(cosignBy(draftFor('one'), alice), w.members)),
    await postJson(withLogs(cosignBy(draftFor('outsider'), alice, await createMember('m.test')), w.members)),
    await postJson(cosignBy(draftFor('nologs'), alice, bob)),
    await postJson('{"broken'),
    await postJson({ ...draftFor(), record: { $type: 'x', n: 0.5 } }),
  ];
  assert.deepEqual(statuses, [200, 200, 200, 400, 404, 200, 422, 422, 422, 400, 400]);

  // Errors thrown by the service itself, outside HTTP.
  for (const bad of [{ ...draftFor(), cosignatures: [{ issuer: alice.did, sig: { $bytes: '!!' } }] }, withLogs(draftFor('x'), w.members)]) {
    try {
      await w.service.signRecord(bad as never);
    } catch (e) {
      seen.push(String(e), (e as Error).stack ?? '', JSON.stringify(e), inspect(e, { depth: 10 }));
    }
  }
  seen.push(...w.logs);
  // The key holder itself (the service's is private to it): one over the same key bytes.
  const holder = KeyHolder.generate(() => privateKey!.slice());
  assert.equal(holder.did, w.key.did);
  seen.push(JSON.stringify(holder), String(holder), inspect(holder, { depth: 10, showHidden: true }));
  seen.push(inspect(w.service, { depth: 10, showHidden: true }));
  seen.push(JSON.stringify(w.service.identity()));

  const haystack = seen.join('\n');
  assert.ok(haystack.includes(w.key.did), 'the scan sees real output (the public key is in it)');
  for (const s of spellings(privateKey)) assert.ok(!haystack.includes(s), `private key found as ${s.slice(0, 6)}…`);
  assert.equal(Object.keys(holder).includes('privateKey'), false);
});
