/**
 * The SEV-SNP launch measurement:
 *  - known answers of the reference calculator (../shared/fixtures/sev-snp-measure/expected.json)
 *    on Debian's own OVMF.fd from the pinned test .debs (enclave/inputs/test-debs.json);
 *  - one vector per page type, against a PAGE_INFO chain written out from the spec;
 *  - a whole launch of a synthetic firmware, with and without a kernel;
 *  - rejections with typed codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFixtureJson } from '../../support/fixtures.ts';
import { loadTestDebPins, testDebFile } from '../../../enclave/image/test-inputs.ts';
import { InputError } from '../../../enclave/image/inputs.ts';
import {
  CPU_SIGNATURES,
  LaunchDigest,
  SnpMeasureError,
  VMSA_GPA,
  ovmfHash,
  parseOvmf,
  qemuVmsaPage,
  sevHashesPage,
  sevHashesTable,
  snpLaunchMeasurement,
  type SnpMeasureErrorCode,
} from '../../../src/attestation/sev-snp/index.ts';
import { toHex, fromHex } from '../../../src/crypto/encoding.ts';
import { ReferenceChain, SYNTHETIC_AP_EIP, SYNTHETIC_HASHES_GPA, SYNTHETIC_SECTIONS, referenceVmsa, syntheticOvmf } from './measure-synthetic-ovmf.ts';

interface Expected {
  firmware: { package: string; file: string; sha256: string; ovmfHash: string; noKernel: { vcpus: number; vcpuType: string; vcpuSig: string; guestFeatures: string; measurement: string }[] }[];
  sevHashesTable: { kernelSha256: string; initrd: string | null; append: string; tableHex: string; tableSha256: string; pageSha384WithTableAtOffset0xc00: string }[];
}
const expected = readFixtureJson<Expected>('sev-snp-measure', 'expected.json');

function throwsMeasure(fn: () => unknown, code: SnpMeasureErrorCode): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SnpMeasureError, `expected SnpMeasureError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

// ---- Known answers on Debian's OVMF.fd --------------------------------------------------------

/** The firmware of each expected.json entry, from the pinned .deb of the same version (fetched once into the build cache). */
async function loadFirmware(): Promise<{ firmware: Uint8Array[] } | { skip: string }> {
  const pins = loadTestDebPins();
  const out: Uint8Array[] = [];
  for (const fw of expected.firmware) {
    const pin = pins.find((p) => fw.package.startsWith(`${p.name} ${p.version} `));
    assert.ok(pin, `enclave/inputs/test-debs.json pins no package for "${fw.package}"`);
    try {
      out.push(await testDebFile(pin, fw.file));
    } catch (e) {
      if (e instanceof InputError && e.code === 'InputUnavailable' && !process.env.CI) return { skip: `${pin.name} ${pin.version} is not in the build cache and the Debian archive is unreachable — skipped here; under CI=true this fails instead` };
      throw e;
    }
  }
  return { firmware: out };
}
const loaded = await loadFirmware();
const skip = 'skip' in loaded ? loaded.skip : false;

expected.firmware.forEach((fw, i) => {
  test(`KAT ${fw.package}: OVMF.fd digest and ovmfHash`, { skip }, () => {
    const bytes = (loaded as { firmware: Uint8Array[] }).firmware[i]!;
    assert.equal(createHash('sha256').update(bytes).digest('hex'), fw.sha256);
    assert.equal(toHex(ovmfHash(bytes)), fw.ovmfHash);
  });
  for (const c of fw.noKernel) {
    test(`KAT ${fw.package}: ${c.vcpus} × ${c.vcpuType} (${c.vcpuSig}), features ${c.guestFeatures}, no kernel`, { skip }, () => {
      const bytes = (loaded as { firmware: Uint8Array[] }).firmware[i]!;
      assert.equal(CPU_SIGNATURES[c.vcpuType], Number(c.vcpuSig));
      const byModel = snpLaunchMeasurement({ firmware: bytes, vcpus: c.vcpus, cpu: c.vcpuType, guestFeatures: BigInt(c.guestFeatures) });
      assert.equal(toHex(byModel), c.measurement);
      const bySig = snpLaunchMeasurement({ firmware: bytes, vcpus: c.vcpus, vcpuSig: Number(c.vcpuSig), guestFeatures: Number(c.guestFeatures) });
      assert.equal(toHex(bySig), c.measurement);
      // From the precomputed firmware digest and the parsed layout only.
      const fromHash = snpLaunchMeasurement({ firmware: parseOvmf(bytes), ovmfHash: fromHex(fw.ovmfHash), vcpus: c.vcpus, cpu: c.vcpuType, guestFeatures: BigInt(c.guestFeatures) });
      assert.equal(toHex(fromHash), c.measurement);
    });
  }
  test(`KAT ${fw.package}: not an AmdSev build, so a kernel is refused`, { skip }, () => {
    const bytes = (loaded as { firmware: Uint8Array[] }).firmware[i]!;
    throwsMeasure(() => snpLaunchMeasurement({ firmware: bytes, vcpus: 1, cpu: 'EPYC-v4', kernel: { kernel: new Uint8Array(1) } }), 'KernelHashesUnsupported');
  });
});

