/**
 * nitroAttestor end to end without Nitro hardware: a stand-in NSM that reads
 * requests and writes responses exactly as the device does (serde CBOR; its
 * documents issued by the dev root in the Nitro format), behind
 *   (1) a plain NsmTransport, and
 *   (2) the real device edge (openNsmDevice) over a stand-in driver that
 *       behaves like drivers/misc/nsm.c: it reads struct nsm_raw, copies the
 *       request from its address, refuses > 4 KiB with EMSGSIZE, writes the
 *       response truncated to the buffer and writes response.len back.
 * The returned documents verify with verifyNitroDocument against the dev root,
 * echoing public_key = enclave key, user_data = binding CID, nonce.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { createDevRoot, devPcrsFromDigests, issueDevDocument } from '../../src/attestation/dev/index.ts';
import { verifyNitroDocument } from '../../src/attestation/nitro/index.ts';
import {
  decodeNsmRequest,
  encodeNsmResponse,
  NsmError,
  type NsmErrorCode,
  type NsmFailure,
  type NsmRequest,
  type NsmResponse,
} from '../../src/attestation/nitro/nsm/index.ts';
import { BINDING_TYPE, encodeDocument, type Binding } from '../../src/enclave/documents.ts';
import {
  decodeNsmMessage,
  encodeNsmMessage,
  nitroAttestor,
  nsmAttest,
  nsmCall,
  NSM_IOCTL_REQUEST,
  openNsmDevice,
  type Libc,
  type NsmTransport,
} from '../../src/enclave/nitro/index.ts';
import { cidForValue } from '../../src/data/cid.ts';
import { AWS_ROOT_PEM, nitroBytes } from './helpers.ts';

const NOW = new Date('2025-06-01T12:00:00.123Z');
const ROOT = createDevRoot({ now: new Date('2025-05-01T00:00:00Z'), validityDays: 365 });
const PCRS = devPcrsFromDigests({ bundleSha384: new Uint8Array(48).fill(0x5a) });
const MODULE_ID = 'i-0123456789abcdef0-enc0123456789abcdef';

// --- The enclave's side of a real attestation request.
const enclaveKey = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
const binding = encodeDocument<Binding>({
  $type: BINDING_TYPE,
  version: 1,
  key: 'did:key:zQ3shTestOnly',
  policy: cidForValue({ policy: 'test' }),
  program: { name: 'encumber', version: '0.1.0' },
  platform: 'nitro',
  createdAt: NOW.toISOString(),
});
const NONCE = new Uint8Array(32).map((_, i) => i * 7);
const request = { publicKey: enclaveKey, bindingBytes: binding.bytes, bindingCid: binding.cid.bytes, nonce: NONCE, now: NOW };

interface StandInOptions {
  /** Answer every request with this error code. */
  error?: NsmErrorCode;
  /** Answer Attestation with another kind of response. */
  answer?: NsmResponse;
  /** Mangle the request before issuing (a confused device). */
  tamper?: (r: Extract<NsmRequest, { type: 'Attestation' }>) => Extract<NsmRequest, { type: 'Attestation' }>;
  /** Raw bytes to answer with. */
  raw?: Uint8Array;
}

