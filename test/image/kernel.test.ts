/**
 * The guest kernel (enclave/kernel/): the .config checker on small configs,
 * the fragment's required options, and the cached build itself — its final
 * .config has every option the enclave needs built in and no modules, and a
 * second build from scratch in another directory gives the same bytes.
 *
 * The build test builds when the cache has no entry (twice, the first time:
 * the reproducibility check). Skipped only when the pinned toolchain is not
 * installed and CI is not set; under CI=true it runs (.ci/run installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkToolchain, loadToolchain } from '../../enclave/image/build-cache.ts';
import { configProblems, parseKconfig, requirementsOf } from '../../enclave/kernel/config-check.ts';
import { CONFIG_FRAGMENT, KernelBuildError, ensureKernel, kbuildTimestamp } from '../../enclave/kernel/build.ts';
import { skipUnlessCi } from './build-runner.ts';

/** What the enclave needs, whatever the fragment says: each must be `=y` in the final .config. */
const REQUIRED = [
  'CONFIG_64BIT', 'CONFIG_SMP', 'CONFIG_PRINTK', 'CONFIG_SERIAL_8250', 'CONFIG_SERIAL_8250_CONSOLE',
  'CONFIG_BLK_DEV_INITRD', 'CONFIG_RD_GZIP', 'CONFIG_DEVTMPFS', 'CONFIG_DEVTMPFS_MOUNT', 'CONFIG_PROC_FS', 'CONFIG_SYSFS', 'CONFIG_TMPFS',
  'CONFIG_BINFMT_ELF', 'CONFIG_BINFMT_SCRIPT', 'CONFIG_FUTEX', 'CONFIG_EPOLL', 'CONFIG_EVENTFD', 'CONFIG_TIMERFD', 'CONFIG_SIGNALFD', 'CONFIG_INOTIFY_USER',
  'CONFIG_UNIX', 'CONFIG_INET', 'CONFIG_PACKET', 'CONFIG_PCI', 'CONFIG_E1000',
  'CONFIG_VIRTIO', 'CONFIG_VIRTIO_MMIO', 'CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES', 'CONFIG_NSM', 'CONFIG_HW_RANDOM', 'CONFIG_VSOCKETS', 'CONFIG_VIRTIO_VSOCKETS',
  'CONFIG_EFI', 'CONFIG_EFI_STUB', 'CONFIG_AMD_MEM_ENCRYPT', 'CONFIG_SEV_GUEST', 'CONFIG_TSM_REPORTS', 'CONFIG_CONFIGFS_FS',
];

const fragment = readFileSync(CONFIG_FRAGMENT, 'utf8');

test('parseKconfig: values, unset lines, comments; a stray line is refused', () => {
  const c = parseKconfig('#\n# General setup\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\nCONFIG_D=128\n\n');
  assert.deepEqual([...c], [['CONFIG_A', 'y'], ['CONFIG_B', 'n'], ['CONFIG_C', '"x y"'], ['CONFIG_D', '128']]);
  assert.throws(() => parseKconfig('CONFIG_A=y\nnonsense\n'), /not a Kconfig line/);
});

test('config check: an option of the fragment that dropped out, became a module, or changed value is reported', () => {
  const req = requirementsOf('CONFIG_A=y\nCONFIG_B=y\nCONFIG_C=y\n# CONFIG_MODULES is not set\nCONFIG_NR_CPUS=128\n');
  assert.deepEqual(req, { builtIn: ['CONFIG_A', 'CONFIG_B', 'CONFIG_C'], unset: ['CONFIG_MODULES'], values: { CONFIG_NR_CPUS: '128' } });
  assert.deepEqual(configProblems(req, 'CONFIG_A=y\nCONFIG_B=y\nCONFIG_C=y\n# CONFIG_MODULES is not set\nCONFIG_NR_CPUS=128\n'), []);
  assert.deepEqual(configProblems(req, 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_MODULES=y\nCONFIG_NR_CPUS=2\n'), [
    { option: 'CONFIG_B', expected: 'y', actual: 'unset' },
    { option: 'CONFIG_C', expected: 'y', actual: 'm' },
    { option: 'CONFIG_MODULES', expected: 'unset', actual: 'y' },
    { option: 'CONFIG_NR_CPUS', expected: '128', actual: '2' },
  ]);
  // Absent from the final .config counts as unset: a dropped-out option fails, an absent unset one passes.
  assert.deepEqual(configProblems(req, 'CONFIG_A=y\nCONFIG_B=y\nCONFIG_NR_CPUS=128\n'), [{ option: 'CONFIG_C', expected: 'y', actual: 'unset' }]);
});

test('the fragment asks for every required option built in and no modules', () => {
  const req = requirementsOf(fragment);
  for (const o of REQUIRED) assert.ok(req.builtIn.includes(o), `enclave/kernel/encumber.config lacks ${o}=y`);
  assert.ok(req.unset.includes('CONFIG_MODULES'), 'enclave/kernel/encumber.config must say "# CONFIG_MODULES is not set"');
  assert.ok(!/=m\s*$/m.test(fragment), 'no option of the fragment is a module');
});

test('KBUILD_BUILD_TIMESTAMP from SOURCE_DATE_EPOCH, as `date -u -d @N` prints it', () => {
  assert.equal(kbuildTimestamp(1), 'Thu Jan  1 00:00:01 UTC 1970');
  assert.equal(kbuildTimestamp(1700000000), 'Tue Nov 14 22:13:20 UTC 2023');
  assert.throws(() => kbuildTimestamp(-1), /SOURCE_DATE_EPOCH/);
});

function toolchainMissing(): string | null {
  try {
    checkToolchain(loadToolchain('kernel'));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

test(
  'the cached kernel: final .config has every required option =y and CONFIG_MODULES unset; a second build in another directory is byte-identical',
  { skip: skipUnlessCi(toolchainMissing()), timeout: 60 * 60_000 },
  async () => {
    const k = await ensureKernel({ sourceDateEpoch: 1, verifyReproducible: true, log: (l) => process.stderr.write(`# ${l}\n`) });
    const config = parseKconfig(k.config);
    const notBuiltIn = REQUIRED.filter((o) => config.get(o) !== 'y');
    assert.deepEqual(notBuiltIn, [], `not =y in the final .config: ${notBuiltIn.join(', ')}`);
    assert.ok(!config.has('CONFIG_MODULES') || config.get('CONFIG_MODULES') === 'n', 'CONFIG_MODULES is set');
    assert.ok(![...config.values()].includes('m'), 'no option is a module');
    assert.deepEqual(configProblems(requirementsOf(fragment), k.config), []);
    assert.equal(k.reproducible, true);
    assert.match(k.release, /^6\.12\.\d+$/);
    // A bzImage: the boot protocol's "HdrS" magic at 0x202.
    assert.equal(Buffer.from(k.bzImage.subarray(0x202, 0x206)).toString('latin1'), 'HdrS');
    assert.match(k.inputsHash, /^[0-9a-f]{64}$/);
    // Warm: the same entry, nothing built, the confirmation kept.
    const again = await ensureKernel({ sourceDateEpoch: 1, verifyReproducible: true });
    assert.equal(again.built, false);
    assert.equal(again.reproducible, true);
    assert.equal(createHash('sha256').update(again.bzImage).digest('hex'), createHash('sha256').update(k.bzImage).digest('hex'));
  },
);

test('KernelBuildError carries a code', () => {
  const e = new KernelBuildError('NotReproducible', 'x', 'a', 'b');
  assert.equal(e.code, 'NotReproducible');
  assert.equal(e.expected, 'a');
});
