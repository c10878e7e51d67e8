/**
 * The test QEMU: qemu-system-x86_64 with the `nitro-enclave` machine (an EIF
 * booted directly, PCR0/1/2 computed from it, the NSM as a virtio-nsm device,
 * vsock over virtio-mmio). Debian builds its QEMU without that machine (its
 * Kconfig needs libcbor, gnutls and vhost-user), so it is built here from
 * Debian trixie's own qemu source package (pinned in
 * enclave/inputs/sources.json), with nsm-es384.patch applied, inside a trixie
 * chroot made with debootstrap from the machine's Debian archive.
 *
 * Both steps are cached by the hash of their inputs (enclave/image/build-cache.ts):
 *   builds/trixie-qemu-chroot-<hash>/root   the build environment (debootstrap + build dependencies)
 *   builds/qemu-nitro-<hash>/               qemu-system-x86_64, its firmware directory
 *
 * The binary runs from the host, without chroot, through the chroot's own
 * dynamic loader (`ld-linux-x86-64.so.2 --library-path <chroot libs>`).
 *
 *   node --import tsx test/qemu-nitro/build.ts     builds (or finds) it and prints the command
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineArchives } from '../../enclave/image/apt.ts';
import { buildCacheDir, cachedBuild } from '../../enclave/image/build-cache.ts';
import { loadSourcePins, sourcePin, unpackSource } from '../../enclave/image/sources.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const NSM_PATCH = join(HERE, 'nsm-es384.patch');
/** The device selection for --with-devices-x86_64=nitro. */
export const DEVICES_MAK = join(HERE, 'nitro-devices.mak');

const SUITE = 'trixie';
/**
 * What QEMU's configure needs for this one target, and nothing else: the
 * compiler, meson/ninja/pkgconf, Python (configure's venv; pycotap for its
 * test-harness dependency group), glib/zlib/pixman (always required for a
 * system emulator), libfdt (microvm), libcbor + gnutls (EIF, the NSM device), the 32-bit libgcc
 * (configure's compiler probe for the x86 option ROMs: linuxboot_dma.bin loads the kernel), and
 * seabios for bios-microvm.bin (the nitro-enclave machine is a microvm).
 */
const CHROOT_PACKAGES = [
  'gcc', 'libc6-dev', 'make', 'ninja-build', 'meson', 'pkgconf', 'python3', 'python3-venv', 'python3-pycotap',
  'libglib2.0-dev', 'zlib1g-dev', 'libpixman-1-dev', 'libfdt-dev', 'libcbor-dev', 'libgnutls28-dev', 'lib32gcc-14-dev', 'seabios',
] as const;
/** Bump when the chroot recipe changes. */
const CHROOT_RECIPE = 'trixie-qemu-chroot/1';
/** Bump when the qboot build recipe changes. */
const QBOOT_RECIPE = 'qboot/1';
/** Bump when the QEMU build recipe changes. */
const QEMU_RECIPE = 'qemu-nitro/1';

const CONFIGURE = [
  '--target-list=x86_64-softmmu',
  '--without-default-features',
  '--without-default-devices',
  '--with-devices-x86_64=nitro',
  '--enable-fdt=system',
  '--enable-libcbor',
  '--enable-gnutls',
  '--enable-vhost-user',
  '--enable-tcg',
  '--disable-docs',
  '--disable-werror',
  '--disable-download',
  '--disable-tools',
  '--disable-guest-agent',
  '--disable-install-blobs',
] as const;

export type Log = (line: string) => void;

export interface NitroQemu {
  /** argv[0]: the chroot's dynamic loader. */
  command: string;
  /** Arguments that come before QEMU's own: the loader's library path, the binary, `-L <firmware dir>`. */
  prefix: string[];
  /** The qemu-system-x86_64 binary (for reference). */
  binary: string;
  /** `qemu-system-x86_64 --version`, first line. */
  version: string;
  /** Whether this call built the chroot / QEMU (false: cached). */
  built: { chroot: boolean; qemu: boolean; qboot: boolean };
}

