/**
 * What goes into the initramfs, path by path, with every mode written out.
 * Nothing here looks at the build machine's files except through the pinned
 * inputs it is handed. No kernel modules: the kernel (enclave/kernel/) has
 * every driver built in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CpioEntry } from './cpio.ts';

const ROOTFS_DIR = fileURLToPath(new URL('./rootfs/', import.meta.url));
/** enclave/vsock/: the enclave side of the vsock bridges (Nitro), copied as they are. */
const VSOCK_DIR = fileURLToPath(new URL('../vsock/', import.meta.url));

/** Where the vsock scripts live in the image (/init runs enclave-side.sh from there on Nitro). */
export const VSOCK_IMAGE_DIR = 'usr/lib/encumber/vsock';
/** Files of enclave/vsock/ in the image (enclave-side.sh sources lib.sh from its own directory). */
export const VSOCK_FILES: Record<string, number> = { 'enclave-side.sh': 0o755, 'lib.sh': 0o644 };

/** The check of the host's boot document, run by /init on the image's Node (rootfs/usr/lib/encumber/boot-input.ts). */
export const BOOT_INPUT_SCRIPT = 'usr/lib/encumber/boot-input.ts';

/** busybox applets /init, the udhcpc hook and enclave/vsock/{enclave-side,lib}.sh call (plus a few for a person at the console). */
export const BUSYBOX_APPLETS = ['cat', 'dirname', 'dmesg', 'grep', 'head', 'ip', 'ls', 'mkdir', 'mount', 'poweroff', 'ps', 'sh', 'sleep', 'tr', 'udhcpc', 'umount', 'uname', 'wc'] as const;

/** Files taken from Debian packages: package → path in the package (= path in the image) → mode. */
export const DEB_FILES: Record<string, Record<string, number | { symlink: true }>> = {
  'busybox-static': {
    'bin/busybox': 0o755,
  },
  // socat: the vsock relays (enclave/vsock/enclave-side.sh) and the Nitro boot heartbeat. busybox nc has no
  // AF_VSOCK. Its libraries follow its NEEDED entries: libwrap → libnsl → libtirpc → GSS-API/Kerberos; libssl.
  socat: {
    'usr/bin/socat': 0o755,
  },
  libssl3: {
    'usr/lib/x86_64-linux-gnu/libcrypto.so.3': 0o644,
    'usr/lib/x86_64-linux-gnu/libssl.so.3': 0o644,
  },
  libwrap0: {
    'usr/lib/x86_64-linux-gnu/libwrap.so.0': { symlink: true },
    'usr/lib/x86_64-linux-gnu/libwrap.so.0.7.6': 0o644,
  },
  libnsl2: {
    'usr/lib/x86_64-linux-gnu/libnsl.so.2': { symlink: true },
    'usr/lib/x86_64-linux-gnu/libnsl.so.2.0.1': 0o644,
  },
  libtirpc3: {
    'lib/x86_64-linux-gnu/libtirpc.so.3': { symlink: true },
    'lib/x86_64-linux-gnu/libtirpc.so.3.0.0': 0o644,
  },
  'libgssapi-krb5-2': {
    'usr/lib/x86_64-linux-gnu/libgssapi_krb5.so.2': { symlink: true },
    'usr/lib/x86_64-linux-gnu/libgssapi_krb5.so.2.2': 0o644,
  },
  'libkrb5-3': {
    'usr/lib/x86_64-linux-gnu/libkrb5.so.3': { symlink: true },
    'usr/lib/x86_64-linux-gnu/libkrb5.so.3.3': 0o644,
  },
  libk5crypto3: {
    'usr/lib/x86_64-linux-gnu/libk5crypto.so.3': { symlink: true },
    'usr/lib/x86_64-linux-gnu/libk5crypto.so.3.1': 0o644,
  },
  'libcom-err2': {
    'lib/x86_64-linux-gnu/libcom_err.so.2': { symlink: true },
    'lib/x86_64-linux-gnu/libcom_err.so.2.1': 0o644,
  },
  libkrb5support0: {
    'usr/lib/x86_64-linux-gnu/libkrb5support.so.0': { symlink: true },
    'usr/lib/x86_64-linux-gnu/libkrb5support.so.0.1': 0o644,
  },
  libkeyutils1: {
    'lib/x86_64-linux-gnu/libkeyutils.so.1': { symlink: true },
    'lib/x86_64-linux-gnu/libkeyutils.so.1.10': 0o644,
  },
  libc6: {
    'lib/x86_64-linux-gnu/ld-linux-x86-64.so.2': 0o755,
    'lib/x86_64-linux-gnu/libc.so.6': 0o755,
    'lib/x86_64-linux-gnu/libdl.so.2': 0o644,
    'lib/x86_64-linux-gnu/libm.so.6': 0o644,
    'lib/x86_64-linux-gnu/libpthread.so.0': 0o644,
    'lib/x86_64-linux-gnu/libresolv.so.2': 0o644,
    'lib64/ld-linux-x86-64.so.2': { symlink: true },
  },
  'libgcc-s1': {
    'lib/x86_64-linux-gnu/libgcc_s.so.1': 0o644,
  },
  'libstdc++6': {
    'usr/lib/x86_64-linux-gnu/libstdc++.so.6': { symlink: true },
    'usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30': 0o644,
  },
};

