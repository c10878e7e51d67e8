/**
 * Boots an EIF in the test QEMU's `nitro-enclave` machine (TCG): the
 * vhost-user-vsock stub on a UNIX socket in a fresh temp directory, QEMU
 * under `timeout --signal=KILL` in its own process group, the serial console
 * captured. stop() kills the group, closes the stub and removes the directory;
 * it also runs on process exit.
 *
 * Command-line additions go through `-append`, which QEMU adds after the
 * EIF's own command line at boot; PCR0/1/2 are computed from the EIF file,
 * so they stay the release's. Only TCG needs them (see TCG_APPEND).
 *
 *   node --import tsx test/qemu-nitro/run.ts build/out/encumber.eif     boots it, console on stdout
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NitroQemu } from './build.ts';
import { startVsockStub, type VsockStub } from './vhost-user-vsock.ts';

/**
 * Under TCG the guest's TSC calibration and the IO-APIC timer check misjudge
 * the emulated clock; a 6.12 guest hung without these. Appended at run time,
 * never part of the measured release command line.
 */
export const TCG_APPEND = 'no_timer_check tsc_early_khz=2000000';

export interface NitroVm {
  proc: ChildProcess;
  stub: VsockStub;
  /** The serial console (and QEMU's stderr) so far. */
  log(): string;
  exited(): boolean;
  /** Resolves with the first console line matching re, or rejects on exit / deadline. */
  waitFor(re: RegExp, deadlineMs: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

export interface NitroVmOptions {
  memoryMiB?: number;
  cpus?: number;
  /** Hard cap on QEMU's life, whatever happens to this process. */
  lifetimeSeconds?: number;
  append?: string;
  guestCid?: bigint;
}

export async function startNitroVm(qemu: NitroQemu, eif: string, opts: NitroVmOptions = {}): Promise<NitroVm> {
  const dir = mkdtempSync(join(tmpdir(), 'encumber-nitro-vm-'));
  const sock = join(dir, 'vsock.sock');
  let stub: VsockStub;
  try {
    stub = await startVsockStub({ path: sock, guestCid: opts.guestCid ?? 16n });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const args = [
    ...qemu.prefix,
    '-M', 'nitro-enclave,vsock=vsock0',
    '-accel', 'tcg',
    '-cpu', 'max',
    '-smp', String(opts.cpus ?? 2),
    '-m', String(opts.memoryMiB ?? 1536),
    '-nographic',
    '-no-reboot',
    '-kernel', eif,
    '-chardev', `socket,id=vsock0,path=${sock}`,
    ...(opts.append === '' ? [] : ['-append', opts.append ?? TCG_APPEND]),
  ];
  const proc = spawn('timeout', ['--signal=KILL', String(opts.lifetimeSeconds ?? 900), qemu.command, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  const waiters = new Set<() => void>();
  const keep = (d: Buffer) => {
    log += d.toString('utf8');
    if (log.length > 2_000_000) log = log.slice(-1_000_000);
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let done = false;
  const closed = new Promise<void>((ok) =>
    proc.once('close', () => {
      done = true;
      for (const w of waiters) w();
      ok();
    }),
  );
  proc.once('error', (e) => {
    done = true;
    log += `\n[spawn error: ${e.message}]`;
  });
  const kill = () => {
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const cleanup = () => {
    kill();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  return {
    proc,
    stub,
    log: () => log,
    exited: () => done,
    waitFor: (re, deadlineMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no console line matching ${re} within ${deadlineMs / 1000} s`)), deadlineMs);
        const finish = (e: Error | null, m?: RegExpExecArray) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (e) reject(e);
          else resolve(m!);
        };
        const check = () => {
          const m = re.exec(log);
          if (m) finish(null, m);
          else if (done) finish(new Error(`QEMU exited (${proc.exitCode ?? proc.signalCode}) before a console line matched ${re}`));
        };
        waiters.add(check);
        check();
      }),
    stop: async () => {
      process.removeListener('exit', cleanup);
      if (!done) {
        kill();
        await closed;
      }
      await stub.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const eif = process.argv[2];
  if (!eif) {
    console.error('usage: run.ts EIF   (boots it in the nitro-enclave machine; Ctrl-C stops)');
    process.exit(2);
  }
  const { ensureNitroQemu } = await import('./build.ts');
  const vm = await startNitroVm(await ensureNitroQemu(), eif);
  vm.proc.stdout!.pipe(process.stdout);
  vm.proc.stderr!.pipe(process.stderr);
  const stop = () => void vm.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  vm.proc.once('close', stop);
}
