/**
 * /dev/nsm as an NsmTransport (the I/O edge; the layout is in ioctl.ts, the
 * protocol in src/attestation/nitro/nsm/). Opened once, read-write, like
 * AWS's nsm_init; must be a character device. One ioctl at a time (the driver
 * serialises them anyway; queueing here keeps worker threads free).
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { NsmError } from '../../attestation/nitro/nsm/errors.ts';
import { NSM_LIMITS } from '../../attestation/nitro/nsm/limits.ts';
import { decodeNsmMessage, encodeNsmMessage, NSM_IOCTL_REQUEST, NSM_MESSAGE_BYTES } from './ioctl.ts';
import { loadLibc, type Libc } from './libc.ts';
import type { NsmTransport } from './transport.ts';

export const NSM_DEVICE = '/dev/nsm';

export interface NsmDeviceOptions {
  path?: string;
  /** The native calls; default koffi + the C library. */
  libc?: Libc;
}

export interface NsmDevice extends NsmTransport {
  readonly path: string;
  close(): void;
}

function openFailure(path: string, e: NodeJS.ErrnoException): NsmError {
  const hint =
    e.code === 'ENOENT'
      ? 'it is absent: run inside a Nitro Enclave (whose kernel has the nsm driver), or use --platform dev'
      : e.code === 'EACCES' || e.code === 'EPERM'
        ? 'permission denied: the enclave program must run as root'
        : e.message;
  return new NsmError('DeviceUnavailable', `cannot open the Nitro Security Module at ${path}: ${hint}`, {
    errno: e.code ?? 'unknown',
    path,
    cause: e,
  });
}

function ioctlFailure(path: string, name: string): NsmError {
  const why: Record<string, string> = {
    ENOTTY: 'the device does not take the NSM ioctl (not an NSM device?)',
    EINVAL: 'the device refused the NSM ioctl number or size (not an NSM device?)',
    EMSGSIZE: `the request is larger than the driver takes (${NSM_LIMITS.maxRequestBytes} bytes)`,
    EPERM: 'not permitted: the raw NSM ioctl needs CAP_SYS_ADMIN (run the enclave program as root)',
    EACCES: 'not permitted: the raw NSM ioctl needs CAP_SYS_ADMIN (run the enclave program as root)',
    ETIMEDOUT: 'the NSM did not answer within the driver timeout',
    EFAULT: 'the driver could not read or write our buffers',
  };
  return new NsmError('DeviceFailed', `NSM ioctl on ${path} failed: ${name}${why[name] ? ` (${why[name]})` : ''}`, { errno: name, path });
}

export function openNsmDevice(opts: NsmDeviceOptions = {}): NsmDevice {
  const path = opts.path ?? NSM_DEVICE;
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (e) {
    throw openFailure(path, e as NodeJS.ErrnoException);
  }
  let libc: Libc;
  try {
    if (!fstatSync(fd).isCharacterDevice()) {
      throw new NsmError('DeviceUnavailable', `${path} is not a character device, so not the Nitro Security Module`, { path });
    }
    libc = opts.libc ?? loadLibc();
  } catch (e) {
    closeSync(fd);
    throw e;
  }

  let open = true;
  let queue: Promise<unknown> = Promise.resolve();

  async function roundTrip(cbor: Uint8Array): Promise<Uint8Array> {
    if (!open) throw new NsmError('DeviceFailed', `${path} is closed`, { path });
    if (!(cbor instanceof Uint8Array) || cbor.length === 0 || cbor.length > NSM_LIMITS.maxRequestBytes) {
      throw new NsmError('InvalidRequest', `NSM request must be 1..${NSM_LIMITS.maxRequestBytes} bytes`, {
        expected: NSM_LIMITS.maxRequestBytes,
        actual: cbor?.length,
      });
    }
    // Fresh, unshared buffers: their addresses go to the kernel; they stay referenced until the call returns.
    const request = new Uint8Array(cbor);
    const response = new Uint8Array(NSM_LIMITS.responseBufferBytes);
    const message = encodeNsmMessage({
      requestAddr: libc.address(request),
      requestLen: request.length,
      responseAddr: libc.address(response),
      responseLen: response.length,
    });
    const { result, errno } = await libc.ioctl(fd, NSM_IOCTL_REQUEST, message);
    if (result !== 0) throw ioctlFailure(path, libc.errnoName(errno));
    const { responseLen } = decodeNsmMessage(message.subarray(0, NSM_MESSAGE_BYTES));
    if (responseLen === 0 || responseLen >= response.length) {
      // Zero: nothing came. The whole buffer: the driver may have truncated.
      throw new NsmError('MalformedResponse', `NSM response length ${responseLen} outside 1..${response.length - 1}`, {
        expected: `1..${response.length - 1}`,
        actual: responseLen,
      });
    }
    return response.slice(0, responseLen);
  }

  return {
    path,
    request(cbor) {
      const run = queue.then(() => roundTrip(cbor));
      queue = run.catch(() => undefined);
      return run;
    },
    close() {
      if (!open) return;
      open = false;
      void queue.finally(() => closeSync(fd));
    },
  };
}
