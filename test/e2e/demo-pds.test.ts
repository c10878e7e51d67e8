/** `npm run demo -- --pds`: the story against a local reference PDS and PLC directory, started and stopped by the demo. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.ts';
import { pdsSkip } from '../support/pds.ts';

test('demo --pds: the post is published and verified by its at:// URI; the copy edited on the PDS is refused', { skip: pdsSkip() }, async () => {
  const r = await runCli(['demo', '--pds']);
  const out = r.out.join('\n');
  assert.equal(r.code, 0, out + r.err.join('\n'));
  assert.match(out, /ok {3}published at:\/\/did:plc:[a-z2-7]{24}\/app\.bsky\.feed\.post\//);
  assert.match(out, /ok {2}repo-commit-signature: /);
  assert.match(out, /valid: record signed by did:key:.*\(pinned\)/);
  assert.match(out, /ok {3}the post edited on the PDS after signing is refused: invalid: EnclaveSignatureInvalid/);
  assert.doesNotMatch(out, /FAIL/);
});
