/**
 * The one native call the NSM needs — ioctl(2) — through koffi (FFI with
 * prebuilt binaries from its npm platform packages, pinned by the lockfile).
 * Loaded on first use only, so the dev and SEV-SNP platforms never load FFI.
 *
 * ioctl is declared with a fixed third argument (`void *`) rather than as
 * variadic: koffi runs only non-variadic functions on its worker threads, and
 * on the Nitro ABIs (x86-64 SysV, arm64 AAPCS64 on Linux) integer and pointer
 * arguments travel in the same registers either way. The call runs off the
 * event loop (the NSM round trip blocks in the kernel for milliseconds), and
 * koffi hands the worker's errno back with the result.
 *
 * The bundle keeps koffi outside (a native addon cannot be bundled): it is
 * resolved at run time from node_modules beside the program.
 */
import { createRequire } from 'node:module';
import { NsmError } from '../../attestation/nitro/nsm/errors.ts';

type Koffi = typeof import('koffi');

export interface IoctlResult {
  result: number;
  errno: number;
}

export interface Libc {
  /** ioctl(fd, request, arg) on a worker thread; `arg` is passed by reference and may be written. */
  ioctl(fd: number, request: number, arg: Uint8Array): Promise<IoctlResult>;
  /** The address of the first byte of `buf` (Node never moves a buffer's memory). */
  address(buf: Uint8Array): bigint;
  /** 'ENOTTY' for 25, or 'errno 999' for a number it does not know. */
  errnoName(errno: number): string;
}

const LIBC_NAMES = ['libc.so.6', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1'];

let cached: Libc | undefined;

export function loadLibc(): Libc {
  if (cached) return cached;
  let koffi: Koffi;
  try {
    // A runtime require the bundler leaves alone: koffi ships a .node binary.
    const load = createRequire(import.meta.url);
    koffi = load('koffi') as Koffi;
  } catch (cause) {
    throw new NsmError('FfiUnavailable', `cannot load koffi (the FFI used for the NSM ioctl): ${(cause as Error)?.message ?? cause}`, { cause });
  }
  let lib: ReturnType<Koffi['load']> | undefined;
  const errors: string[] = [];
  for (const name of LIBC_NAMES) {
    try {
      lib = koffi.load(name);
      break;
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  }
  if (!lib) throw new NsmError('FfiUnavailable', `cannot load the C library: ${errors.join('; ')}`);
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, void *arg)');
  const names = new Map<number, string>(Object.entries(koffi.os.errno).map(([name, n]) => [n as number, name]));
  cached = {
    ioctl: (fd, request, arg) =>
      new Promise((resolve, reject) => {
        ioctl.async(fd, request, arg, (err: unknown, result: number) => {
          if (err) reject(err);
          else resolve({ result, errno: result === 0 ? 0 : koffi.errno() });
        });
      }),
    address: (buf) => koffi.address(buf),
    errnoName: (errno) => names.get(errno) ?? `errno ${errno}`,
  };
  return cached;
}
