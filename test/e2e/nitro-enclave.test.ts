/**
 * The release EIF, booted as a Nitro Enclave: build the image
 * (enclave/image/build.ts, as test/e2e/qemu-boot.test.ts does, with an
 * organisation's policy: serve refuses the demo policy on nitro), start its
 * encumber.eif in QEMU's `nitro-enclave` machine (TCG; the test QEMU of
 * test/qemu-nitro/, whose NSM writes ES384-shaped, unsigned documents), and
 * read the serial console:
 *
 *   - /init chose platform nitro and found /dev/nsm without loading a module
 *     (the NSM driver is built into the kernel), and `serve --platform nitro`
 *     started behind the vsock bridges;
 *   - the service's start-up self-check document (src/enclave/self-check.ts),
 *     parsed by our parser: PCR0/1/2 equal the build's manifest.json (QEMU
 *     measures the EIF it was given), PCR1 (kernel, command line, boot
 *     ramdisk) is in attestation/measurements.json; the nonce is the logged
 *     one; public_key and user_data are the enclave key and the binding CID it
 *     logged; DescribePCR agrees with the document;
 *   - our verifier, with its default options (the AWS Nitro root), refuses
 *     the document: QEMU's NSM does not sign (zero signature, zero certificate).
 *
 * vsock carries nothing here (the stub backend only lets the device probe), so
 * the heartbeat to the parent fails and the result comes over the console.
 * QEMU is always killed (its process group; `timeout` caps its life), temp
 * directories removed. Skipped only when a tool is missing and CI is not set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCoseSign1 } from '../../src/attestation/nitro/cose.ts';
import { parseAttestationDocument } from '../../src/attestation/nitro/document.ts';
import { decodeStrict } from '../../src/attestation/nitro/cbor.ts';
import { parseDidKey } from '../../src/crypto/did-key.ts';
import { CID } from '../../src/data/cid.ts';
import { parseSelfCheckLine } from '../../src/enclave/self-check.ts';
import { verifyEvidence } from '../../src/verifier/evidence.ts';
import type { ImageManifest } from '../../enclave/image/pipeline.ts';
import defaultPolicy from '../../src/policy/default-policy.json' with { type: 'json' };
import { buildPrerequisiteMissing, runImageBuild, skipUnlessCi } from '../image/build-runner.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { hasCommand } from '../support/tools.ts';
import { ensureNitroQemu } from '../qemu-nitro/build.ts';
import { startNitroVm, type NitroVm } from '../qemu-nitro/run.ts';

/** The image's policy: the demo policy's members under another repository (so not the demo policy). */
const TEST_REPOSITORY = 'did:plc:nitroenclavetestorgabcde';

/** Boot to the self-check line under TCG; a deadline for waiting, not a figure asserted. */
const SELF_CHECK_DEADLINE_MS = 600_000;

