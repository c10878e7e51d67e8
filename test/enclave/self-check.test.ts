/**
 * The start-up attestation self-check (src/enclave/self-check.ts), with the
 * dev attestor: one document over a fresh nonce, logged as one line that
 * reads back to the same nonce and document; the document verifies (dev root
 * given explicitly) and names the service's key and binding. An attestor that
 * fails makes the self-check fail with its typed code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDevRoot } from '../../src/attestation/dev/index.ts';
import { NsmError } from '../../src/attestation/nitro/nsm/errors.ts';
import { devAttestor } from '../../src/enclave/platforms.ts';
import type { Attestor } from '../../src/enclave/attestor.ts';
import { attestationSelfCheck, MEASUREMENTS_PREFIX, parseSelfCheckLine, SELF_CHECK_PREFIX } from '../../src/enclave/self-check.ts';
import { verifyEvidence } from '../../src/verifier/evidence.ts';
import { createWorld, tick } from '../support/world.ts';

const root = createDevRoot({ now: new Date('2025-06-01T00:00:00.000Z'), validityDays: 3650 });
const attestor = devAttestor(root, new Uint8Array(48).fill(7));

test('one document over a fresh nonce, logged as one line that reads back', async () => {
  const w = await createWorld({ attestor });
  const a = await attestationSelfCheck(w.service, attestor);
  const b = await attestationSelfCheck(w.service, attestor);
  assert.equal(a.nonce.length, 32);
  assert.notDeepEqual(a.nonce, b.nonce, 'each self-check draws its own nonce');
  assert.equal(a.lines.length, 1, 'the dev attestor describes no measurements');
  assert.ok(a.lines[0]!.startsWith(`${SELF_CHECK_PREFIX} nonce=`));
  const back = parseSelfCheckLine(`[   12.3] ${a.lines[0]!}\r`);
  assert.ok(back);
  assert.deepEqual(back.nonce, a.nonce);
  assert.deepEqual(back.evidence, a.evidence);

  const id = w.service.identity();
  const verdict = await verifyEvidence(
    { evidence: back.evidence, binding: id.binding, bindingCid: id.bindingCid },
    { roots: [root.certificate], at: tick(0), nonce: back.nonce, measurements: 'any' },
  );
  assert.ok(verdict.ok, JSON.stringify(verdict.checks.at(-1)));
  assert.equal(verdict.key, w.key.did);
  assert.equal(verdict.bindingCid, id.bindingCid);
});

test('the line carries public data only: no private key bytes', async () => {
  let drawn: Uint8Array | undefined;
  const w = await createWorld({
    attestor,
    drawKey: () => {
      drawn = new Uint8Array(32).fill(0x5a);
      return drawn.slice(); // the key holder wipes what it is given
    },
  });
  const { lines } = await attestationSelfCheck(w.service, attestor);
  assert.ok(drawn);
  const hex = Buffer.from(drawn).toString('hex');
  const b64 = Buffer.from(drawn).toString('base64').slice(0, 40);
  for (const l of lines) assert.ok(!l.includes(hex) && !l.includes(b64));
});

test('describeMeasurements, when the attestor has it, is logged on a second line', async () => {
  const withPcrs: Attestor = {
    ...attestor,
    describeMeasurements: async () => [0, 1, 2].map((i) => ({ name: `PCR${i}`, value: new Uint8Array(48).fill(i) })),
  };
  const w = await createWorld({ attestor: withPcrs });
  const { lines } = await attestationSelfCheck(w.service, withPcrs, new Uint8Array([1, 2, 3]));
  assert.match(lines[0]!, /nonce=010203 /);
  assert.equal(lines[1], `${MEASUREMENTS_PREFIX} PCR0=${'00'.repeat(48)} PCR1=${'01'.repeat(48)} PCR2=${'02'.repeat(48)}`);
});

test('a failing attestor fails the self-check with its typed code', async () => {
  const broken: Attestor = {
    platform: 'dev',
    attest: async () => {
      throw new NsmError('DeviceFailed', 'NSM ioctl on /dev/nsm failed: ETIMEDOUT', { errno: 'ETIMEDOUT' });
    },
  };
  const w = await createWorld({ attestor: broken });
  await assert.rejects(attestationSelfCheck(w.service, broken), (e: NsmError) => e.code === 'InternalError' && e.reason === 'DeviceFailed');
});

test('parseSelfCheckLine ignores other lines', () => {
  assert.equal(parseSelfCheckLine('init: platform nitro'), null);
  assert.equal(parseSelfCheckLine(`${SELF_CHECK_PREFIX} nonce=zz document=AAAA`), null);
});

test('serve on a hardware platform whose attestation fails stops before serving, with one FAILED line', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { serve } = await import('../../src/cli/commands/serve.ts');
  // A directory where configfs-tsm would be, with nothing behind it: the report never comes.
  const dir = mkdtempSync(join(tmpdir(), 'encumber-selfcheck-'));
  const err: string[] = [];
  const io = { out: () => {}, err: (l: string) => err.push(l), readInput: async () => '' };
  try {
    await assert.rejects(serve({ port: '0', host: '127.0.0.1', platform: 'sev-snp', dataDir: join(dir, 'data'), quiet: true, tsmReportDir: dir, allowDemoPolicy: true }, io));
    assert.ok(err.some((l) => /^encumber: identity: key=did:key:z\S+ binding=\S+ policy=\S+ platform=sev-snp$/.test(l)), err.join('\n'));
    assert.equal(err.filter((l) => l.startsWith('encumber: attestation self-check FAILED: ')).length, 1, err.join('\n'));
    assert.ok(!err.some((l) => l.includes('serving on')), 'never serves');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