for (const t of expected.sevHashesTable) {
  test(`KAT SEV hashes table: kernel ${t.kernelSha256.slice(0, 12)}…, initrd ${t.initrd}, append "${t.append}"`, () => {
    assert.equal(t.initrd, null, 'the fixture vectors have no initrd');
    const table = sevHashesTable({ kernel: { sha256: fromHex(t.kernelSha256) }, cmdline: t.append });
    assert.equal(toHex(table), t.tableHex);
    assert.equal(createHash('sha256').update(table).digest('hex'), t.tableSha256);
    assert.equal(createHash('sha384').update(sevHashesPage(table, 0xc00)).digest('hex'), t.pageSha384WithTableAtOffset0xc00);
  });
}

test('SEV hashes table: bytes and their SHA-256 give the same table; no initrd = hash of zero bytes; no cmdline = "\\0"', () => {
  const kernel = new TextEncoder().encode('a kernel');
  const initrd = new TextEncoder().encode('an initrd');
  const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
  assert.deepEqual(sevHashesTable({ kernel, initrd, cmdline: 'x' }), sevHashesTable({ kernel: { sha256: sha(kernel) }, initrd: { sha256: sha(initrd) }, cmdline: { sha256: sha(new Uint8Array([0x78, 0])) } }));
  const t = sevHashesTable({ kernel });
  assert.equal(t.length, 176);
  assert.equal(toHex(t.subarray(18 + 18, 18 + 50)), createHash('sha256').update(new Uint8Array([0])).digest('hex'));
  assert.equal(toHex(t.subarray(68 + 18, 68 + 50)), createHash('sha256').update(new Uint8Array(0)).digest('hex'));
  assert.equal(toHex(t.subarray(118 + 18, 118 + 50)), toHex(sha(kernel)));
  assert.deepEqual(t.subarray(168), new Uint8Array(8));
  throwsMeasure(() => sevHashesTable({ kernel: { sha256: new Uint8Array(31) } }), 'InvalidMeasureInput');
  throwsMeasure(() => sevHashesPage(t, 4000), 'InvalidMeasureInput');
});

// ---- One vector per page type ---------------------------------------------------------------

