/**
 * EIF writer/reader/PCRs (enclave/image/eif) against AWS's format.
 *
 * No published EIF with known inputs and PCRs exists in the upstream crates
 * (aws-nitro-enclaves-image-format has unit tests for header sizes and the
 * hasher only), so the golden vector is built by two independent paths:
 *   - GOLDEN below was computed by this Python script (hashlib, zlib, struct),
 *     written from src/defs/mod.rs and src/utils/mod.rs, not from our code:
 *
 *       kernel = bytes((i * 31 + 7) & 0xFF for i in range(4099))
 *       cmdline = b"reboot=k panic=30 pci=off nomodules console=ttyS0 random.trust_cpu=on root=/dev/ram0"
 *       rd0 = bytes((i * 13 + 1) & 0xFF for i in range(1500)); rd1 = b"encumber app ramdisk\n" * 10
 *       meta = json.dumps({...EifIdentityInfo..., BuildTime "2024-01-01T00:00:00+00:00"}, separators=(",", ":")).encode()
 *       secs = [(1, kernel), (2, cmdline), (5, meta), (3, rd0), (3, rd1)]   # AWS's v4 order
 *       offs/sizes: first at 548, each next at prev + 12 + len
 *       head = struct.pack(">4sHHQQHH32Q32QI", b".eif", 4, 0, 1 << 30, 2, 0, 5, *offs, *sizes, 0)
 *       body = b"".join(struct.pack(">HHQ", t, 0, len(d)) + d for t, d in secs)
 *       eif = head + struct.pack(">I", zlib.crc32(head + body)) + body
 *       pcr(*p) = sha384(b"\0" * 48 + sha384(b"".join(p)).digest()).hexdigest()
 *
 *   - `manualEif` in this file lays the same bytes out with a DataView, CRCs
 *     with node:zlib and hashes with @noble/hashes (the library uses its own
 *     CRC table and node:crypto), and `eifHasher` re-implements EifHasher
 *     (src/defs/eif_hasher.rs) including its blocked mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { sha384 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { EncumberError } from '../../src/errors.ts';
import {
  computeEifPcrs,
  crc32,
  describeEif,
  eifIdentityMetadata,
  readEif,
  rfc3339FromEpoch,
  writeEif,
  type WriteEifInput,
} from '../../enclave/image/eif/index.ts';

// ---------------------------------------------------------------- inputs

const enc = new TextEncoder();
const pattern = (n: number, mul: number, add: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * mul + add) & 0xff);
const kernel = pattern(4099, 31, 7);
const cmdline = 'reboot=k panic=30 pci=off nomodules console=ttyS0 random.trust_cpu=on root=/dev/ram0';
const rd0 = pattern(1500, 13, 1);
const rd1 = enc.encode('encumber app ramdisk\n'.repeat(10));
const metadata = eifIdentityMetadata({
  imageName: 'encumber',
  sourceDateEpoch: 1704067200,
  buildTool: 'encumber',
  buildToolVersion: '0.1.0',
});
const goldenInput: WriteEifInput = { kernel, cmdline, ramdisks: [rd0, rd1], metadata };

const GOLDEN = {
  length: 6762,
  crc32: 0xc507710a,
  sha256: 'c3362298b7139ebfd3efec5d826013048af42c17750f89a2ba91b663cabaa9d7',
  pcr0: 'd5e0fb224422a393449ffb50663dd4d0e95eb26ddc853635c72011114a1ba763c898be1de141e06fb9464d93e5a0d6b7',
  pcr1: '61277570f7bd151bcb19fd461ba09f6f01c1692086eff30d69f6b264bad265a4a42bcabaf21138138fd69db4caf71c98',
  pcr2: '62981631984112723acc622f6822d0d80b56d6750c69f2155aa1532b44dc29a19875d528fb762af08048d3921ddca6ec',
  /** extend(""): PCR2 of an image with only the boot ramdisk. */
  pcrEmpty: '21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a',
  metadataJson:
    '{"ImageName":"encumber","ImageVersion":"1.0","BuildMetadata":{"BuildTime":"2024-01-01T00:00:00+00:00",' +
    '"BuildTool":"encumber","BuildToolVersion":"0.1.0","OperatingSystem":"Generic Linux","KernelVersion":"Unknown version"},' +
    '"DockerInfo":null,"CustomMetadata":null}',
};

