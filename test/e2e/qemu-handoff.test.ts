/**
 * Two guests booted from the same reproducible image hand the enclave key
 * over (docs/key-handoff.md "Booted images"), on the dev platform with the
 * embedded demo policy, under QEMU TCG (test/support/qemu.ts):
 *
 *   - the host makes one dev root and hands it to both guests in their boot
 *     documents: each DHCP lease announces `encumber-boot:10.0.2.100:9002`,
 *     and a guestfwd there serves that guest's document (`cat FILE`);
 *   - A boots and serves; its attestation verifies against that root and the
 *     dev measurement of the bundle we built;
 *   - B boots with `join: http://10.0.2.101:8080` in its document, a guestfwd
 *     to A's forwarded port (socat per connection, through a relay that makes
 *     one connection per request): B serves the same enclave
 *     key, and its own attestation verifies against the root, names that key
 *     and the same measurement;
 *   - A is killed; B signs a record alice and bob co-signed, and the record
 *     verifies, its enclave signature by A's key.
 *
 * Each network is restricted (restrict=on): a guest reaches only its boot
 * document and, for B, A's port; the host side listens on 127.0.0.1 only.
 * Both guests are always killed, on failure too (and on process exit; and
 * `timeout` caps each guest's life at QEMU_LIFETIME_S). The guests boot one
 * after the other. Skipped only when qemu-system-x86_64 or socat is missing and
 * CI is not set; under CI=true it runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import defaultPolicy from '../../src/policy/default-policy.json' with { type: 'json' };
import { createDevRoot } from '../../src/attestation/dev/root.ts';
import { verifyEvidence } from '../../src/verifier/evidence.ts';
import { parseMeasurements } from '../../src/verifier/measurements.ts';
import { verifyPublishedRecord, type Identity } from '../../src/verifier/record.ts';
import { devMeasurements } from '../../src/cli/commands/measure.ts';
import type { ImageManifest } from '../../enclave/image/pipeline.ts';
import { runImageBuild, skipUnlessCi } from '../image/build-runner.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { call, freePort, qemuBootMissing, signDemoRecord, startVm, waitHealthy, type Vm } from '../support/qemu.ts';
import { hasCommand } from '../support/tools.ts';

/**
 * A's API for B on 127.0.0.1, one connection per request (`connection: close` both ways). B's HTTP client would
 * otherwise send a request on a kept-alive connection that A closes as idle at the same moment (A's clock, under
 * TCG, runs at its own pace, and the close travels through two user networks); a POST on a connection closed under
 * it fails and is not retried. The bytes are A's, unchanged.
 */