/** The NSM: CBOR request in, CBOR response out, like the device behind the driver. */
function standInNsm(opts: StandInOptions = {}): { answer: (cbor: Uint8Array) => Uint8Array; seen: NsmRequest[] } {
  const seen: NsmRequest[] = [];
  const answer = (cbor: Uint8Array): Uint8Array => {
    if (opts.raw) return opts.raw;
    let req: NsmRequest;
    try {
      req = decodeNsmRequest(cbor);
    } catch {
      return encodeNsmResponse({ type: 'Error', code: 'InvalidArgument' });
    }
    seen.push(req);
    if (opts.error) return encodeNsmResponse({ type: 'Error', code: opts.error });
    switch (req.type) {
      case 'Attestation': {
        if (opts.answer) return encodeNsmResponse(opts.answer);
        const r = opts.tamper ? opts.tamper(req) : req;
        const document = issueDevDocument(ROOT, { pcrs: PCRS, publicKey: r.publicKey, userData: r.userData, nonce: r.nonce, now: NOW, moduleId: MODULE_ID });
        return encodeNsmResponse({ type: 'Attestation', document });
      }
      case 'DescribePCR':
        if (req.index >= 32) return encodeNsmResponse({ type: 'Error', code: 'InvalidIndex' });
        return encodeNsmResponse({ type: 'DescribePCR', lock: req.index < 16, data: (PCRS as Record<number, Uint8Array>)[req.index] ?? new Uint8Array(48) });
      case 'DescribeNSM':
        return encodeNsmResponse({ type: 'DescribeNSM', versionMajor: 1, versionMinor: 0, versionPatch: 0, moduleId: MODULE_ID, maxPcrs: 32, lockedPcrs: [0, 1, 2, 3, 4, 8], digest: 'SHA384' });
      case 'GetRandom':
        return encodeNsmResponse({ type: 'GetRandom', random: crypto.getRandomValues(new Uint8Array(256)) });
      default:
        return encodeNsmResponse({ type: 'Error', code: 'InvalidOperation' });
    }
  };
  return { answer, seen };
}

const transportOf = (nsm: { answer: (c: Uint8Array) => Uint8Array }): NsmTransport => ({ request: async (c) => nsm.answer(c) });

async function rejectsWith(p: Promise<unknown>, reason: NsmFailure, check: (e: NsmError) => void = () => {}) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NsmError, `expected NsmError, got ${e}`);
    assert.equal(e.reason, reason, e.message);
    check(e);
    return true;
  });
}

function verify(document: Uint8Array) {
  const verdict = verifyNitroDocument(document, {
    trustRoots: [ROOT.certificate],
    at: NOW,
    expectedPublicKey: enclaveKey,
    expectedUserData: binding.cid.bytes,
    expectedNonce: NONCE,
    expectedPcrs: { 0: PCRS[0]!, 1: PCRS[1]!, 2: PCRS[2]! },
  });
  if (!verdict.ok) assert.fail(`${verdict.error.code}: ${verdict.error.message}`);
  return verdict;
}

test('nitroAttestor: one Attestation request (public_key = key, user_data = binding CID, nonce); the document verifies end to end', async () => {
  const nsm = standInNsm();
  const attestor = nitroAttestor(transportOf(nsm));
  assert.equal(attestor.platform, 'nitro');
  const document = await attestor.attest(request);
  assert.deepEqual(nsm.seen, [{ type: 'Attestation', publicKey: enclaveKey, userData: binding.cid.bytes, nonce: NONCE }]);
  const verdict = verify(document);
  assert.deepEqual(verdict.publicKey, enclaveKey);
  assert.equal(verdict.publicKey?.length, 33);
  assert.deepEqual(verdict.userData, binding.cid.bytes);
  assert.deepEqual(verdict.nonce, NONCE);
  assert.equal(verdict.moduleId, MODULE_ID);
  // Not trusted by the AWS root: a dev document stays a dev document.
  assert.equal(verifyNitroDocument(document, { trustRoots: AWS_ROOT_PEM, at: NOW }).ok, false);
});

test('nitroAttestor: an Error response is refused with its code (never a document)', async () => {
  for (const code of ['InvalidArgument', 'InputTooLarge', 'InternalError', 'BufferTooSmall'] as const) {
    await rejectsWith(nitroAttestor(transportOf(standInNsm({ error: code }))).attest(request), 'NsmError', (e) => {
      assert.equal(e.nsmCode, code);
      assert.equal(e.code, 'InternalError');
    });
  }
});

