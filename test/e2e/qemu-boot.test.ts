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
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import defaultPolicy from '../../src/policy/default-policy.json' with { type: 'json' };
import { parseCoseSign1 } from '../../src/attestation/nitro/cose.ts';
import { parseAttestationDocument } from '../../src/attestation/nitro/document.ts';
import { verifyEvidence } from '../../src/verifier/evidence.ts';
import { parseMeasurements } from '../../src/verifier/measurements.ts';
import { verifyPublishedRecord, type Identity } from '../../src/verifier/record.ts';
import { devMeasurements } from '../../src/cli/commands/measure.ts';
import { cosignDraft, parseDraft, type Draft } from '../../src/member/cosign.ts';
import { parseMemberKeyFile } from '../../src/member/keys.ts';
import type { ImageManifest } from '../../enclave/image/pipeline.ts';
import { buildPrerequisiteMissing, runImageBuild, skipUnlessCi } from '../image/build-runner.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { hasCommand } from '../support/tools.ts';

const QEMU = 'qemu-system-x86_64';
/** Appended to cmdline.txt on this test's QEMU command line only (TCG, no KVM). */
const TCG_CMDLINE = 'no_timer_check tsc_early_khz=2000000';
const HEALTH_DEADLINE_MS = 240_000;
/** A hard cap on the guest's life, whatever happens to the test process. */
const QEMU_LIFETIME_S = 600;
const SKIP = skipUnlessCi(hasCommand(QEMU, '--version') ? buildPrerequisiteMissing() : `${QEMU} is not installed (apt-get install qemu-system-x86)`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface Vm {
  proc: ChildProcess;
  log(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

function startVm(out: string, port: number): Vm {
  const cmdline = readFileSync(join(out, 'cmdline.txt'), 'utf8').trim();
  const args = [
    '-accel', 'tcg',
    '-cpu', 'max',
    '-smp', '2',
    '-m', '1024',
    '-nographic',
    '-no-reboot',
    '-kernel', join(out, 'bzImage'),
    '-initrd', join(out, 'initramfs.cpio.gz'),
    // The measured command line, plus two parameters for TCG only (not in any measured command line): under
    // emulation the TSC calibrates badly and the timer check can fail; give the kernel a fixed TSC rate.
    '-append', `${cmdline} ${TCG_CMDLINE}`,
    '-netdev', `user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:8080`,
    '-device', 'e1000,netdev=net0',
  ];
  // Its own process group, killed as a whole; `timeout` ends QEMU even if this process dies without cleaning up.
  const proc = spawn('timeout', ['--signal=KILL', String(QEMU_LIFETIME_S), QEMU, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  const keep = (d: Buffer) => {
    log += d.toString('utf8');
    if (log.length > 400_000) log = log.slice(-200_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let done = false;
  const closed = new Promise<void>((ok) => proc.once('close', () => ((done = true), ok())));
  proc.once('error', (e) => ((done = true), (log += `\n[spawn error: ${e.message}]`)));
  const killOnExit = () => {
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);
  return {
    proc,
    log: () => log,
    exited: () => done,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (!done) {
        killOnExit();
        await closed;
      }
    },
  };
}

async function waitHealthy(base: string, vm: Vm): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < HEALTH_DEADLINE_MS) {
    if (vm.exited()) throw new Error(`QEMU exited before the service answered (exit ${vm.proc.exitCode ?? vm.proc.signalCode})`);
    try {
      const res = await fetch(`${base}/xrpc/_health`, { signal: AbortSignal.timeout(3000) });
      if (res.status === 200 && ((await res.json()) as { status?: string }).status === 'ok') return performance.now() - started;
    } catch {
      // not listening yet: slirp accepts, then resets until the guest serves
    }
    await sleep(1000);
  }
  throw new Error(`no answer from ${base}/xrpc/_health within ${HEALTH_DEADLINE_MS / 1000} s`);
}

async function call(base: string, path: string, init?: RequestInit) {
  const res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

function demoDraft(text: string): Draft {
  let draft = parseDraft({
    repository: defaultPolicy.repository,
    collection: 'app.bsky.feed.post',
    record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() },
    cosignatures: [],
  });
  const demo = (f: string) => readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'demo', f), 'utf8');
  for (const [who, signer] of [['alice', defaultPolicy.signers[0]!], ['bob', defaultPolicy.signers[1]!]] as const) {
    draft = cosignDraft(draft, parseMemberKeyFile(demo(`${who}.key`)), signer.did).draft;
    draft = { ...draft, plcLogs: { ...(draft.plcLogs ?? {}), [signer.did]: JSON.parse(demo(`${who}.plc.json`)) } };
  }
  return draft;
}

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
    vm = startVm(out, port);
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
    const signed = await call(base, '/xrpc/dev.encumber.signRecord', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(demoDraft('signed inside a QEMU guest booted from the reproducible image')),
    });
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
