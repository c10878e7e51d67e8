/**
 * OVMF for SEV-SNP direct boot (enclave/ovmf/).
 *
 * The structural check (footer GUID table → SEV metadata → kernel hashes
 * section) on synthetic images, one defect each; then the real OVMF.fd from
 * ensureOvmf: built when the cache lacks it (slow: edk2 on two cores), checked,
 * the size AmdSevX64 gives, and confirmed reproducible by a second clean build
 * in another directory (recorded in the cache entry). It needs the pinned
 * toolchain (enclave/inputs/toolchain-ovmf.json, installed by .ci/run); without
 * it the test skips here and fails under CI=true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkToolchain, inputsHash, loadToolchain } from '../../enclave/image/build-cache.ts';
import { CONFIRMATION_FILE, OVMF_FILE, ensureOvmf, ovmfInputs } from '../../enclave/ovmf/build.ts';
import { BUILD_ARGS, OVMF_SIZE, RECIPE_VERSION, ourPatches } from '../../enclave/ovmf/edk2.ts';
import { OvmfError } from '../../enclave/ovmf/errors.ts';
import {
  FOOTER_GUID,
  SECTION_SNP_KERNEL_HASHES,
  SEV_METADATA_GUID,
  checkSnpDirectBoot,
  guidBytes,
  guidText,
  readGuidedTable,
  type SevSection,
} from '../../enclave/ovmf/footer.ts';
import { skipUnlessCi } from './build-runner.ts';

const SEV_SECRET_GUID = '4c2eb361-7d9b-4cc3-8081-127c90d3d294';
const SNP_SECTIONS: SevSection[] = [
  { base: 0x800000, size: 0x9000, type: 1 },
  { base: 0x80a000, size: 0x1000, type: 2 },
  { base: 0x80b000, size: 0x1000, type: 3 },
  { base: 0x80d000, size: 0x1000, type: 0x10 },
];

/** A 64 KiB image laid out as OvmfPkg/ResetVector does: metadata at 0x1000, GUID table ending 0x20 before the end. */
function syntheticImage(o: { sections?: SevSection[]; metadataGuid?: string; footerGuid?: string; signature?: string; entryLength?: number } = {}): Uint8Array {
  const size = 0x10000;
  const img = new Uint8Array(size);
  const view = new DataView(img.buffer);
  const sections = o.sections ?? SNP_SECTIONS;
  const metaAt = 0x1000;
  img.set(new TextEncoder().encode(o.signature ?? 'ASEV'), metaAt);
  view.setUint32(metaAt + 4, 16 + 12 * sections.length, true);
  view.setUint32(metaAt + 8, 1, true);
  view.setUint32(metaAt + 12, sections.length, true);
  sections.forEach((s, i) => {
    view.setUint32(metaAt + 16 + 12 * i, s.base, true);
    view.setUint32(metaAt + 20 + 12 * i, s.size, true);
    view.setUint32(metaAt + 24 + 12 * i, s.type, true);
  });
  // Entries (data, u16 length, GUID), then the footer (u16 table length, GUID), ending at size - 0x20.
  const entry = (data: number[], guid: string, len?: number) => {
    const e = new Uint8Array(data.length + 18);
    e.set(data);
    new DataView(e.buffer).setUint16(data.length, len ?? e.length, true);
    e.set(guidBytes(guid), data.length + 2);
    return e;
  };
  const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  const entries = [entry([...u32(0x80e000), ...u32(0x1000)], SEV_SECRET_GUID), entry(u32(size - metaAt), o.metadataGuid ?? SEV_METADATA_GUID, o.entryLength)];
  const body = entries.reduce((n, e) => n + e.length, 0);
  let at = size - 0x20 - 18 - body;
  for (const e of entries) {
    img.set(e, at);
    at += e.length;
  }
  view.setUint16(at, body + 18, true);
  img.set(guidBytes(o.footerGuid ?? FOOTER_GUID), at + 2);
  return img;
}

const codeOf = (code: string) => (e: unknown) => e instanceof OvmfError && e.code === code;

test('GUIDs round-trip through their stored byte order', () => {
  assert.deepEqual([...guidBytes(SEV_METADATA_GUID)], [0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47, 0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc]);
  assert.equal(guidText(guidBytes(FOOTER_GUID)), FOOTER_GUID);
});

