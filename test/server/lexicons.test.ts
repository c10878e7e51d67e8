/** Every endpoint and document type has a lexicon, and the server serves every query/procedure lexicon. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/fixtures.ts';
import { isValidNsid } from '../../src/data/syntax/nsid.ts';
import { createWorld } from '../support/world.ts';

const dir = join(REPO_ROOT, 'src', 'lexicons', 'dev', 'encumber');
const lexicons = readdirSync(dir).map((f) => ({ file: f, doc: JSON.parse(readFileSync(join(dir, f), 'utf8')) }));

test('lexicon documents are well-formed and named after their id', () => {
  const ids = lexicons.map((l) => l.doc.id).sort();
  assert.deepEqual(ids, [
    'dev.encumber.approveUpgrade', 'dev.encumber.binding', 'dev.encumber.getAttestation', 'dev.encumber.getGuardLog', 'dev.encumber.getIdentity',
    'dev.encumber.getUpgrades', 'dev.encumber.handoff', 'dev.encumber.handoffOffer', 'dev.encumber.handoffRequest',
    'dev.encumber.payload', 'dev.encumber.plcOp', 'dev.encumber.policy', 'dev.encumber.receipt', 'dev.encumber.signPlcOp', 'dev.encumber.signRecord',
    'dev.encumber.signature', 'dev.encumber.upgrade',
  ]);
  for (const { file, doc } of lexicons) {
    assert.equal(doc.lexicon, 1);
    assert.ok(isValidNsid(doc.id));
    assert.equal(file, `${doc.id.split('.').at(-1)}.json`);
    assert.ok(doc.defs.main);
  }
});

test('each query/procedure lexicon is a live route (its errors: test/contract/endpoint-errors.test.ts)', async () => {
  const w = await createWorld();
  for (const { doc } of lexicons) {
    const main = doc.defs.main;
    if (main.type !== 'query' && main.type !== 'procedure') continue;
    const res = await w.app.request(`/xrpc/${doc.id}`, { method: main.type === 'query' ? 'GET' : 'POST' });
    assert.notEqual(res.status, 404, doc.id);
  }
});