test('page-info chain: one NORMAL, ZERO, SECRETS, CPUID and VMSA page, by hand', () => {
  const page = new Uint8Array(4096).map((_, i) => (i * 13) & 0xff);
  const vmsa = qemuVmsaPage({ eip: 0xfffffff0, vcpuSig: 0xa00f11, guestFeatures: 1n });
  const steps: [string, (ld: LaunchDigest) => void, (r: ReferenceChain) => void][] = [
    ['NORMAL', (ld) => ld.normalPages(0xfffff000, page), (r) => r.normal(0xfffff000, page)],
    ['ZERO', (ld) => ld.zeroPages(0x800000, 4096), (r) => r.zero(0x800000)],
    ['SECRETS', (ld) => ld.secretsPage(0x80d000), (r) => r.secrets(0x80d000)],
    ['CPUID', (ld) => ld.cpuidPage(0x80e000), (r) => r.cpuid(0x80e000)],
    ['VMSA', (ld) => ld.vmsaPage(vmsa), (r) => r.vmsa(vmsa)],
  ];
  const ld = new LaunchDigest();
  const ref = new ReferenceChain();
  for (const [name, ours, theirs] of steps) {
    // Each type alone from the zero digest, and chained after the previous ones.
    const alone = new LaunchDigest();
    ours(alone);
    const aloneRef = new ReferenceChain();
    theirs(aloneRef);
    assert.equal(toHex(alone.digest()), aloneRef.ld.toString('hex'), `${name} alone`);
    ours(ld);
    theirs(ref);
    assert.equal(toHex(ld.digest()), ref.ld.toString('hex'), `${name} chained`);
  }
  // The first NORMAL step written out in full: PAGE_INFO = 0^48 ‖ SHA-384(page) ‖ 70 00 ‖ 01 ‖ 00 ‖ 00 00 00 00 ‖ gpa LE.
  const info = Buffer.concat([Buffer.alloc(48), createHash('sha384').update(page).digest(), Buffer.from('7000010000000000', 'hex'), Buffer.from('00f0ffff00000000', 'hex')]);
  const one = new LaunchDigest();
  one.normalPages(0xfffff000, page);
  assert.equal(toHex(one.digest()), createHash('sha384').update(info).digest('hex'));
  assert.equal(VMSA_GPA, 0xfffffffff000);
});

test('VMSA page: QEMU reset state field by field; BSP and AP differ only in CS base and RIP', () => {
  for (const [eip, sig, f] of [[0xfffffff0, 0x800f12, 1n], [SYNTHETIC_AP_EIP, 0xb00f00, 0x21n]] as const) {
    assert.deepEqual(Buffer.from(qemuVmsaPage({ eip, vcpuSig: sig, guestFeatures: f })), referenceVmsa(eip, sig, f));
  }
});

test('CPU signatures of the supported models', () => {
  assert.equal(CPU_SIGNATURES['EPYC-v4'], 0x800f12);
  assert.equal(CPU_SIGNATURES['EPYC-Milan'], 0xa00f11);
  assert.equal(CPU_SIGNATURES['EPYC-Genoa'], 0xa10f10);
  assert.equal(CPU_SIGNATURES['EPYC-Turin'], 0xb00f00); // QEMU: family 26, model 0, stepping 0
});

// ---- A whole launch of a synthetic firmware -------------------------------------------------

function referenceLaunch(fw: Uint8Array, vcpus: number, sig: number, features: bigint, hashesPage?: Uint8Array): string {
  const r = new ReferenceChain();
  const gpa = 0x1_0000_0000 - fw.length;
  for (let off = 0; off < fw.length; off += 4096) r.normal(gpa + off, fw.subarray(off, off + 4096));
  for (const s of SYNTHETIC_SECTIONS) {
    if (s.type === 2) r.secrets(s.gpa);
    else if (s.type === 3) r.cpuid(s.gpa);
    else if (s.type === 0x10 && hashesPage) r.normal(s.gpa, hashesPage);
    else for (let off = 0; off < s.size; off += 4096) r.zero(s.gpa + off);
  }
  for (let i = 0; i < vcpus; i++) r.vmsa(referenceVmsa(i === 0 ? 0xfffffff0 : SYNTHETIC_AP_EIP, sig, features));
  return r.ld.toString('hex');
}