test('a synthetic SNP image: the table walk finds both entries and the kernel hashes section', () => {
  const img = syntheticImage();
  assert.deepEqual([...readGuidedTable(img).keys()].sort(), [SEV_METADATA_GUID, SEV_SECRET_GUID].sort());
  const sections = checkSnpDirectBoot(img);
  assert.deepEqual(sections, SNP_SECTIONS);
});

test('each defect fails with its own code', () => {
  assert.throws(() => checkSnpDirectBoot(syntheticImage({ footerGuid: SEV_SECRET_GUID })), codeOf('NoFooterTable'));
  assert.throws(() => checkSnpDirectBoot(syntheticImage({ metadataGuid: SEV_SECRET_GUID })), codeOf('NoSevMetadata'));
  assert.throws(() => checkSnpDirectBoot(syntheticImage({ sections: SNP_SECTIONS.filter((s) => s.type !== SECTION_SNP_KERNEL_HASHES) })), codeOf('NoKernelHashes'));
  assert.throws(() => checkSnpDirectBoot(syntheticImage({ signature: 'TDVF' })), codeOf('BadSevMetadata'));
  assert.throws(() => checkSnpDirectBoot(syntheticImage({ entryLength: 0x4000 })), codeOf('BadFooterTable'));
  assert.throws(() => checkSnpDirectBoot(new Uint8Array(0x10000)), codeOf('NoFooterTable'));
  assert.throws(() => checkSnpDirectBoot(new Uint8Array(16)), codeOf('NoFooterTable'));
});

test('the cache key covers recipe, source pin, our patches, toolchain, build arguments and SOURCE_DATE_EPOCH', () => {
  const { inputs } = ovmfInputs(1);
  assert.equal(inputs.recipe, RECIPE_VERSION);
  assert.equal(inputs.source.package, 'edk2');
  assert.ok(inputs.source.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256)));
  assert.deepEqual(inputs.patches.map((p) => p.name), ourPatches());
  assert.ok(ourPatches().includes('genfw-image-name-not-path.patch'));
  assert.ok(inputs.toolchain.nasm && inputs.toolchain['gcc-12'] && inputs.toolchain['acpica-tools']);
  assert.deepEqual(inputs.build.args, [...BUILD_ARGS]);
  assert.ok(BUILD_ARGS.includes('RELEASE') && BUILD_ARGS.includes('OvmfPkg/AmdSev/AmdSevX64.dsc'));
  assert.notEqual(inputsHash(inputs), inputsHash(ovmfInputs(2).inputs));
});

function toolchainMissing(): string | null {
  try {
    checkToolchain(loadToolchain('ovmf'));
    return null;
  } catch (e) {
    return `the OVMF toolchain is not installed (${(e as Error).message.slice(0, 200)})`;
  }
}

test('the built OVMF.fd: AmdSevX64 with the kernel hashes section, 4 MiB, confirmed reproducible', { skip: skipUnlessCi(toolchainMissing()), timeout: 4 * 3600_000 }, async (t) => {
  const r = await ensureOvmf({ sourceDateEpoch: 1, verifyReproducible: true, log: (l) => t.diagnostic(l) });
  const sha = createHash('sha256').update(r.ovmf).digest('hex');
  t.diagnostic(`OVMF.fd sha256 ${sha}, inputs ${r.inputsHash}, built ${r.built}`);
  assert.equal(r.ovmf.length, OVMF_SIZE);
  const hashes = checkSnpDirectBoot(r.ovmf).find((s) => s.type === SECTION_SNP_KERNEL_HASHES);
  assert.ok(hashes && hashes.size > 0);
  assert.match(r.inputsHash, /^[0-9a-f]{64}$/);
  // The cache entry records the confirmation, for these bytes.
  const file = join(r.dir, CONFIRMATION_FILE);
  assert.ok(existsSync(file), `${file} is missing`);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { sha256: sha, builds: 2 });
  assert.deepEqual(new Uint8Array(readFileSync(join(r.dir, OVMF_FILE))), r.ovmf);
  // A second call is a cache hit with the same bytes.
  const again = await ensureOvmf({ sourceDateEpoch: 1, verifyReproducible: true });
  assert.equal(again.built, false);
  assert.equal(again.inputsHash, r.inputsHash);
  assert.deepEqual(again.ovmf, r.ovmf);
});