test('nitroAttestor: another kind of response, garbage, or a document that does not echo the request is refused', async () => {
  await rejectsWith(nitroAttestor(transportOf(standInNsm({ answer: { type: 'GetRandom', random: new Uint8Array(8) } }))).attest(request), 'UnexpectedResponse');
  await rejectsWith(nitroAttestor(transportOf(standInNsm({ raw: new Uint8Array([0xff]) }))).attest(request), 'MalformedResponse');
  await rejectsWith(
    nitroAttestor(transportOf(standInNsm({ answer: { type: 'Attestation', document: new Uint8Array([0x84, 1, 2, 3, 4]) } }))).attest(request),
    'MalformedResponse',
  );
  const cases: [string, NonNullable<StandInOptions['tamper']>][] = [
    ['nonce', (r) => ({ ...r, nonce: new Uint8Array(32) })],
    ['publicKey', (r) => ({ ...r, publicKey: null })],
    ['userData', (r) => ({ ...r, userData: r.userData!.subarray(1) })],
  ];
  for (const [path, tamper] of cases) {
    await rejectsWith(nitroAttestor(transportOf(standInNsm({ tamper }))).attest(request), 'UnexpectedResponse', (e) => assert.equal(e.path, path));
  }
  // A transport failure propagates as it is.
  const broken: NsmTransport = { request: async () => { throw new NsmError('DeviceFailed', 'gone', { errno: 'EIO' }); } };
  await rejectsWith(nitroAttestor(broken).attest(request), 'DeviceFailed', (e) => assert.equal(e.errno, 'EIO'));
});

test('nsmAttest: a real AWS document passes through unchanged when it echoes the request, and still verifies at AWS', async () => {
  const document = nitroBytes('marlin-aws-valid.cbor');
  const aws = verifyNitroDocument(document, { trustRoots: AWS_ROOT_PEM, at: new Date('2024-12-13T07:38:00Z') });
  assert.ok(aws.ok);
  const transport = transportOf({ answer: () => encodeNsmResponse({ type: 'Attestation', document }) });
  const out = await nsmAttest(transport, { publicKey: aws.publicKey, userData: null, nonce: null });
  assert.deepEqual(out, document);
  await rejectsWith(nsmAttest(transport, { publicKey: aws.publicKey, userData: null, nonce: NONCE }), 'UnexpectedResponse');
});

test('nsmCall: typed round trips for DescribeNSM, DescribePCR, GetRandom; InvalidIndex as a typed error', async () => {
  const t = transportOf(standInNsm());
  const d = await nsmCall(t, { type: 'DescribeNSM' });
  assert.equal(d.digest, 'SHA384');
  assert.equal(d.maxPcrs, 32);
  const p = await nsmCall(t, { type: 'DescribePCR', index: 0 });
  assert.deepEqual(p.data, PCRS[0]);
  assert.equal(p.lock, true);
  const r = await nsmCall(t, { type: 'GetRandom' });
  assert.equal(r.random.length, 256);
  await rejectsWith(nsmCall(t, { type: 'DescribePCR', index: 40 }), 'NsmError', (e) => assert.equal(e.nsmCode, 'InvalidIndex'));
  // A request we would not send never reaches the transport.
  const nsm = standInNsm();
  await rejectsWith(nsmCall(transportOf(nsm), { type: 'Attestation', userData: new Uint8Array(2000), nonce: null, publicKey: null }), 'InvalidRequest');
  assert.equal(nsm.seen.length, 0);
});