test('synthetic firmware: layout, and the whole launch without and with a kernel', () => {
  const fw = syntheticOvmf();
  const layout = parseOvmf(fw);
  assert.equal(layout.gpa, 0x1_0000_0000 - 3 * 4096);
  assert.equal(layout.apResetEip, SYNTHETIC_AP_EIP);
  assert.equal(layout.hashesTableGpa, SYNTHETIC_HASHES_GPA);
  assert.deepEqual(layout.sections.map((s) => s.kind), ['SNP_SEC_MEM', 'SNP_SECRETS', 'CPUID', 'SVSM_CAA', 'SNP_KERNEL_HASHES']);

  const noKernel = snpLaunchMeasurement({ firmware: fw, vcpus: 3, cpu: 'EPYC-Genoa', guestFeatures: 1n });
  assert.equal(toHex(noKernel), referenceLaunch(fw, 3, 0xa10f10, 1n));

  const kernel = { kernel: new Uint8Array([1, 2, 3]), initrd: new Uint8Array([4, 5]), cmdline: 'console=ttyS0' };
  const page = Buffer.alloc(4096);
  Buffer.from(sevHashesTable(kernel)).copy(page, 0xc00);
  const withKernel = snpLaunchMeasurement({ firmware: fw, vcpus: 1, cpu: 'EPYC-Turin', guestFeatures: 0x21n, kernel });
  assert.equal(toHex(withKernel), referenceLaunch(fw, 1, 0xb00f00, 0x21n, page));
  assert.notEqual(toHex(withKernel), toHex(snpLaunchMeasurement({ firmware: fw, vcpus: 1, cpu: 'EPYC-Turin', guestFeatures: 0x21n, kernel: { ...kernel, cmdline: 'console=ttyS1' } })));

  // Any whole number of pages; the precomputed-digest path agrees.
  const big = syntheticOvmf({ pages: 17 });
  const m = snpLaunchMeasurement({ firmware: big, vcpus: 2, vcpuSig: 0x800f12 });
  assert.equal(toHex(m), referenceLaunch(big, 2, 0x800f12, 1n));
  assert.deepEqual(snpLaunchMeasurement({ firmware: parseOvmf(big), ovmfHash: ovmfHash(big), vcpus: 2, vcpuSig: 0x800f12 }), m);
});

// ---- Rejections ------------------------------------------------------------------------------

test('rejections: typed codes', () => {
  const fw = syntheticOvmf();
  const ok = { vcpus: 1, cpu: 'EPYC-v4' };
  throwsMeasure(() => snpLaunchMeasurement({ firmware: fw.subarray(0, fw.length - 16), ...ok }), 'FirmwareSize');
  throwsMeasure(() => ovmfHash(new Uint8Array(0)), 'FirmwareSize');
  throwsMeasure(() => parseOvmf(new Uint8Array(4096)), 'FirmwareFooterMissing');
  throwsMeasure(() => parseOvmf(syntheticOvmf({ footer: false })), 'FirmwareFooterMissing');
  throwsMeasure(() => parseOvmf(syntheticOvmf({ sections: [{ gpa: 0x800000, size: 0x1000, type: 7 }] })), 'UnknownSectionType');
  throwsMeasure(() => parseOvmf(syntheticOvmf({ sections: [{ gpa: 0x800000, size: 0x800, type: 1 }] })), 'SevMetadataInvalid');
  throwsMeasure(() => parseOvmf(syntheticOvmf({ metadataSignature: 'XSEV' })), 'SevMetadataInvalid');
  throwsMeasure(() => parseOvmf(syntheticOvmf({ apEip: null })), 'FirmwareEntryMissing');
  const noHashes = syntheticOvmf({ sections: SYNTHETIC_SECTIONS.filter((s) => s.type !== 0x10) });
  throwsMeasure(() => snpLaunchMeasurement({ firmware: noHashes, ...ok, kernel: { kernel: new Uint8Array(1) } }), 'KernelHashesUnsupported');
  // A corrupt footer-table entry size.
  const bad = Buffer.from(fw);
  bad.writeUInt16LE(3, bad.length - 50 - 18);
  throwsMeasure(() => parseOvmf(bad), 'FirmwareTableInvalid');
  for (const p of [{ vcpus: 0, cpu: 'EPYC-v4' }, { vcpus: 1.5, cpu: 'EPYC-v4' }, { vcpus: 1, cpu: 'Xeon' }, { vcpus: 1 }, { vcpus: 1, cpu: 'EPYC-v4', vcpuSig: 1 }, { vcpus: 1, cpu: 'EPYC-v4', guestFeatures: 0n }, { vcpus: 1, cpu: 'EPYC-v4', guestFeatures: 1n << 64n }]) {
    throwsMeasure(() => snpLaunchMeasurement({ firmware: fw, ...p }), 'InvalidMeasureInput');
  }
  throwsMeasure(() => snpLaunchMeasurement({ firmware: parseOvmf(fw), ...ok }), 'InvalidMeasureInput');
  throwsMeasure(() => snpLaunchMeasurement({ firmware: parseOvmf(fw), ovmfHash: new Uint8Array(47), ...ok }), 'InvalidMeasureInput');
});
