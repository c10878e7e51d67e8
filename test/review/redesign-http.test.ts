/**
 * Review of the one JSON-over-HTTP client as the PLC directory client uses it:
 * directory trouble is DirectoryUnavailable (503, fail closed), never a
 * caller-blaming code. Before the redesign an empty 200 was "answer is not
 * JSON" (DirectoryUnavailable); the shared client returns an empty body as
 * `undefined`, which reached the PLC verifier as an InvalidPlcLog (422).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchAuditLog } from '../../src/plc/directory/client.ts';
import { EncumberError } from '../../src/errors.ts';

const DID = 'did:plc:abcdefghijklmnopqrstuvwx';
const answer = (body: BodyInit | null, init: ResponseInit = {}) => (async () => new Response(body, init)) as unknown as typeof fetch;
const rejectsWith = (p: Promise<unknown>, code: string) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof EncumberError, String(e));
    assert.equal(e.code, code, e.message);
    return true;
  });

test('redesign: an empty 200 from the PLC directory is DirectoryUnavailable (as before), not a log to verify', async () => {
  await rejectsWith(fetchAuditLog('https://plc.test', DID, { fetch: answer('', { status: 200 }) }), 'DirectoryUnavailable');
  await rejectsWith(fetchAuditLog('https://plc.test', DID, { fetch: answer(null, { status: 200 }) }), 'DirectoryUnavailable');
});

test('redesign: the directory client refuses redirects, oversize and non-JSON answers as DirectoryUnavailable', async () => {
  let redirect: RequestRedirect | undefined;
  const spy = (async (_u: URL, init: RequestInit) => {
    redirect = init.redirect;
    return new Response('[]', { status: 200 });
  }) as unknown as typeof fetch;
  await fetchAuditLog('https://plc.test', DID, { fetch: spy });
  assert.equal(redirect, 'error');
  await rejectsWith(fetchAuditLog('https://plc.test', DID, { fetch: answer('[' + '1,'.repeat(100) + '1]'), maxBytes: 64 }), 'DirectoryUnavailable');
  await rejectsWith(fetchAuditLog('https://plc.test', DID, { fetch: answer('<html>', { status: 200 }) }), 'DirectoryUnavailable');
  await rejectsWith(fetchAuditLog('https://plc.test', DID, { fetch: answer('{}', { status: 302, headers: { location: 'https://evil.test/' } }) }), 'DirectoryUnavailable');
  await rejectsWith(fetchAuditLog('https://plc.test', DID, { fetch: answer('not found', { status: 404 }) }), 'MissingPlcLog');
});
