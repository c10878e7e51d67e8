/**
 * The reproducible image under qemu-system-x86_64 (TCG: no KVM needed), shared
 * by the boot tests (test/e2e/qemu-boot.test.ts, test/e2e/qemu-handoff.test.ts):
 * a guest started with the kernel, initrd and command line the build wrote
 * (plus TCG_CMDLINE), an e1000 NIC (built into the kernel) on user-mode
 * networking restricted to what the caller forwards (restrict=on: no other
 * network), its life capped whatever happens to the test process; the wait for
 * /xrpc/_health; a demo record co-signed by alice and bob.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import defaultPolicy from '../../src/policy/default-policy.json' with { type: 'json' };
import { cosignDraft, parseDraft, type Draft } from '../../src/member/cosign.ts';
import { parseMemberKeyFile } from '../../src/member/keys.ts';
import { buildPrerequisiteMissing } from '../image/build-runner.ts';
import { REPO_ROOT } from './fixtures.ts';
import { hasCommand } from './tools.ts';

export const QEMU = 'qemu-system-x86_64';
/** Appended to cmdline.txt on the test's QEMU command line only (TCG, no KVM). */
export const TCG_CMDLINE = 'no_timer_check tsc_early_khz=2000000';
export const HEALTH_DEADLINE_MS = 240_000;
/** A hard cap on a guest's life, whatever happens to the test process. */
export const QEMU_LIFETIME_S = 600;

/** Why a QEMU boot cannot run here (QEMU or an image build prerequisite missing), or null. */
export function qemuBootMissing(): string | null {
  return hasCommand(QEMU, '--version') ? buildPrerequisiteMissing() : `${QEMU} is not installed (apt-get install qemu-system-x86)`;
}

export function freePort(): Promise<number> {
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

export interface Vm {
  proc: ChildProcess;
  log(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

export interface VmOptions {
  /** Host port on 127.0.0.1 forwarded to the guest's 8080. */
  port: number;
  /** More `-netdev user` options (bootfile=, guestfwd=), each without commas of its own. */
  netdev?: readonly string[];
}

/** Boots build output `out` (bzImage, initramfs.cpio.gz, cmdline.txt). */
export function startVm(out: string, opts: VmOptions): Vm {
  const cmdline = readFileSync(join(out, 'cmdline.txt'), 'utf8').trim();
  const netdev = ['user', 'id=net0', 'restrict=on', `hostfwd=tcp:127.0.0.1:${opts.port}-:8080`, ...(opts.netdev ?? [])];
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
    '-netdev', netdev.join(','),
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

/**
 * Waits (at most HEALTH_DEADLINE_MS) until `base` answers _health with status ok; returns the time it took. A
 * guest that stopped, or a service that failed (a hand-off refused: state failed), ends the wait at once.
 */
export async function waitHealthy(base: string, vm: Vm): Promise<number> {
  const started = performance.now();
  let last = 'no answer';
  while (performance.now() - started < HEALTH_DEADLINE_MS) {
    if (vm.exited()) throw new Error(`QEMU exited before the service answered (exit ${vm.proc.exitCode ?? vm.proc.signalCode}); last health: ${last}`);
    try {
      const res = await fetch(`${base}/xrpc/_health`, { signal: AbortSignal.timeout(3000) });
      const body = (await res.json()) as { status?: string; state?: string; failure?: { code?: string; message?: string } };
      if (res.status === 200 && body.status === 'ok') return performance.now() - started;
      last = `${res.status} ${JSON.stringify(body)}`;
      if (body.state === 'failed') throw new Error(`the service failed: ${last}`);
    } catch (e) {
      if ((e as Error).message.startsWith('the service failed')) throw e;
      // not listening yet: slirp accepts, then resets until the guest serves
    }
    await sleep(1000);
  }
  throw new Error(`no answer from ${base}/xrpc/_health within ${HEALTH_DEADLINE_MS / 1000} s; last health: ${last}`);
}

export async function call(base: string, path: string, init?: RequestInit) {
  const res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

/** A draft for the embedded demo policy, co-signed by alice and bob (test/fixtures/demo), their logs attached. */
export function demoDraft(text: string): Draft {
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

/** POST signRecord with the demo draft. */
export function signDemoRecord(base: string, text: string) {
  return call(base, '/xrpc/dev.encumber.signRecord', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(demoDraft(text)),
  });
}