// ------------------------------------------------- independent reference

/**
 * EifHasher (eif_hasher.rs) with noble's SHA-384. blockSize 0 is
 * `new_without_cache` (a plain pass-through), what every AWS builder/reader uses;
 * otherwise digest = H(digest ‖ block) per full block, the tail consumed on finalise.
 */
function eifHasher(data: Uint8Array, blockSize: number): { finalize: string; tpmExtend: string } {
  let digest: Uint8Array;
  if (blockSize === 0) {
    digest = sha384(data);
  } else {
    digest = new Uint8Array(48);
    for (let at = 0; at < data.length; at += blockSize) {
      digest = sha384(Uint8Array.from([...digest, ...data.subarray(at, at + blockSize)]));
    }
  }
  const tpm = sha384(Uint8Array.from([...new Uint8Array(48), ...digest]));
  return { finalize: bytesToHex(digest), tpmExtend: bytesToHex(tpm) };
}
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const refPcrs = (k: Uint8Array, c: Uint8Array, rds: Uint8Array[]) => ({
  0: eifHasher(cat(k, c, ...rds), 0).tpmExtend,
  1: eifHasher(cat(k, c, ...rds.slice(0, 1)), 0).tpmExtend,
  2: eifHasher(cat(...rds.slice(1)), 0).tpmExtend,
});

/** The EIF laid out field by field with a DataView (offsets from src/defs/mod.rs), CRC by node:zlib. */
function manualEif(sections: Array<[type: number, data: Uint8Array]>, opts: { mem?: bigint; cpus?: bigint; flags?: number } = {}): Uint8Array {
  const total = sections.reduce((n, [, d]) => n + 12 + d.length, 548);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([46, 101, 105, 102], 0); // ".eif"
  v.setUint16(4, 4); // version
  v.setUint16(6, opts.flags ?? 0);
  v.setBigUint64(8, opts.mem ?? 1024n * 1024n * 1024n);
  v.setBigUint64(16, opts.cpus ?? 2n);
  v.setUint16(24, 0); // reserved
  v.setUint16(26, sections.length);
  let pos = 548;
  sections.forEach(([type, data], i) => {
    v.setBigUint64(28 + 8 * i, BigInt(pos)); // section_offsets[i]
    v.setBigUint64(28 + 256 + 8 * i, BigInt(data.length)); // section_sizes[i]
    v.setUint16(pos, type);
    v.setUint16(pos + 2, 0);
    v.setBigUint64(pos + 4, BigInt(data.length));
    out.set(data, pos + 12);
    pos += 12 + data.length;
  });
  v.setUint32(540, 0); // unused
  return refreshCrc(out);
}