/** Directories made empty in the image (mount points and runtime state). */
const EMPTY_DIRS: Record<string, number> = { dev: 0o755, proc: 0o555, sys: 0o555, run: 0o755, tmp: 0o1777, root: 0o700 };

export interface DebContent {
  path: string;
  type: 'file' | 'symlink' | 'dir' | 'other';
  data: Uint8Array;
  target: string;
}

export interface RootfsInputs {
  /** Per package name (as in DEB_FILES), the members read from its .deb. */
  debs: Record<string, Map<string, DebContent>>;
  node: Uint8Array;
  bundle: Uint8Array;
  caBundle: Uint8Array;
  policy?: Uint8Array;
  /** Files of pinned npm packages (npm-files.ts: koffi and its platform package under node_modules/). */
  npmFiles: ReadonlyArray<{ path: string; mode: number; data: Uint8Array }>;
}

export function rootfsEntries(inputs: RootfsInputs): CpioEntry[] {
  const entries: CpioEntry[] = [];
  const file = (path: string, mode: number, data: Uint8Array) => entries.push({ path, type: 'file', mode, data });
  const ownFile = (rel: string, mode: number) => file(rel, mode, readFileSync(join(ROOTFS_DIR, rel)));

  for (const [dir, mode] of Object.entries(EMPTY_DIRS)) entries.push({ path: dir, type: 'dir', mode });
  // The console the kernel opens for PID 1 before /init mounts devtmpfs.
  entries.push({ path: 'dev/console', type: 'chardev', mode: 0o600, major: 5, minor: 1 });

  ownFile('init', 0o755);
  ownFile('etc/udhcpc.script', 0o755);
  ownFile('etc/hosts', 0o644);
  // The host's boot document (join URL, dev root) is checked by this script before the service starts.
  ownFile(BOOT_INPUT_SCRIPT, 0o644);
  file('etc/ssl/certs/ca-certificates.crt', 0o644, inputs.caBundle);

  for (const [pkg, paths] of Object.entries(DEB_FILES)) {
    const members = inputs.debs[pkg];
    if (!members) throw new Error(`rootfs: no contents given for package ${pkg}`);
    for (const [path, how] of Object.entries(paths)) {
      const m = members.get(path);
      if (!m) throw new Error(`rootfs: ${pkg} has no ${path}`);
      if (typeof how === 'number') {
        if (m.type !== 'file') throw new Error(`rootfs: ${pkg}:${path} is a ${m.type}, expected a file`);
        file(path, how, m.data);
      } else {
        if (m.type !== 'symlink') throw new Error(`rootfs: ${pkg}:${path} is a ${m.type}, expected a symlink`);
        entries.push({ path, type: 'symlink', target: m.target });
      }
    }
  }
  for (const applet of BUSYBOX_APPLETS) entries.push({ path: `bin/${applet}`, type: 'symlink', target: 'busybox' });

  file('usr/bin/node', 0o755, inputs.node);
  for (const f of inputs.npmFiles) file(f.path, f.mode, f.data);
  for (const [name, mode] of Object.entries(VSOCK_FILES)) file(`${VSOCK_IMAGE_DIR}/${name}`, mode, readFileSync(join(VSOCK_DIR, name)));
  file('encumber/encumber-enclave.mjs', 0o644, inputs.bundle);
  if (inputs.policy) file('encumber/policy.json', 0o644, inputs.policy);

  return withParents(entries);
}

/** Adds every missing parent directory (mode 0755). */
export function withParents(entries: CpioEntry[]): CpioEntry[] {
  const have = new Set(entries.map((e) => e.path));
  const out = [...entries];
  for (const e of entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!have.has(dir)) {
        have.add(dir);
        out.push({ path: dir, type: 'dir', mode: 0o755 });
      }
    }
  }
  return out;
}
