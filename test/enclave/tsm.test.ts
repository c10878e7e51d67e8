/**
 * configfs-tsm flow and the SEV-SNP attestor against a stand-in that behaves
 * like the kernel: a real directory tree whose `inblob` write produces an
 * `outblob` report (carrying the written report_data at offset 0x50, as the
 * firmware does) and an `auxblob` certificate table, and bumps `generation`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { requestTsmReport, tsmAvailable, type TsmFs } from '../../src/enclave/sev-snp/tsm.ts';
import { snpAttestor } from '../../src/enclave/sev-snp/attestor.ts';
import { snpReportData } from '../../src/attestation/sev-snp/report-data.ts';
import { encodeSnpCertTable, splitSnpEvidence, SNP_REPORT_BYTES, parseSnpCertTable } from '../../src/attestation/evidence/snp-cert-table.ts';
import { readFixtureBytes } from '../support/fixtures.ts';

const certs = {
  vcek: readFixtureBytes('sev-snp', 'milan-v2-vcek-virtee', 'vcek.der'),
  ask: readFixtureBytes('sev-snp', 'milan-v2-vcek-virtee', 'ask.der'),
  ark: readFixtureBytes('sev-snp', 'milan-v2-vcek-virtee', 'ark.der'),
};

interface KernelOptions {
  provider?: string;
  auxblob?: boolean;
  /** Simulate another writer: bump generation once more on inblob writes. */
  race?: boolean;
}

/** The stand-in kernel: real files, and the side effects configfs-tsm has on writes. */
function fakeKernel(opts: KernelOptions = {}): { root: string; fs: TsmFs } {
  const root = mkdtempSync(join(tmpdir(), 'tsm-'));
  const fs: TsmFs = {
    mkdir: async (p) => {
      await mkdir(p);
      await writeFile(join(p, 'generation'), '0\n');
      await writeFile(join(p, 'provider'), `${opts.provider ?? 'sev_guest'}\n`);
    },
    rmdir: (p) => rm(p, { recursive: true }), // configfs removes the attribute files itself
    readFile: async (p) => new Uint8Array(await readFile(p)),
    writeFile: async (p, d) => {
      await writeFile(p, d);
      const dir = join(p, '..');
      const gen = Number((await readFile(join(dir, 'generation'), 'utf8')).trim());
      await writeFile(join(dir, 'generation'), `${gen + (opts.race ? 2 : 1)}\n`);
      if (basename(p) === 'inblob') {
        const report = new Uint8Array(SNP_REPORT_BYTES);
        report[0] = 2; // version
        report.set(d, 0x50); // REPORT_DATA
        await writeFile(join(dir, 'outblob'), report);
        if (opts.auxblob !== false) await writeFile(join(dir, 'auxblob'), encodeSnpCertTable(certs));
      }
    },
    exists: (p) => access(p).then(() => true, () => false),
  };
  return { root, fs };
}

test('certificate table: encode → parse round trip; bad tables are InvalidEvidence', () => {
  const table = encodeSnpCertTable(certs);
  const parsed = parseSnpCertTable(table);
  assert.deepEqual(Object.keys(parsed).sort(), ['ark', 'ask', 'vcek']);
  assert.deepEqual(parsed.vcek, certs.vcek);
  assert.throws(() => parseSnpCertTable(table.subarray(0, 30)), (e: any) => e.code === 'InvalidEvidence');
  const broken = table.slice();
  new DataView(broken.buffer).setUint32(16, 1_000_000, true);
  assert.throws(() => parseSnpCertTable(broken), (e: any) => e.code === 'InvalidEvidence');
  assert.throws(() => splitSnpEvidence(new Uint8Array(100)), (e: any) => e.code === 'InvalidEvidence');
});

test('requestTsmReport: mkdir, inblob, outblob, auxblob, generation, provider, rmdir', async () => {
  const { root, fs } = fakeKernel();
  assert.equal(await tsmAvailable(root, fs), true);
  const data = new Uint8Array(64).map((_, i) => i);
  const r = await requestTsmReport(data, { root, fs });
  assert.equal(r.report.length, SNP_REPORT_BYTES);
  assert.deepEqual(r.report.subarray(0x50, 0x90), data);
  assert.equal(r.provider, 'sev_guest');
  assert.ok(r.auxblob.length > 0);
  assert.deepEqual(readdirSync(root), [], 'the entry is removed');
});

test('requestTsmReport refuses a raced generation, a foreign provider, a missing tree, bad report_data', async () => {
  const raced = fakeKernel({ race: true });
  await assert.rejects(requestTsmReport(new Uint8Array(64), raced), /generation moved/);
  assert.deepEqual(readdirSync(raced.root), []);
  const tdx = fakeKernel({ provider: 'tdx_guest' });
  await assert.rejects(requestTsmReport(new Uint8Array(64), tdx), /provider/);
  await assert.rejects(requestTsmReport(new Uint8Array(64), { root: join(tmpdir(), 'no-such-tsm-dir') }), /cannot create/);
  assert.equal(await tsmAvailable(join(tmpdir(), 'no-such-tsm-dir')), false);
  await assert.rejects(requestTsmReport(new Uint8Array(63), fakeKernel()), (e: any) => e.code === 'UsageError');
});

test('snpAttestor: report_data = SHA-256(binding) ‖ SHA-256(nonce); evidence = report ‖ certificates', async () => {
  const kernel = fakeKernel();
  const binding = new TextEncoder().encode('binding dag-cbor bytes');
  const nonce = new Uint8Array([9, 9, 9]);
  const evidence = await snpAttestor(kernel).attest({ publicKey: new Uint8Array(33), bindingBytes: binding, bindingCid: new Uint8Array(36), nonce, now: new Date() });
  const { report, certs: got } = splitSnpEvidence(evidence);
  assert.deepEqual(report.subarray(0x50, 0x70), sha256(binding));
  assert.deepEqual(report.subarray(0x70, 0x90), sha256(nonce));
  assert.deepEqual(report.subarray(0x50, 0x90), snpReportData(binding, nonce));
  assert.deepEqual(got.ark, certs.ark);
});

test('snpAttestor: no auxblob → the operator table; neither → a clear error', async () => {
  const noAux = fakeKernel({ auxblob: false });
  const table = encodeSnpCertTable(certs);
  const ev = await snpAttestor({ ...noAux, fallbackCertTable: table }).attest({ publicKey: new Uint8Array(33), bindingBytes: new Uint8Array(1), bindingCid: new Uint8Array(36), nonce: new Uint8Array(1), now: new Date() });
  assert.deepEqual(splitSnpEvidence(ev).certs.vcek, certs.vcek);
  await assert.rejects(
    snpAttestor(fakeKernel({ auxblob: false })).attest({ publicKey: new Uint8Array(33), bindingBytes: new Uint8Array(1), bindingCid: new Uint8Array(36), nonce: new Uint8Array(1), now: new Date() }),
    /no SNP certificates/,
  );
});