function missingTool(): string | null {
  const build = buildPrerequisiteMissing();
  if (build) return build;
  if (process.getuid?.() !== 0) return 'the test QEMU is built in a debootstrap chroot, which needs root';
  if (!hasCommand('debootstrap', '--version')) return 'debootstrap is not installed (apt-get install debootstrap)';
  return null;
}
const SKIP = skipUnlessCi(missingTool());

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('the release EIF boots in QEMU nitro-enclave; its NSM self-check document carries the build PCRs', { skip: SKIP, timeout: 3_600_000 }, async (t) => {
  const missing = missingTool();
  assert.equal(missing, null, missing ?? '');
  const qemu = await ensureNitroQemu((l) => t.diagnostic(`qemu-nitro: ${l}`));
  t.diagnostic(qemu.version);

  const dir = mkdtempSync(join(tmpdir(), 'encumber-nitro-'));
  const out = join(dir, 'out');
  let vm: NitroVm | undefined;
  try {
    // serve refuses the demo policy (public member keys) on nitro: the image carries an organisation's policy,
    // as a deployment's does (/encumber/policy.json in the app ramdisk: PCR0 and PCR2; PCR1 is the release's).
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ ...defaultPolicy, repository: TEST_REPOSITORY }, null, 2));
    const build = await runImageBuild(REPO_ROOT, ['--out', out, '--policy', policyFile]);
    assert.equal(build.code, 0, `image build failed:\n${build.stdout}\n${build.stderr}`);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as ImageManifest;
    const eifCmdline = join(out, existsSync(join(out, 'cmdline-nitro.txt')) ? 'cmdline-nitro.txt' : 'cmdline.txt');
    t.diagnostic(`EIF command line (measured): ${readFileSync(eifCmdline, 'utf8').trim()}`);
    // No kernel module in the image: the NSM driver, virtio-mmio and vsock are built into the kernel.
    assert.doesNotMatch(readFileSync(join(out, 'initramfs.txt'), 'utf8'), /\.ko(\.\w+)?$/m, 'the image carries no kernel module');

    const started = performance.now();
    vm = await startNitroVm(qemu, join(out, 'encumber.eif'));
    // Whole lines only (the console arrives in chunks): up to the line end.
    const selfCheck = await vm.waitFor(/encumber: attestation self-check (ok|FAILED): [^\r\n]*(?=[\r\n])/, SELF_CHECK_DEADLINE_MS);
    t.diagnostic(`boot to the self-check line: ${((performance.now() - started) / 1000).toFixed(1)} s (QEMU TCG, -smp 2)`);
    assert.equal(selfCheck[1], 'ok', selfCheck[0]);
    // The measurements line follows the self-check line; wait for it (or fail with the console).
    const described = await vm.waitFor(/encumber: measurements: ([^\r\n]*)(?=[\r\n])/, 60_000);
    const console_ = vm.log();

    // /init: platform nitro, no module loaded, the service started behind the vsock bridges.
    assert.match(console_, /init: platform nitro/);
    assert.doesNotMatch(console_, /insmod/, 'no module is loaded: the NSM driver and vsock are built into the kernel');
    assert.match(console_, /init: starting encumber --platform nitro [^\r\n]*behind the vsock bridges/);
    assert.match(console_, /Nitro attestation from the NSM at \/dev\/nsm/);

    // The identity the service logged, and the document it logged.
    const id = /encumber: identity: key=(did:key:\S+) binding=(\S+) policy=(\S+) platform=nitro/.exec(console_);
    assert.ok(id, 'the service logs its identity');
    const [, key, bindingCid] = id;
    const check = parseSelfCheckLine(selfCheck[0]);
    assert.ok(check, selfCheck[0]);
    assert.equal(check.nonce.length, 32);

    // Our parser: COSE_Sign1 (ES384 header, 96-byte signature: all zero, QEMU does not sign), then the document.
    const cose = parseCoseSign1(check.evidence);
    assert.deepEqual(decodeStrict(cose.protectedBytes, 'protected'), new Map([[1, -35]]));
    assert.equal(cose.signature.length, 96);
    assert.ok(cose.signature.every((b) => b === 0));
    const doc = parseAttestationDocument(cose.payload);
    const pcrs = { PCR0: hex(doc.pcrs.get(0)!), PCR1: hex(doc.pcrs.get(1)!), PCR2: hex(doc.pcrs.get(2)!) };
    t.diagnostic(`document PCRs: ${JSON.stringify(pcrs)}`);
    assert.deepEqual(pcrs, manifest.eif.pcrs, 'PCR0/1/2 in the NSM document = the build manifest (QEMU measured the EIF it booted)');
    assert.deepEqual(doc.nonce, check.nonce, 'the document echoes the logged nonce');
    assert.deepEqual(doc.publicKey, parseDidKey(key!).compressed, 'public_key = the enclave key');
    assert.deepEqual(doc.userData, CID.parse(bindingCid!).bytes, 'user_data = the binding CID');

    // DescribePCR, logged at the self-check, agrees.
    const nsmPcrs = Object.fromEntries(described[1]!.trim().split(/\s+/).map((kv) => kv.split('=') as [string, string]));
    assert.deepEqual(nsmPcrs, pcrs, 'DescribePCR 0/1/2 = the document PCRs');

    // Our verifier with its defaults (AWS Nitro root): an unsigned document from an emulated NSM is refused.
    const verdict = await verifyEvidence({ evidence: check.evidence, bindingCid: bindingCid! }, { at: new Date(doc.timestamp), nonce: check.nonce });
    assert.equal(verdict.ok, false);
    assert.ok(!verdict.ok);
    t.diagnostic(`verifier (defaults): ${verdict.error.code}: ${verdict.error.message}`);
    assert.equal(verdict.error.code, 'UntrustedRoot');

    // PCR1 (kernel, command line, boot ramdisk) is the published release's: attestation/measurements.json is
    // regenerated with each change of the image (npm run measurements). PCR0 and PCR2 cover the policy too.
    const published = JSON.parse(readFileSync(join(REPO_ROOT, 'attestation', 'measurements.json'), 'utf8')) as { nitro: { pcrs: Record<string, string> }[] };
    assert.ok(
      published.nitro.some((e) => e.pcrs['1'] === pcrs.PCR1),
      `attestation/measurements.json has no nitro entry with this build's PCR1 ${pcrs.PCR1} (regenerate it with npm run measurements)`,
    );
  } catch (e) {
    if (vm) {
      const file = join(tmpdir(), 'encumber-nitro-serial.log');
      writeFileSync(file, vm.log());
      t.diagnostic(`serial console (whole log in ${file}), tail:\n${vm.log().slice(-8000)}`);
    }
    throw e;
  } finally {
    await vm?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
