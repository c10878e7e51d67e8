/**
 * The NSM ioctl's numbers and bytes, and the native edge on the real kernel:
 *  - the request number and struct nsm_raw layout computed in TypeScript equal
 *    what the C compiler computes from the kernel's own ioctl macros (when a C
 *    compiler is present) and known _IOC constants;
 *  - through koffi, the kernel itself reads our 32-byte message as two
 *    { addr, len } pairs (readv/writev take the same iovec layout), the ioctl
 *    argument is passed by reference (FIONREAD writes into it), and errno comes
 *    back from the worker thread;
 *  - opening a missing device, or one that is not the NSM, gives a typed error.
 * There is no /dev/nsm here: the NSM's side is in nsm-attestor.test.ts.
 */
import { skipUnlessCi } from '../support/tools.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNsmRequest, NsmError, type NsmFailure } from '../../src/attestation/nitro/nsm/index.ts';
import {
  decodeNsmMessage,
  encodeNsmMessage,
  ioc,
  iowr,
  loadLibc,
  nsmCall,
  NSM_IOCTL_REQUEST,
  NSM_MESSAGE_BYTES,
  openNsmDevice,
} from '../../src/enclave/nitro/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'nsm-ioctl-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function throwsNsm(f: () => unknown, reason: NsmFailure, check: (e: NsmError) => void = () => {}) {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof NsmError, `expected NsmError, got ${e}`);
    assert.equal(e.reason, reason, e.message);
    check(e);
    return true;
  });
}

test('request number: _IOWR(0x0A, 0, struct nsm_raw) = 0xC0200A00; _IOC matches known Linux constants', () => {
  assert.equal(NSM_MESSAGE_BYTES, 32);
  assert.equal(NSM_IOCTL_REQUEST, 0xc0200a00);
  assert.equal(iowr(0x0a, 0, 32), 0xc0200a00);
  // asm-generic/ioctl.h values from the kernel headers: TIOCGPTN = _IOR('T', 0x30, unsigned int),
  // TIOCSPTLCK = _IOW('T', 0x31, int), BLKGETSIZE64 = _IOR(0x12, 114, size_t), FS_IOC_GETFLAGS = _IOR('f', 1, long).
  assert.equal(ioc(2, 0x54, 0x30, 4), 0x80045430);
  assert.equal(ioc(1, 0x54, 0x31, 4), 0x40045431);
  assert.equal(ioc(2, 0x12, 114, 8), 0x80081272);
  assert.equal(ioc(2, 0x66, 1, 8), 0x80086601);
  assert.throws(() => ioc(4, 0, 0, 0), RangeError);
  assert.throws(() => ioc(3, 256, 0, 0), RangeError);
  assert.throws(() => ioc(3, 0, 0, 1 << 14), RangeError);
});

test('struct nsm_raw bytes: four little-endian u64 { request.addr, request.len, response.addr, response.len }', () => {
  const m = { requestAddr: 0x0102030405060708n, requestLen: 0x1000, responseAddr: 0xfffffffffffff000n, responseLen: 0x4000 };
  const bytes = encodeNsmMessage(m);
  assert.equal(Buffer.from(bytes).toString('hex'), '0807060504030201' + '0010000000000000' + '00f0ffffffffffff' + '0040000000000000');
  assert.deepEqual(decodeNsmMessage(bytes), m);
  assert.throws(() => decodeNsmMessage(new Uint8Array(31)), RangeError);
});

const cc = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0);
test('the C compiler agrees: NSM_IOCTL_RAW and the layout of struct nsm_raw / AWS\'s struct nsm_message', { skip: skipUnlessCi(cc ? null : 'no C compiler (cc, gcc or clang)') }, () => {
  const src = join(dir, 'nsm.c');
  writeFileSync(
    src,
    `#include <stdio.h>
#include <stddef.h>
#include <sys/uio.h>
#include <linux/ioctl.h>
#include <linux/types.h>
/* uapi/linux/nsm.h (Linux >= 6.8) */
struct nsm_iovec { __u64 addr; __u64 len; };
struct nsm_raw { struct nsm_iovec request; struct nsm_iovec response; };
#define NSM_IOCTL_RAW _IOWR(0x0A, 0x0, struct nsm_raw)
/* AWS's earlier driver: the same message as two struct iovec */
struct nsm_message { struct iovec request; struct iovec response; };
#define NSM_IOCTL_REQUEST _IOWR(0x0A, 0, struct nsm_message)
int main(void) {
  printf("%u %u %zu %zu %zu %zu %zu %zu %zu %zu %zu\\n", (unsigned)NSM_IOCTL_RAW, (unsigned)NSM_IOCTL_REQUEST,
    sizeof(struct nsm_raw), offsetof(struct nsm_raw, request.addr), offsetof(struct nsm_raw, request.len),
    offsetof(struct nsm_raw, response.addr), offsetof(struct nsm_raw, response.len),
    sizeof(struct nsm_message), offsetof(struct nsm_message, request.iov_len),
    offsetof(struct nsm_message, response.iov_base), offsetof(struct nsm_message, response.iov_len));
  return 0;
}
`,
  );
  const exe = join(dir, 'nsm');
  execFileSync(cc!, ['-o', exe, src]);
  const out = execFileSync(exe, { encoding: 'utf8' }).trim().split(' ').map(Number);
  assert.deepEqual(out, [NSM_IOCTL_REQUEST, NSM_IOCTL_REQUEST, NSM_MESSAGE_BYTES, 0, 8, 16, 24, NSM_MESSAGE_BYTES, 8, 16, 24]);
});