async function oneRequestPerConnection(targetPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const upstream = request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' }, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, connection: 'close' });
        answer.pipe(res);
      },
    );
    upstream.once('error', () => res.destroy());
    req.pipe(upstream);
  });
  const port = await freePort();
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  return { port, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

const socatMissing = () => (hasCommand('socat', '-V') ? null : 'socat is not installed (apt-get install socat): it relays B to A');
const SKIP = skipUnlessCi(qemuBootMissing() ?? socatMissing());

/** Where each guest finds its boot document (a guestfwd), and where B finds A (another). */
const BOOT_DOCUMENT_ADDRESS = '10.0.2.100:9002';
const SENDER_ADDRESS = '10.0.2.101:8080';

test('two guests booted from the image hand the enclave key over; the joiner signs after the sender is gone', { skip: SKIP, timeout: 1_800_000 }, async (t) => {
  const missing = qemuBootMissing() ?? socatMissing();
  assert.equal(missing, null, missing ?? '');
  const dir = mkdtempSync(join(tmpdir(), 'encumber-qemu-handoff-'));
  // The paths go into -netdev options and a guestfwd command line: no commas, no spaces.
  assert.match(dir, /^[\w./-]+$/);
  const out = join(dir, 'out');
  const vms: Array<[string, Vm]> = [];
  let relay: { close(): Promise<void> } | undefined;
  try {
    const build = await runImageBuild(REPO_ROOT, ['--out', out]);
    assert.equal(build.code, 0, `image build failed:\n${build.stdout}\n${build.stderr}`);
    t.diagnostic(`image build ${(build.ms / 1000).toFixed(1)} s`);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as ImageManifest;
    const measurements = parseMeasurements(devMeasurements(join(out, 'encumber-enclave.mjs')));

    // One dev root for both guests, made here: the attestations must chain to it (not to a root a guest made).
    const root = createDevRoot({ now: new Date(), validityDays: 1 });
    const devRoot = root.exportWithPrivateKey();
    const bootA = join(dir, 'boot-a.json');
    const bootB = join(dir, 'boot-b.json');
    writeFileSync(bootA, JSON.stringify({ devRoot }));
    writeFileSync(bootB, JSON.stringify({ join: `http://${SENDER_ADDRESS}`, devRoot }));
    const bootDocument = (file: string) => [`bootfile=encumber-boot:${BOOT_DOCUMENT_ADDRESS}`, `guestfwd=tcp:${BOOT_DOCUMENT_ADDRESS}-cmd:cat ${file}`];

    const attested = async (base: string) => {
      const nonce = randomBytes(32);
      const att = await call(base, `/xrpc/dev.encumber.getAttestation?nonce=${nonce.toString('hex')}`);
      assert.equal(att.status, 200, JSON.stringify(att.json));
      const verdict = await verifyEvidence(
        { evidence: new Uint8Array(Buffer.from(att.json.evidence.$bytes, 'base64')), binding: att.json.binding, bindingCid: att.json.bindingCid },
        { roots: root.pem, at: new Date(), nonce, measurements: { accept: measurements } },
      );
      assert.ok(verdict.ok, JSON.stringify(verdict.checks.at(-1)));
      assert.equal(verdict.pcrs?.[0], manifest.devPcrs.PCR0, 'PCR0 = the dev PCR0 of the bundle we built');
      return verdict.key;
    };
    const boot = async (name: string, port: number, netdev: string[]) => {
      const vm = startVm(out, { port, netdev });
      vms.push([name, vm]);
      const ms = await waitHealthy(`http://127.0.0.1:${port}`, vm);
      t.diagnostic(`${name}: boot to healthy ${(ms / 1000).toFixed(1)} s (QEMU TCG, -smp 2, -m 1024)`);
    };

    // A: serves the demo policy, attested under the host's dev root.
    const portA = await freePort();
    const a = `http://127.0.0.1:${portA}`;
    await boot('A', portA, bootDocument(bootA));
    const idA = await call(a, '/xrpc/dev.encumber.getIdentity');
    assert.equal(idA.status, 200, JSON.stringify(idA.json));
    assert.equal(idA.json.platform, 'dev');
    assert.deepEqual(idA.json.policy, defaultPolicy);
    const identityA = idA.json as unknown as Identity;
    assert.equal(await attested(a), identityA.key);

    // B: joins A through its guestfwd; healthy only once it holds the key.
    const toA = await oneRequestPerConnection(portA);
    relay = toA;
    const portB = await freePort();
    const b = `http://127.0.0.1:${portB}`;
    await boot('B', portB, [...bootDocument(bootB), `guestfwd=tcp:${SENDER_ADDRESS}-cmd:socat - TCP:127.0.0.1:${toA.port}`]);
    assert.match(vms[1]![1].log(), new RegExp(`init: joining http://${SENDER_ADDRESS.replaceAll('.', '\\.')}`));
    const idB = await call(b, '/xrpc/dev.encumber.getIdentity');
    assert.equal(idB.status, 200, JSON.stringify(idB.json));
    const identityB = idB.json as unknown as Identity;
    assert.equal(identityB.key, identityA.key, 'B serves the enclave key A drew');
    assert.equal(identityB.policyCid, identityA.policyCid);
    assert.notEqual(identityB.bindingCid, identityA.bindingCid, 'B made a binding of its own');
    assert.equal(await attested(b), identityA.key, 'B\'s own attestation names A\'s key');

    // A gone: B still signs with that key.
    await vms[0]![1].stop();
    await assert.rejects(fetch(`${a}/xrpc/_health`, { signal: AbortSignal.timeout(5000) }));
    const signed = await signDemoRecord(b, 'signed by the second guest after the first was gone');
    assert.equal(signed.status, 200, JSON.stringify(signed.json));
    assert.equal(signed.json.signature.key, identityA.key);
    const check = verifyPublishedRecord(identityB, signed.json.record);
    assert.ok(check.ok, JSON.stringify(check.checks));
    assert.equal(check.cosigners.length, 2);
    t.diagnostic(`B signed ${check.cid} with A's key ${identityA.key}`);
  } catch (e) {
    for (const [name, vm] of vms) {
      const file = join(tmpdir(), `encumber-qemu-handoff-${name}.log`);
      writeFileSync(file, vm.log());
      t.diagnostic(`${name}: serial console (whole log in ${file}), tail:\n${vm.log().slice(-6000)}`);
    }
    throw e;
  } finally {
    for (const [, vm] of vms) await vm.stop();
    await relay?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
