/**
 * The reproducible image, booted: build it (enclave/image/build.ts), start it
 * under qemu-system-x86_64 (TCG: no KVM needed) with the kernel, initrd and
 * command line the build wrote (plus TCG_CMDLINE), an e1000 NIC (built into
 * the kernel), user-mode networking restricted to one
 * forwarded port (127.0.0.1:<free port> → guest 8080, restrict=on: no other
 * network), and wait (at most 240 s) for /xrpc/_health. Then, over that port:
 *
 *   - getIdentity: the embedded demo policy (2 of alice, bob, carol), platform dev;
 *   - getAttestation with a fresh nonce: the document verifies (nonce, key,
 *     binding) and its PCRs are the dev PCRs of the bundle we built, i.e. the
 *     guest runs exactly build/out/encumber-enclave.mjs. The dev root is taken
 *     from the document's own cabundle here: this checks consistency, not trust;
 *   - signRecord: alice and bob (test/fixtures/demo) co-sign a draft, the guest
 *     signs it (200), and the published record verifies against the identity.
 *
 * QEMU is always killed at the end, on failure too (and on process exit; and
 * `timeout` caps its life at 10 minutes should this process die uncleanly).
 * Skipped only when qemu-system-x86_64 is missing and CI is not set; under
 * CI=true it runs (.ci/run installs qemu-system-x86).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import defaultPolicy from '../../src/policy/default-policy.json' with { type: 'json' };
import { parseCoseSign1 } from '../../src/attestation/nitro/cose.ts';
import { parseAttestationDocument } from '../../src/attestation/nitro/document.ts';
import { verifyEvidence } from '../../src/verifier/evidence.ts';
import { parseMeasurements } from '../../src/verifier/measurements.ts';
import { verifyPublishedRecord, type Identity } from '../../src/verifier/record.ts';
import { devMeasurements } from '../../src/cli/commands/measure.ts';
import type { ImageManifest } from '../../enclave/image/pipeline.ts';
import { buildPrerequisiteMissing, runImageBuild, skipUnlessCi } from '../image/build-runner.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { call, freePort, qemuBootMissing, QEMU, signDemoRecord, startVm, waitHealthy, type Vm } from '../support/qemu.ts';
import { hasCommand } from '../support/tools.ts';

const SKIP = skipUnlessCi(qemuBootMissing());

test('the image boots under QEMU (TCG) and signs a 2-of-3 record end to end', { skip: SKIP, timeout: 1_800_000 }, async (t) => {
  assert.ok(hasCommand(QEMU, '--version'), `${QEMU} is not installed: CI must install qemu-system-x86 (.ci/run)`);
  const missing = buildPrerequisiteMissing();
  assert.equal(missing, null, missing ?? '');
  const dir = mkdtempSync(join(tmpdir(), 'encumber-qemu-'));
  const out = join(dir, 'out');
  let vm: Vm | undefined;
  try {
    const build = await runImageBuild(REPO_ROOT, ['--out', out]);
    assert.equal(build.code, 0, `image build failed:\n${build.stdout}\n${build.stderr}`);
    t.diagnostic(`image build ${(build.ms / 1000).toFixed(1)} s`);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as ImageManifest;

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    vm = startVm(out, { port });
    let bootMs: number;
    try {
      bootMs = await waitHealthy(base, vm);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- serial console (tail) ---\n${vm.log().slice(-20_000)}`);
    }
    t.diagnostic(`boot to healthy: ${(bootMs / 1000).toFixed(1)} s (QEMU TCG, -smp 2, -m 1024)`);

    // Identity: the embedded demo policy, dev platform.
    const id = await call(base, '/xrpc/dev.encumber.getIdentity');
    assert.equal(id.status, 200, JSON.stringify(id.json));
    assert.equal(id.json.platform, 'dev');
    assert.deepEqual(id.json.policy, defaultPolicy);
    const identity = id.json as unknown as Identity;

    // Attestation: fresh nonce; the PCRs name the bundle we built.
    const nonce = randomBytes(32);
    const att = await call(base, `/xrpc/dev.encumber.getAttestation?nonce=${nonce.toString('hex')}`);
    assert.equal(att.status, 200, JSON.stringify(att.json));
    const evidence = new Uint8Array(Buffer.from(att.json.evidence.$bytes, 'base64'));
    const root = parseAttestationDocument(parseCoseSign1(evidence).payload).cabundle[0]!;
    const verdict = await verifyEvidence(
      { evidence, binding: att.json.binding, bindingCid: att.json.bindingCid },
      { roots: [root], at: new Date(), nonce, measurements: { accept: parseMeasurements(devMeasurements(join(out, 'encumber-enclave.mjs'))) } },
    );
    assert.ok(verdict.ok, JSON.stringify(verdict.checks.at(-1)));
    assert.equal(verdict.key, identity.key);
    assert.equal(verdict.pcrs?.[0], manifest.devPcrs.PCR0, 'PCR0 = the dev PCR0 of build/out/encumber-enclave.mjs');

    // One record, co-signed by alice and bob, signed in the guest.
    const signed = await signDemoRecord(base, 'signed inside a QEMU guest booted from the reproducible image');
    assert.equal(signed.status, 200, JSON.stringify(signed.json));
    const check = verifyPublishedRecord(identity, signed.json.record);
    assert.ok(check.ok, JSON.stringify(check.checks));
    assert.equal(check.cosigners.length, 2);
    t.diagnostic(`signed ${check.cid} in the guest`);
  } catch (e) {
    if (vm) {
      const file = join(tmpdir(), 'encumber-qemu-serial.log');
      writeFileSync(file, vm.log());
      t.diagnostic(`serial console (whole log in ${file}), tail:\n${vm.log().slice(-6000)}`);
    }
    throw e;
  } finally {
    await vm?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
