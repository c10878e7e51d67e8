/**
 * The report parser on its own: every field of the real reports, and each
 * structural rule (size, version, algorithm, signer info, policy reserved
 * bits, every reserved range of each version, the signature's zero bytes)
 * refused as InvalidEvidence naming the ABI field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../../src/attestation/bytes.ts';
import { parseSnpReport, SNP_REPORT_BYTES, verifySnpReport } from '../../../src/attestation/sev-snp/index.ts';
import { reservedRanges, rangePath } from '../../../src/attestation/sev-snp/layout.ts';
import { EncumberError } from '../../../src/errors.ts';
import { assertRejected, SNP_AT, SNP_CASES, snpCerts, snpReport } from './helpers.ts';

const V2 = snpReport('milan-v2-vcek-virtee');
const V3 = snpReport('milan-v3-vcek-azure');

function set(bytes: Uint8Array, edits: Record<number, number>): Uint8Array {
  const out = new Uint8Array(bytes);
  for (const [at, v] of Object.entries(edits)) out[Number(at)] = v;
  return out;
}

function refused(bytes: Uint8Array, path: string, label = path): EncumberError {
  let caught: unknown;
  try {
    parseSnpReport(bytes);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof EncumberError, `${label}: expected a refusal`);
  assert.equal(caught.code, 'InvalidEvidence', label);
  assert.equal(caught.path, path, `${label}: ${caught.message}`);
  return caught;
}

test('every fixture report parses: version, signing key, CPUID only from v3, no mitigation vectors before v5', () => {
  for (const c of SNP_CASES) {
    const r = parseSnpReport(snpReport(c.name));
    assert.equal(r.version, c.version, c.name);
    assert.equal(r.signingKey, c.keyType, c.name);
    assert.equal(r.policy.raw, c.policy, c.name);
    assert.equal(r.vmpl, c.vmpl, c.name);
    assert.equal(toHex(r.measurement).slice(0, 16), c.measurement, c.name);
    assert.equal(r.cpuid !== undefined, c.version >= 3, c.name);
    assert.equal(r.launchMitVector, undefined, c.name);
    assert.equal(r.signed.length, 0x2a0);
    assert.equal(r.signature.length, 96);
  }
});

test('fields land at their ABI offsets (milan-v3-vcek-azure)', () => {
  const r = parseSnpReport(V3);
  assert.equal(r.guestSvn, 10);
  assert.equal(r.signatureAlgo, 1);
  assert.deepEqual(r.cpuid, { family: 0x19, model: 0x01, stepping: 0x01 });
  assert.equal(r.platformInfo.raw, '0x25');
  assert.equal(r.platformInfo.smtEnabled, true);
  assert.equal(r.platformInfo.aliasCheckComplete, true);
  assert.deepEqual(r.current, { major: 1, minor: 0x37, build: 0x1d });
  assert.deepEqual(r.committed, r.current);
  assert.equal(toHex(r.reportedTcb), '04000000000018db');
  assert.deepEqual(r.reportData, V3.slice(0x50, 0x90));
  assert.deepEqual(r.hostData, V3.slice(0xc0, 0xe0));
  assert.deepEqual(r.idKeyDigest, V3.slice(0xe0, 0x110));
  assert.deepEqual(r.chipId, V3.slice(0x1a0, 0x1e0));
  assert.deepEqual(r.familyId, V3.slice(0x10, 0x20));
  assert.deepEqual(r.imageId, V3.slice(0x20, 0x30));
  assert.equal(r.policy.smt, true);
  assert.equal(r.policy.abiMinor, 0x1f);
  // r and s are little-endian in the report, big-endian in `signature`.
  assert.deepEqual(r.signature.subarray(0, 48), V3.slice(0x2a0, 0x2d0).reverse());
  assert.deepEqual(r.signature.subarray(48), V3.slice(0x2e8, 0x318).reverse());
});

test('guest policy bits: debug 19, migrate_ma 18, smt 16, single_socket 20 (milan-v2-vcek-gsg-debug: 0xb0000)', () => {
  const p = parseSnpReport(snpReport('milan-v2-vcek-gsg-debug')).policy;
  assert.deepEqual([p.debug, p.migrateMa, p.smt, p.singleSocket, p.abiMajor, p.abiMinor], [true, false, true, false, 0, 0]);
  const withBits = parseSnpReport(set(V2, { 0x0a: 0x03 | 0x04 | 0x10 | 0x20 | 0x40 | 0x80, 0x0b: 0x03 })).policy;
  assert.deepEqual(
    [withBits.migrateMa, withBits.singleSocket, withBits.cxlAllow, withBits.memAes256Xts, withBits.raplDis, withBits.ciphertextHiding, withBits.pageSwapDisable],
    [true, true, true, true, true, true, true],
  );
});

test('size: anything but exactly 1184 bytes is InvalidEvidence (size), also through the verifier', async () => {
  for (const n of [0, 1, 0x2a0, SNP_REPORT_BYTES - 1, SNP_REPORT_BYTES + 1, 4096]) {
    const bytes = new Uint8Array(n);
    bytes.set(V2.subarray(0, Math.min(n, V2.length)));
    refused(bytes, 'size', `${n} bytes`);
    assertRejected(await verifySnpReport(bytes, { certs: snpCerts('milan-v2-vcek-virtee'), at: SNP_AT }), 'InvalidEvidence', { path: 'size' });
  }
  const v = await verifySnpReport('not bytes' as unknown as Uint8Array, { certs: {}, at: SNP_AT });
  assertRejected(v, 'InvalidEvidence', { path: 'size' });
});

test('version: 2, 3, 4 and 5 parse; others do not', () => {
  for (const v of [0, 1, 6, 7, 0x100, 0xffffffff]) {
    const bytes = new Uint8Array(V3);
    new DataView(bytes.buffer).setUint32(0, v, true);
    const e = refused(bytes, 'version', `version ${v}`);
    assert.equal(e.actual, v);
  }
  assert.equal(parseSnpReport(set(V3, { 0: 4 })).cpuid?.model, 0x01, 'v4 has the v3 layout');
  const v5 = parseSnpReport(set(V3, { 0: 5, 0x1f8: 0x05, 0x1ff: 0x80, 0x200: 0x01 }));
  assert.equal(v5.launchMitVector, '0x8000000000000005');
  assert.equal(v5.currentMitVector, '0x1');
  refused(set(V3, { 0x1f8: 1 }), 'reserved[0x1f8..0x2a0)', 'v3 has no mitigation vectors');
});

test('signature_algo must be 1 (ECDSA P-384 with SHA-384)', () => {
  for (const a of [0, 2, 0x101]) refused(set(V2, { 0x34: a & 0xff, 0x35: a >> 8 }), 'signature_algo', `algo ${a}`);
});

test('signer info: signing_key 0 or 1 only (7 = unsigned, 2..6 reserved); bits 5..31 zero; author_key_en and mask_chip_key decode', () => {
  refused(set(V2, { 0x48: 7 << 2 }), 'signing_key', 'unsigned');
  for (const k of [2, 3, 6]) refused(set(V2, { 0x48: k << 2 }), 'signing_key', `key ${k}`);
  refused(set(V2, { 0x48: 0x20 }), 'signer_info', 'bit 5');
  refused(set(V2, { 0x4b: 0x80 }), 'signer_info', 'bit 31');
  const r = parseSnpReport(set(V2, { 0x48: 0x3 | (1 << 2) }));
  assert.deepEqual([r.authorKeyEn, r.maskChipKey, r.signingKey], [true, true, 'vlek']);
});

test('policy: bit 17 must be one, bits 26..63 zero', () => {
  refused(set(V2, { 0x0a: 0x01 }), 'policy', 'bit 17 clear'); // 0x30000 → 0x10000
  refused(set(V2, { 0x0b: 0x04 }), 'policy', 'bit 26');
  refused(set(V2, { 0x0f: 0x80 }), 'policy', 'bit 63');
  refused(set(V2, { 0x0c: 0x01 }), 'policy', 'bit 32');
});

test('every reserved range of each version must be zero (first and last byte of each)', () => {
  for (const [version, base] of [[2, V2], [3, V3], [5, set(V3, { 0: 5 })]] as const) {
    for (const range of reservedRanges(version)) {
      for (const at of [range[0], range[1] - 1]) refused(set(base, { [at]: 0x01 }), rangePath(range), `v${version} byte 0x${at.toString(16)}`);
    }
  }
});

test('signature: the upper 24 bytes of R and S must be zero', () => {
  for (const [name, start] of [['r', 0x2a0], ['s', 0x2e8]] as const) {
    for (const at of [start + 48, start + 71]) refused(set(V2, { [at]: 1 }), `signature.${name}`, `${name} byte 0x${at.toString(16)}`);
  }
});

test('garbage of the right size is refused as InvalidEvidence', () => {
  let seed = 7;
  for (let i = 0; i < 50; i++) {
    const bytes = Uint8Array.from({ length: SNP_REPORT_BYTES }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    assert.throws(() => parseSnpReport(bytes), (e: unknown) => e instanceof EncumberError && e.code === 'InvalidEvidence');
  }
  assert.throws(() => parseSnpReport(new Uint8Array(SNP_REPORT_BYTES)), (e: unknown) => e instanceof EncumberError && e.path === 'version');
});

test('the parser copies its input: changing the caller\'s buffer afterwards changes nothing', () => {
  const bytes = new Uint8Array(V2);
  const r = parseSnpReport(bytes);
  bytes.fill(0xff);
  assert.deepEqual(r.measurement, V2.slice(0x90, 0xc0));
  assert.deepEqual(r.signed, V2.slice(0, 0x2a0));
});
