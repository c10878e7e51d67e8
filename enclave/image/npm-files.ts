/**
 * npm packages copied file by file into the boot ramdisk (enclave/inputs/npm-files.json):
 * the native addons the bundle loads at run time with createRequire(import.meta.url)
 * from /encumber/encumber-enclave.mjs, so Node looks in /encumber/node_modules and
 * then /node_modules, where they are put: koffi and its linux-x64 platform package
 * (src/enclave/nitro/libc.ts), and secp256k1's binding with its loader
 * node-gyp-build (src/crypto/k256-libsecp256k1.ts: 'secp256k1/bindings').
 *
 * Every package is checked twice before a byte is used: its package-lock.json
 * entry (version, integrity of the tarball) against the pin, and the SHA-256
 * and size of each listed file in node_modules against the pin. Only the
 * listed files are taken, with the modes the pin gives.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INPUTS_DIR, InputError, REPO_ROOT } from './inputs.ts';

export interface NpmFilePin {
  mode: number;
  size: number;
  sha256: string;
}

export interface NpmPackagePin {
  package: string;
  version: string;
  integrity: string;
  files: Record<string, NpmFilePin>;
}

/** One file for the image: its path in the image (no leading slash), mode and bytes. */
export interface ImageFile {
  path: string;
  mode: number;
  data: Uint8Array;
}

/** Where the packages go in the image: beside nothing, found by the bundle's parent-directory walk. */
export const NPM_PREFIX = 'node_modules';

const HEX64 = /^[0-9a-f]{64}$/;

export function loadNpmPins(dir = INPUTS_DIR): NpmPackagePin[] {
  const doc = JSON.parse(readFileSync(join(dir, 'npm-files.json'), 'utf8')) as { packages?: unknown };
  if (!Array.isArray(doc.packages)) throw new InputError('BadManifest', 'npm-files.json: "packages" must be an array');
  return doc.packages.map((p: Record<string, unknown>, i: number) => {
    for (const k of ['package', 'version', 'integrity'] as const) {
      if (typeof p[k] !== 'string' || p[k] === '') throw new InputError('BadManifest', `npm-files.json: packages[${i}].${k} must be a non-empty string`);
    }
    if (!(p.integrity as string).startsWith('sha512-')) throw new InputError('BadManifest', `npm-files.json: packages[${i}].integrity must be sha512`);
    const files: Record<string, NpmFilePin> = {};
    const raw = p.files as Record<string, { mode?: unknown; size?: unknown; sha256?: unknown }> | undefined;
    if (!raw || typeof raw !== 'object' || Object.keys(raw).length === 0) throw new InputError('BadManifest', `npm-files.json: packages[${i}].files must list files`);
    for (const [rel, f] of Object.entries(raw)) {
      if (rel.startsWith('/') || rel.split('/').some((s) => s === '' || s === '.' || s === '..')) throw new InputError('BadManifest', `npm-files.json: bad path ${rel}`);
      if (typeof f.mode !== 'string' || !/^0[0-7]{3}$/.test(f.mode)) throw new InputError('BadManifest', `npm-files.json: ${p.package}/${rel}: mode must be like "0644"`);
      if (typeof f.size !== 'number' || typeof f.sha256 !== 'string' || !HEX64.test(f.sha256)) throw new InputError('BadManifest', `npm-files.json: ${p.package}/${rel}: size and sha256 are required`);
      files[rel] = { mode: parseInt(f.mode, 8), size: f.size, sha256: f.sha256 };
    }
    return { package: p.package as string, version: p.version as string, integrity: p.integrity as string, files };
  });
}

/** The pinned files out of `root`/node_modules, checked against the lockfile and the pins, at their image paths. */
export function npmImageFiles(root = REPO_ROOT, pins = loadNpmPins()): ImageFile[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages?: Record<string, { version?: string; integrity?: string }> };
  const out: ImageFile[] = [];
  for (const pin of pins) {
    const entry = lock.packages?.[`node_modules/${pin.package}`];
    if (!entry || entry.version !== pin.version || entry.integrity !== pin.integrity) {
      throw new InputError(
        'InputMismatch',
        `package-lock.json: ${pin.package} must be ${pin.version} with integrity ${pin.integrity} (enclave/inputs/npm-files.json)`,
        `${pin.version} ${pin.integrity}`,
        entry ? `${entry.version} ${entry.integrity}` : 'absent',
      );
    }
    for (const [rel, f] of Object.entries(pin.files)) {
      const path = join(root, 'node_modules', pin.package, rel);
      if (!existsSync(path)) throw new InputError('InputUnavailable', `${path} is missing: run npm ci (on linux-x64, where npm installs ${pin.package})`);
      const data = readFileSync(path);
      const actual = createHash('sha256').update(data).digest('hex');
      if (actual !== f.sha256 || data.length !== f.size) {
        throw new InputError('InputMismatch', `${path}: SHA-256 ${actual} (${data.length} B) is not the pinned ${f.sha256} (${f.size} B)`, f.sha256, actual);
      }
      out.push({ path: `${NPM_PREFIX}/${pin.package}/${rel}`, mode: f.mode, data });
    }
  }
  return out;
}