// --- The driver stand-in: drivers/misc/nsm.c's ioctl, over a pretend address space.
const ERRNO: Record<string, number> = { ENOTTY: 25, EINVAL: 22, EMSGSIZE: 90, EPERM: 1, EIO: 5 };
interface DriverOptions {
  /** Force an errno for every ioctl. */
  fail?: keyof typeof ERRNO;
  delayMs?: number;
}
function standInDriver(nsm: (c: Uint8Array) => Uint8Array, opts: DriverOptions = {}) {
  const memory = new Map<bigint, Uint8Array>();
  let next = 0x7f00_0000_0000n;
  let inFlight = 0;
  let maxInFlight = 0;
  let calls = 0;
  const libc: Libc = {
    address: (buf) => {
      next += 0x10_0000n;
      memory.set(next, buf);
      return next;
    },
    errnoName: (n) => Object.entries(ERRNO).find(([, v]) => v === n)?.[0] ?? `errno ${n}`,
    ioctl: async (_fd, req, arg) => {
      calls++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((r) => setTimeout(r, opts.delayMs ?? 0));
        const fail = (name: string) => ({ result: -1, errno: ERRNO[name]! });
        if (opts.fail) return fail(opts.fail);
        if (req !== NSM_IOCTL_REQUEST) return fail('EINVAL'); // cmd != NSM_IOCTL_RAW
        const raw = decodeNsmMessage(arg);
        if (raw.requestLen > 0x1000) return fail('EMSGSIZE'); // fill_req_raw
        const reqBuf = memory.get(raw.requestAddr);
        const respBuf = memory.get(raw.responseAddr);
        if (!reqBuf || !respBuf || raw.requestLen > reqBuf.length || raw.responseLen > respBuf.length) return { result: -1, errno: 14 }; // EFAULT
        const response = nsm(reqBuf.slice(0, raw.requestLen));
        const len = Math.min(raw.responseLen, response.length); // parse_resp_raw: truncate
        respBuf.set(response.subarray(0, len));
        arg.set(encodeNsmMessage({ ...raw, responseLen: len })); // copy_to_user(argp, &raw)
        return { result: 0, errno: 0 };
      } finally {
        inFlight--;
      }
    },
  };
  return { libc, stats: () => ({ calls, maxInFlight }) };
}

test('device edge over the driver stand-in: the attestor through openNsmDevice verifies end to end; one ioctl at a time', async () => {
  const nsm = standInNsm();
  const driver = standInDriver(nsm.answer, { delayMs: 5 });
  const device = openNsmDevice({ path: '/dev/null', libc: driver.libc }); // a character device, standing in for /dev/nsm
  try {
    const attestor = nitroAttestor(device);
    const docs = await Promise.all([attestor.attest(request), attestor.attest(request), attestor.attest(request)]);
    for (const d of docs) verify(d);
    assert.deepEqual(driver.stats(), { calls: 3, maxInFlight: 1 });
  } finally {
    device.close();
  }
  await rejectsWith(device.request(new Uint8Array([0x60])), 'DeviceFailed');
});

test('device edge: errno becomes a typed DeviceFailed; truncated or empty responses are MalformedResponse', async () => {
  for (const name of ['ENOTTY', 'EMSGSIZE', 'EPERM', 'EIO'] as const) {
    const device = openNsmDevice({ path: '/dev/null', libc: standInDriver(standInNsm().answer, { fail: name }).libc });
    await rejectsWith(nsmCall(device, { type: 'DescribeNSM' }), 'DeviceFailed', (e) => {
      assert.equal(e.errno, name);
      assert.equal(e.code, 'InternalError');
    });
    device.close();
  }
  // The device answers more than the whole buffer: the driver truncates, we refuse rather than parse a prefix.
  const huge = standInDriver(() => new Uint8Array(20_000).fill(0x60)).libc;
  const d1 = openNsmDevice({ path: '/dev/null', libc: huge });
  await rejectsWith(d1.request(new Uint8Array([0x60])), 'MalformedResponse', (e) => assert.equal(e.actual, 16 * 1024));
  d1.close();
  const empty = openNsmDevice({ path: '/dev/null', libc: standInDriver(() => new Uint8Array(0)).libc });
  await rejectsWith(empty.request(new Uint8Array([0x60])), 'MalformedResponse');
  empty.close();
  // Requests over the driver's 4 KiB are refused before the ioctl.
  const counted = standInDriver(standInNsm().answer);
  const d2 = openNsmDevice({ path: '/dev/null', libc: counted.libc });
  await rejectsWith(d2.request(new Uint8Array(0x1001)), 'InvalidRequest');
  await rejectsWith(d2.request(new Uint8Array(0)), 'InvalidRequest');
  assert.equal(counted.stats().calls, 0);
  d2.close();
});