/** Recompute eif_crc32 (zlib) so a structural mutation reaches the rule after the CRC. */
function refreshCrc(bytes: Uint8Array): Uint8Array {
  const crc = zlibCrc32(Buffer.concat([bytes.subarray(0, 544), bytes.subarray(548)]));
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(544, crc);
  return bytes;
}

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function expectCode(fn: () => unknown, code: 'InvalidEvidence' | 'UsageError', path?: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EncumberError, `expected EncumberError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (typeof path === 'string') assert.equal(e.path, path, e.message);
    if (path instanceof RegExp) assert.match(e.path ?? '', path, e.message);
    return true;
  });
}

// ---------------------------------------------------------------- golden

test('golden: writer output is byte-identical to the Python-built EIF; PCRs equal its values', () => {
  const { bytes, pcrs } = writeEif(goldenInput);
  assert.equal(bytes.length, GOLDEN.length);
  assert.equal(new DataView(bytes.buffer).getUint32(544), GOLDEN.crc32);
  assert.equal(sha256Hex(bytes), GOLDEN.sha256);
  assert.deepEqual(pcrs, { 0: GOLDEN.pcr0, 1: GOLDEN.pcr1, 2: GOLDEN.pcr2 });
});

test('golden: the DataView-built EIF equals the writer output; the reader parses it and recomputes the PCRs', () => {
  const manual = manualEif([
    [1, kernel],
    [2, enc.encode(cmdline)],
    [5, enc.encode(GOLDEN.metadataJson)],
    [3, rd0],
    [3, rd1],
  ]);
  assert.equal(sha256Hex(manual), GOLDEN.sha256);
  assert.deepEqual(manual, writeEif(goldenInput).bytes);

  const eif = readEif(manual);
  assert.deepEqual(eif.pcrs, { 0: GOLDEN.pcr0, 1: GOLDEN.pcr1, 2: GOLDEN.pcr2 });
  assert.deepEqual(eif.pcrs, refPcrs(kernel, enc.encode(cmdline), [rd0, rd1]));
  assert.deepEqual(eif.kernel, kernel);
  assert.equal(eif.cmdline, cmdline);
  assert.deepEqual(eif.ramdisks, [rd0, rd1]);
  assert.deepEqual(eif.metadata, JSON.parse(GOLDEN.metadataJson));
  assert.deepEqual(
    eif.sections.map((s) => [s.type, s.offset, s.size]),
    [
      ['kernel', 548, 4099],
      ['cmdline', 548 + 12 + 4099, cmdline.length],
      ['metadata', 548 + 24 + 4099 + cmdline.length, GOLDEN.metadataJson.length],
      ['ramdisk', 548 + 36 + 4099 + cmdline.length + GOLDEN.metadataJson.length, 1500],
      ['ramdisk', 548 + 48 + 4099 + cmdline.length + GOLDEN.metadataJson.length + 1500, rd1.length],
    ],
  );
  assert.deepEqual(
    { ...eif.header },
    { version: 4, flags: 0, arch: 'x86_64', defaultMem: 1n << 30n, defaultMemMiB: 1024, defaultCpus: 2n, sectionCount: 5, crc32: GOLDEN.crc32 },
  );
});

test('golden: metadata JSON is byte-for-byte the serde_json shape of EifIdentityInfo', () => {
  assert.equal(JSON.stringify(metadata), GOLDEN.metadataJson);
  assert.equal(rfc3339FromEpoch(1), '1970-01-01T00:00:01+00:00');
  assert.equal(rfc3339FromEpoch(1704067200), '2024-01-01T00:00:00+00:00');
  expectCode(() => rfc3339FromEpoch(1.5), 'UsageError', 'sourceDateEpoch');
  expectCode(() => rfc3339FromEpoch(-1), 'UsageError', 'sourceDateEpoch');
});

test('PCRs: extend from zero of the pass-through hasher; one ramdisk gives PCR2 = extend("")', () => {
  const pcrs = computeEifPcrs(kernel, cmdline, [rd0]);
  assert.equal(pcrs[2], GOLDEN.pcrEmpty);
  assert.equal(pcrs[2], eifHasher(new Uint8Array(0), 0).tpmExtend);
  assert.equal(pcrs[1], GOLDEN.pcr1, 'PCR1 does not depend on the application ramdisks');
  assert.equal(pcrs[0], pcrs[1], 'with only the boot ramdisk, PCR0 and PCR1 measure the same bytes');
  // The string and UTF-8 bytes forms of the cmdline measure the same.
  assert.deepEqual(computeEifPcrs(kernel, enc.encode(cmdline), [rd0]), pcrs);
  // Section boundaries are not measured: moving bytes between kernel and cmdline keeps PCR0/1.
  const joined = cat(kernel, enc.encode(cmdline));
  assert.deepEqual(computeEifPcrs(joined.subarray(0, 10), joined.subarray(10), [rd0]), pcrs);
  // The blocked mode (never used by AWS for PCRs) gives something else: we would notice a switch.
  const data = cat(kernel, enc.encode(cmdline), rd0, rd1);
  assert.notEqual(eifHasher(data, 384).tpmExtend, GOLDEN.pcr0);
  assert.equal(eifHasher(data, 0).tpmExtend, GOLDEN.pcr0);
});

test('CRC-32 is the IEEE/zlib CRC', () => {
  assert.equal(crc32(enc.encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(rd0), zlibCrc32(rd0));
});

// ------------------------------------------------ round trip, determinism

test('round trip: one or many ramdisks, no metadata, empty cmdline, aarch64, memory and CPUs', () => {
  const cases: WriteEifInput[] = [
    { kernel, cmdline, ramdisks: [rd0] },
    { kernel, cmdline: '', ramdisks: [rd0, rd1, new Uint8Array(0), pattern(70_000, 7, 3)], metadata },
    { kernel, cmdline: 'console=ttyS0 ünïcödé', ramdisks: [rd1], defaultMemMiB: 4096, defaultCpus: 4, arch: 'aarch64' },
  ];
  for (const input of cases) {
    const { bytes, pcrs } = writeEif(input);
    const eif = readEif(bytes);
    assert.deepEqual(eif.pcrs, pcrs);
    assert.deepEqual(pcrs, refPcrs(input.kernel, enc.encode(input.cmdline), [...input.ramdisks]));
    assert.deepEqual(eif.kernel, input.kernel);
    assert.equal(eif.cmdline, input.cmdline);
    assert.deepEqual(eif.ramdisks, input.ramdisks);
    assert.equal(eif.metadata === undefined, input.metadata === undefined);
    assert.equal(eif.header.defaultMemMiB, input.defaultMemMiB ?? 1024);
    assert.equal(eif.header.defaultCpus, BigInt(input.defaultCpus ?? 2));
    assert.equal(eif.header.arch, input.arch ?? 'x86_64');
    assert.equal(eif.header.flags, input.arch === 'aarch64' ? 1 : 0);
    assert.equal(eif.header.sectionCount, 2 + input.ramdisks.length + (input.metadata ? 1 : 0));
  }
});

test('determinism: same inputs give identical bytes; metadata changes bytes but never PCRs', () => {
  const a = writeEif(goldenInput);
  const b = writeEif({ ...goldenInput, ramdisks: [rd0.slice(), rd1.slice()], kernel: kernel.slice() });
  assert.deepEqual(a.bytes, b.bytes);
  const later = writeEif({ ...goldenInput, metadata: eifIdentityMetadata({ imageName: 'encumber', sourceDateEpoch: 1, buildTool: 'x', buildToolVersion: '9' }) });
  assert.notDeepEqual(later.bytes, a.bytes);
  assert.deepEqual(later.pcrs, a.pcrs);
  assert.deepEqual(writeEif({ ...goldenInput, metadata: undefined }).pcrs, a.pcrs);
});

test('property: random images round trip and every single-byte change is refused', () => {
  const bytesArb = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.string({ maxLength: 40 }).filter((s) => !s.includes('\0')),
      fc.array(bytesArb(200), { minLength: 1, maxLength: 5 }),
      fc.boolean(),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (k, c, rds, withMeta, where, xor) => {
        const input: WriteEifInput = { kernel: k, cmdline: c, ramdisks: rds, ...(withMeta ? { metadata: { n: rds.length } } : {}) };
        const { bytes, pcrs } = writeEif(input);
        assert.deepEqual(readEif(bytes).pcrs, pcrs);
        assert.deepEqual(pcrs, refPcrs(k, enc.encode(c), rds));
        const bad = bytes.slice();
        bad[where % bad.length]! ^= xor;
        expectCode(() => readEif(bad), 'InvalidEvidence');
      },
    ),
    { numRuns: 150 },
  );
});

// ------------------------------------------------------------ refusals

const good = (): Uint8Array => writeEif(goldenInput).bytes;
const at = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
const kernelAt = 548;
const cmdlineAt = 548 + 12 + kernel.length;

test('refused: truncation anywhere, and trailing bytes', () => {
  const bytes = good();
  for (const n of [0, 4, 100, 547]) expectCode(() => readEif(bytes.subarray(0, n)), 'InvalidEvidence', 'header');
  expectCode(() => readEif(bytes.subarray(0, 548)), 'InvalidEvidence', 'sections[0]');
  expectCode(() => readEif(bytes.subarray(0, 555)), 'InvalidEvidence', 'sections[0]');
  expectCode(() => readEif(bytes.subarray(0, bytes.length - 1)), 'InvalidEvidence', 'sections[4]');
  expectCode(() => readEif(cat(bytes, new Uint8Array(1))), 'InvalidEvidence', 'sections');
});

test('refused: wrong magic, version, flags, reserved, unused, section count', () => {
  const cases: Array<[string, (v: DataView, b: Uint8Array) => void]> = [
    ['header.magic', (_v, b) => b.set(enc.encode('EIF.'), 0)],
    ['header.version', (v) => v.setUint16(4, 5)],
    ['header.version', (v) => v.setUint16(4, 1)],
    ['header.flags', (v) => v.setUint16(6, 2)],
    ['header.reserved', (v) => v.setUint16(24, 1)],
    ['header.unused', (v) => v.setUint32(540, 1)],
    ['header.section_cnt', (v) => v.setUint16(26, 0)],
    ['header.section_cnt', (v) => v.setUint16(26, 33)],
    ['header.section_offsets[5]', (v) => v.setBigUint64(28 + 8 * 5, 1n)],
    ['header.section_offsets[31]', (v) => v.setBigUint64(28 + 256 + 8 * 31, 1n)],
  ];
  for (const [path, mutate] of cases) {
    const b = good();
    mutate(at(b), b);
    expectCode(() => readEif(refreshCrc(b)), 'InvalidEvidence', path);
  }
});

test('refused: CRC mismatch in the data, in the header, and in the CRC field itself', () => {
  for (const where of [kernelAt + 12 + 5, 20, 544, GOLDEN.length - 1]) {
    const b = good();
    b[where]! ^= 0x01;
    expectCode(() => readEif(b), 'InvalidEvidence', 'header.eif_crc32');
  }
  const b = good();
  at(b).setUint32(544, 0);
  assert.throws(() => readEif(b), (e: EncumberError) => e.expected === 'c507710a' && e.actual === '00000000');
});

test('refused: layout (offset table, size disagreement, size past the end)', () => {
  let b = good();
  at(b).setBigUint64(28 + 8, BigInt(cmdlineAt + 1)); // cmdline offset off by one
  expectCode(() => readEif(refreshCrc(b)), 'InvalidEvidence', 'header.section_offsets[1]');

  b = good();
  at(b).setBigUint64(284, BigInt(kernel.length - 1)); // table says kernel is shorter than its section header does
  expectCode(() => readEif(refreshCrc(b)), 'InvalidEvidence', 'sections[0].section_size');

  b = good();
  at(b).setBigUint64(284 + 8 * 4, 1n << 62n); // huge last size in both places
  at(b).setBigUint64(GOLDEN.length - rd1.length - 8, 1n << 62n);
  expectCode(() => readEif(refreshCrc(b)), 'InvalidEvidence', 'sections[4]');
});

test('refused: section flags, invalid/unknown types, order and multiplicity', () => {
  const sectionCases: Array<[string, Array<[number, Uint8Array]>]> = [
    ['sections[0].section_type', [[2, enc.encode(cmdline)], [1, kernel], [3, rd0]]], // cmdline first
    ['sections[2].section_type', [[1, kernel], [2, enc.encode(cmdline)]]], // no ramdisk
    ['sections[3].section_type', [[1, kernel], [2, enc.encode(cmdline)], [3, rd0], [5, enc.encode('{}')]]], // metadata after ramdisk
    ['sections[3].section_type', [[1, kernel], [2, enc.encode(cmdline)], [3, rd0], [1, kernel]]], // second kernel
    ['sections[4].section_type', [[1, kernel], [2, enc.encode(cmdline)], [3, rd0], [4, rd1], [3, rd1]]], // signature not last
    ['sections[2].section_type', [[1, kernel], [2, enc.encode(cmdline)], [0, rd0]]], // Invalid
    ['sections[2].section_type', [[1, kernel], [2, enc.encode(cmdline)], [6, rd0]]], // unknown
    ['sections[2]', [[1, kernel], [2, enc.encode(cmdline)], [5, enc.encode('[1]')], [3, rd0]]], // metadata not an object
    ['sections[2]', [[1, kernel], [2, enc.encode(cmdline)], [5, enc.encode('{')], [3, rd0]]], // metadata not JSON
    ['sections[1]', [[1, kernel], [2, Uint8Array.of(0xff, 0xfe)], [3, rd0]]], // cmdline not UTF-8
    ['sections[1]', [[1, kernel], [2, Uint8Array.of(0x41, 0)], [3, rd0]]], // cmdline with NUL
  ];
  for (const [path, sections] of sectionCases) expectCode(() => readEif(manualEif(sections)), 'InvalidEvidence', path);

  const b = good();
  at(b).setUint16(cmdlineAt + 2, 1); // cmdline section flags
  expectCode(() => readEif(refreshCrc(b)), 'InvalidEvidence', 'sections[1].flags');

  // A signature section is accepted (kept raw, not measured) as the last section.
  const signed = readEif(manualEif([[1, kernel], [2, enc.encode(cmdline)], [3, rd0], [3, rd1], [4, Uint8Array.of(0x80)]]));
  assert.deepEqual(signed.signature, Uint8Array.of(0x80));
  assert.deepEqual(signed.pcrs, refPcrs(kernel, enc.encode(cmdline), [rd0, rd1]));
});

test('writer refuses bad inputs with UsageError', () => {
  const base = { kernel, cmdline, ramdisks: [rd0] };
  const cases: Array<[string, Partial<WriteEifInput> & Record<string, unknown>]> = [
    ['kernel', { kernel: new Uint8Array(0) }],
    ['cmdline', { cmdline: 'a\0b' }],
    ['ramdisks', { ramdisks: [] }],
    ['ramdisks[1]', { ramdisks: [rd0, 'x' as unknown as Uint8Array] }],
    ['ramdisks', { ramdisks: Array.from({ length: 31 }, () => rd1) }],
    ['defaultMemMiB', { defaultMemMiB: 0 }],
    ['defaultCpus', { defaultCpus: 1.5 }],
    ['arch', { arch: 'riscv' as unknown as 'x86_64' }],
    ['metadata', { metadata: [1, 2] }],
  ];
  for (const [path, patch] of cases) expectCode(() => writeEif({ ...base, ...patch } as WriteEifInput), 'UsageError', path);
  // 30 ramdisks + kernel + cmdline = 32 sections: the maximum fits.
  assert.equal(readEif(writeEif({ ...base, ramdisks: Array.from({ length: 30 }, () => rd1) }).bytes).sections.length, 32);
});

// ---------------------------------------------------------------- describe

test('describeEif: sizes, section list, PCRs, JSON-ready', () => {
  const d = describeEif(good());
  assert.deepEqual(d.measurements, { HashAlgorithm: 'SHA384', PCR0: GOLDEN.pcr0, PCR1: GOLDEN.pcr1, PCR2: GOLDEN.pcr2 });
  assert.equal(d.totalSize, GOLDEN.length);
  assert.equal(d.crc32, 'c507710a');
  assert.equal(d.kernelSize, kernel.length);
  assert.deepEqual(d.ramdiskSizes, [1500, rd1.length]);
  assert.deepEqual(d.sections.map((s) => s.type), ['kernel', 'cmdline', 'metadata', 'ramdisk', 'ramdisk']);
  assert.equal(d.signed, false);
  assert.equal(d.defaultMemMiB, 1024);
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
  expectCode(() => describeEif(new Uint8Array(10)), 'InvalidEvidence', 'header');
});

test('reader takes a view at any offset (a Buffer from readFileSync, a subarray)', () => {
  const bytes = good();
  const host = new Uint8Array(bytes.length + 7);
  host.set(bytes, 3);
  const view = Buffer.from(host.buffer, 3, bytes.length);
  assert.deepEqual(readEif(view).pcrs, { 0: GOLDEN.pcr0, 1: GOLDEN.pcr1, 2: GOLDEN.pcr2 });
  assert.deepEqual(readEif(host.subarray(3, 3 + bytes.length)).kernel, kernel);
});
