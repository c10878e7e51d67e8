/**
 * `encumber upgrade draft → cosign → cosign → submit → verify` against an
 * in-process enclave on loopback; a tampered getUpgrades answer is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';
import { createWorld, type Member } from '../support/world.ts';
import { approving, DIGEST_B } from '../support/handoff.ts';
import { createApp, listen } from '../../src/server/app.ts';

test('upgrade draft, cosign, submit, verify; a tampered statement or a missing statement CID fails verify (exit 1); bad input exit 2', async () => {
  const dir = tempDir('encumber-upgrade-');
  const w = await createWorld();
  const [alice, bob] = w.members as [Member, Member, Member];
  const server = await listen(createApp({ service: w.service }), '127.0.0.1', 0);
  try {
    const f = (n: string) => join(dir, n);
    writeFileSync(f('m.json'), JSON.stringify({ release: '0.2.0', ...approving(DIGEST_B) }));
    const drafted = await runCli(['upgrade', 'draft', '--measurements', f('m.json'), '--enclave', server.url, '--out', f('draft.json')]);
    assert.equal(drafted.code, 0, drafted.err.join('\n'));
    assert.equal(JSON.parse(readFileSync(f('draft.json'), 'utf8')).statement.policy.$link, w.policy.cid.toString());
    for (const m of [alice, bob]) {
      writeFileSync(f(`${m.did.slice(8)}.key`), m.signingKey.toKeyFile());
      writeFileSync(f(`${m.did.slice(8)}.log`), JSON.stringify(m.log));
      const r = await runCli(['upgrade', 'cosign', f('draft.json'), '--key', f(`${m.did.slice(8)}.key`), '--issuer', m.did, '--plc-log', f(`${m.did.slice(8)}.log`), '--yes']);
      assert.equal(r.code, 0, r.err.join('\n'));
    }
    const submitted = await runCli(['upgrade', 'submit', f('draft.json'), '--enclave', server.url, '--out', f('approval.json')]);
    assert.equal(submitted.code, 0, submitted.err.join('\n'));

    const verified = await runCli(['upgrade', 'verify', '--identity', server.url]);
    assert.equal(verified.code, 0, verified.out.join('\n'));
    assert.match(verified.out.join('\n'), /upgrade \S+: OK/);
    assert.match(verified.out.join('\n'), /ok {3}cosigner-keys/);

    // The published answer with a measurement swapped: refused.
    const answer = await (await fetch(`${server.url}/xrpc/dev.encumber.getUpgrades`)).json() as { upgrades: any[] };
    answer.upgrades[0].statement.measurements.dev[0].pcrs['0'] = 'ab'.repeat(48);
    writeFileSync(f('tampered.json'), JSON.stringify(answer));
    writeFileSync(f('identity.json'), JSON.stringify(w.service.identity()));
    const tampered = await runCli(['upgrade', 'verify', '--identity', f('identity.json'), '--upgrades', f('tampered.json')]);
    assert.equal(tampered.code, 1);
    assert.match(tampered.out.join('\n'), /REFUSED UpgradeInvalid/);
    // An approval that names no statement CID: refused.
    const unnamed = await (await fetch(`${server.url}/xrpc/dev.encumber.getUpgrades`)).json() as { upgrades: any[] };
    delete unnamed.upgrades[0].statementCid;
    writeFileSync(f('unnamed.json'), JSON.stringify(unnamed));
    const refused = await runCli(['upgrade', 'verify', '--identity', f('identity.json'), '--upgrades', f('unnamed.json')]);
    assert.equal(refused.code, 1, refused.out.join('\n'));
    assert.match(refused.out.join('\n'), /upgrade \(no statementCid\): REFUSED UpgradeInvalid/);

    // Bad input.
    assert.equal((await runCli(['upgrade', 'submit', f('m.json'), '--enclave', server.url])).code, 2);
    assert.equal((await runCli(['upgrade', 'draft', '--measurements', f('draft.json'), '--enclave', server.url])).code, 2);
    assert.equal((await runCli(['upgrade', 'verify', '--identity', f('identity.json')])).code, 2);
  } finally {
    await server.close();
  }
});