function run(cmd: string, args: string[], opts: { cwd?: string; log?: Log; env?: Record<string, string> } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 512 << 20, env: { ...process.env, LC_ALL: 'C', ...opts.env } });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${out.slice(-6000)}`);
  return out;
}

/** Unmounts (lazily) every mount point at or below root, deepest first. */
function unmountBelow(root: string): void {
  const points = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((p): p is string => !!p && (p === root || p.startsWith(root + '/')))
    .sort((a, b) => b.length - a.length);
  for (const p of points) spawnSync('umount', ['-l', p], { stdio: 'ignore' });
}

/** Runs fn with /proc and /dev mounted in the chroot; always unmounts. */
function withMounts<T>(root: string, fn: () => T): T {
  try {
    mkdirSync(join(root, 'proc'), { recursive: true });
    mkdirSync(join(root, 'dev'), { recursive: true });
    run('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
    run('mount', ['--rbind', '/dev', join(root, 'dev')]);
    run('mount', ['--make-rslave', join(root, 'dev')]);
    return fn();
  } finally {
    unmountBelow(join(root, 'proc'));
    unmountBelow(join(root, 'dev'));
  }
}

function phase<T>(log: Log, name: string, fn: () => T): T {
  const t0 = performance.now();
  log(`${name} ...`);
  const r = fn();
  log(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

async function ensureChroot(log: Log, cacheDir: string) {
  const archives = machineArchives();
  const inputs = { recipe: CHROOT_RECIPE, suite: SUITE, variant: 'minbase', packages: [...CHROOT_PACKAGES].sort() };
  return cachedBuild({
    name: 'trixie-qemu-chroot',
    inputs,
    outputs: ['root/usr/lib64/ld-linux-x86-64.so.2', 'root/usr/bin/meson', 'packages.txt'],
    cacheDir,
    log,
    build: (_work, out) => {
      const root = join(out, 'root');
      try {
        phase(log, `debootstrap ${SUITE} (minbase)`, () =>
          run('debootstrap', ['--variant=minbase', `--keyring=${archives.keyring}`, SUITE, root, archives.main]),
        );
        phase(log, `chroot: apt-get install ${CHROOT_PACKAGES.length} build dependencies`, () =>
          withMounts(root, () => {
            run('chroot', [root, 'apt-get', 'update', '-qq']);
            run('chroot', [root, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...CHROOT_PACKAGES], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
            run('chroot', [root, 'apt-get', 'clean']);
          }),
        );
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
        const pkgs = run('chroot', [root, 'dpkg-query', '-W', '-f', '${Package} ${Version}\n']);
        writeFileSync(join(out, 'packages.txt'), pkgs.split('\n').filter(Boolean).sort().join('\n') + '\n');
      } finally {
        unmountBelow(root);
      }
    },
  });
}

/** Builds (or finds in the cache) the test QEMU; returns how to run it. */
export async function ensureNitroQemu(log: Log = (l) => console.error(l)): Promise<NitroQemu> {
  const cacheDir = buildCacheDir();
  const chroot = await ensureChroot(log, cacheDir);
  const root = join(chroot.dir, 'root');
  const pin = sourcePin(loadSourcePins(), 'qemu');
  const patch = readFileSync(NSM_PATCH, 'utf8');
  const inputs = {
    recipe: QEMU_RECIPE,
    source: { package: pin.package, version: pin.version, files: pin.files.map((f) => f.sha256) },
    patch,
    devices: readFileSync(DEVICES_MAK, 'utf8'),
    configure: CONFIGURE,
    chroot: chroot.hash,
  };
  const qemu = await cachedBuild({
    name: 'qemu-nitro',
    inputs,
    outputs: ['qemu-system-x86_64', 'firmware/bios-microvm.bin', 'firmware/linuxboot_dma.bin'],
    cacheDir,
    log,
    build: (_work, out) => {
      // The source is unpacked inside the chroot (no bind mount needed) and removed afterwards.
      const rel = `build/qemu-${process.pid}-${Date.now()}`;
      const src = join(root, rel);
      mkdirSync(dirname(src), { recursive: true });
      try {
        phase(log, `unpack ${pin.package} ${pin.version}`, () => unpackSource(pin, cacheDir, src, log));
        phase(log, 'apply nsm-es384.patch', () => run('patch', ['-p1', '--forward', '--no-backup-if-mismatch', '-i', NSM_PATCH], { cwd: src }));
        copyFileSync(DEVICES_MAK, join(src, 'configs', 'devices', 'x86_64-softmmu', 'nitro.mak'));
        withMounts(root, () => {
          phase(log, 'configure', () =>
            run('chroot', [root, 'sh', '-c', `cd /${rel} && mkdir -p b && cd b && ../configure ${CONFIGURE.join(' ')}`]),
          );
          phase(log, 'ninja qemu-system-x86_64', () =>
            run('chroot', [root, 'sh', '-c', `cd /${rel}/b && ninja qemu-system-x86_64`]),
          );
          phase(log, 'make linuxboot_dma.bin (the option ROM that boots the kernel)', () =>
            run('chroot', [root, 'sh', '-c', `cd /${rel}/b && make -C pc-bios/optionrom linuxboot_dma.bin`]),
          );
        });
        copyFileSync(join(src, 'b', 'qemu-system-x86_64'), join(out, 'qemu-system-x86_64'));
        run('chmod', ['0755', join(out, 'qemu-system-x86_64')]);
        mkdirSync(join(out, 'firmware'));
        copyFileSync(join(root, 'usr/share/seabios/bios-microvm.bin'), join(out, 'firmware', 'bios-microvm.bin'));
        copyFileSync(join(src, 'b', 'pc-bios', 'optionrom', 'linuxboot_dma.bin'), join(out, 'firmware', 'linuxboot_dma.bin'));
      } finally {
        unmountBelow(root);
        rmSync(src, { recursive: true, force: true });
      }
    },
  });
  // The machine's firmware (no ACPI: qboot.rom, whose MP table routes the virtio-mmio interrupts as the guest
  // expects; SeaBIOS's microvm build left the NSM's interrupt unserviced): qboot from the same source's roms/qboot.
  const qboot = await cachedBuild({
    name: 'qboot',
    inputs: { recipe: QBOOT_RECIPE, source: inputs.source, chroot: chroot.hash },
    outputs: ['qboot.rom'],
    cacheDir,
    log,
    build: (_work, out) => {
      const rel = `build/qboot-${process.pid}-${Date.now()}`;
      const src = join(root, rel);
      mkdirSync(dirname(src), { recursive: true });
      try {
        phase(log, `unpack ${pin.package} ${pin.version} (for roms/qboot)`, () => unpackSource(pin, cacheDir, src, log));
        withMounts(root, () =>
          phase(log, 'meson + ninja roms/qboot', () => run('chroot', [root, 'sh', '-c', `cd /${rel}/roms/qboot && meson setup b && ninja -C b`])),
        );
        copyFileSync(join(src, 'roms', 'qboot', 'b', 'bios.bin'), join(out, 'qboot.rom'));
      } finally {
        unmountBelow(root);
        rmSync(src, { recursive: true, force: true });
      }
    },
  });
  const loader = join(root, 'usr', 'lib64', 'ld-linux-x86-64.so.2');
  const libs = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'].map((d) => join(root, d)).join(':');
  const binary = join(qemu.dir, 'qemu-system-x86_64');
  const prefix = ['--library-path', libs, binary, '-L', qboot.dir, '-L', join(qemu.dir, 'firmware')];
  const version = phase(log, 'qemu-system-x86_64 --version', () => run(loader, [...prefix.slice(0, 3), '--version']).split('\n')[0]!);
  return { command: loader, prefix, binary, version, built: { chroot: chroot.built, qemu: qemu.built, qboot: qboot.built } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  ensureNitroQemu()
    .then((q) => {
      console.log(q.version);
      console.log([q.command, ...q.prefix].map((a) => (/[^\w/.:=,-]/.test(a) ? JSON.stringify(a) : a)).join(' '));
      console.error(`qemu-nitro: ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (chroot ${q.built.chroot ? 'built' : 'cached'}, qemu ${q.built.qemu ? 'built' : 'cached'})`);
    })
    .catch((e: unknown) => {
      console.error(`qemu-nitro: ${(e as Error).stack ?? String(e)}`);
      process.exit(1);
    });
}