test('the kernel reads our message as two iovecs pointing at our buffers (readv / writev through koffi)', () => {
  const libc = loadLibc();
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load('libc.so.6');
  const readv = lib.func('long readv(int fd, void *iov, int iovcnt)');
  const writev = lib.func('long writev(int fd, void *iov, int iovcnt)');

  const file = join(dir, 'payload');
  writeFileSync(file, 'REQUEST!response-sixteen');
  const request = new Uint8Array(8);
  const response = new Uint8Array(16);
  const message = encodeNsmMessage({ requestAddr: libc.address(request), requestLen: 8, responseAddr: libc.address(response), responseLen: 16 });
  const fd = openSync(file, 'r');
  try {
    assert.equal(readv(fd, message, 2), 24);
  } finally {
    closeSync(fd);
  }
  assert.equal(Buffer.from(request).toString(), 'REQUEST!');
  assert.equal(Buffer.from(response).toString(), 'response-sixteen');

  request.set(Buffer.from('req-out!'));
  response.set(Buffer.from('and the response'));
  const out = join(dir, 'written');
  const wfd = openSync(out, 'w');
  try {
    assert.equal(writev(wfd, message, 2), 24);
  } finally {
    closeSync(wfd);
  }
  assert.equal(readFileSync(out, 'utf8'), 'req-out!and the response');
});

test('libc.ioctl: the argument is passed by reference (FIONREAD writes into it) and errno comes back from the worker', async () => {
  const libc = loadLibc();
  assert.equal(loadLibc(), libc, 'loaded once');
  const file = join(dir, 'five');
  writeFileSync(file, '12345');
  const fd = openSync(file, 'r');
  try {
    const arg = new Uint8Array(8).fill(0xee);
    const FIONREAD = 0x541b;
    assert.deepEqual(await libc.ioctl(fd, FIONREAD, arg), { result: 0, errno: 0 });
    assert.equal(new DataView(arg.buffer).getInt32(0, true), 5);
    // The NSM request on a regular file: ENOTTY, named.
    const r = await libc.ioctl(fd, NSM_IOCTL_REQUEST, new Uint8Array(32));
    assert.equal(r.result, -1);
    assert.equal(libc.errnoName(r.errno), 'ENOTTY');
    const bad = await libc.ioctl(987654, NSM_IOCTL_REQUEST, new Uint8Array(32));
    assert.equal(libc.errnoName(bad.errno), 'EBADF');
  } finally {
    closeSync(fd);
  }
  assert.equal(libc.errnoName(99999), 'errno 99999');
});

test('openNsmDevice: a missing device is DeviceUnavailable (ENOENT) with a hint; a regular file is refused', () => {
  throwsNsm(() => openNsmDevice({ path: join(dir, 'no-such-nsm') }), 'DeviceUnavailable', (e) => {
    assert.equal(e.errno, 'ENOENT');
    assert.equal(e.code, 'InternalError');
    assert.match(e.message, /Nitro Enclave/);
  });
  const file = join(dir, 'not-a-device');
  writeFileSync(file, '');
  throwsNsm(() => openNsmDevice({ path: file }), 'DeviceUnavailable');
});

test('openNsmDevice on a character device that is not the NSM (/dev/null): the real ioctl fails as DeviceFailed ENOTTY', async () => {
  const device = openNsmDevice({ path: '/dev/null' });
  try {
    await assert.rejects(nsmCall(device, { type: 'DescribeNSM' }), (e: unknown) => {
      assert.ok(e instanceof NsmError);
      assert.equal(e.reason, 'DeviceFailed');
      assert.equal(e.errno, 'ENOTTY');
      return true;
    });
    await assert.rejects(device.request(encodeNsmRequest({ type: 'GetRandom' })), (e: unknown) => e instanceof NsmError && e.errno === 'ENOTTY');
  } finally {
    device.close();
  }
});
