/**
 * The program's measurement input on the dev platform: SHA-384 over the
 * sorted list of (path, SHA-384(content)) of every file that makes up the
 * running program (src/ and package-lock.json). A verifier who checks out the
 * same commit computes the same digest (`encumber measure`) and so the same
 * dev PCRs. The reproducible image (issue 6) replaces this with the bundle's.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { sha384 } from '@noble/hashes/sha2.js';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL(process.env.ENCUMBER_BUNDLE === '1' ? '../' : '../../', import.meta.url));

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

export function programFiles(root = REPO_ROOT): string[] {
  return [...listFiles(join(root, 'src')), join(root, 'package-lock.json')]
    .map((p) => relative(root, p).split(sep).join('/'))
    .sort();
}

/**
 * Running from the bundle (dist/encumber-enclave.mjs): the digest is SHA-384
 * of the bundle file itself, what a rebuild reproduces. From source: the
 * source-tree digest below.
 */
export function programDigest(root = REPO_ROOT): Uint8Array {
  if (process.env.ENCUMBER_BUNDLE === '1') return sha384(readFileSync(fileURLToPath(import.meta.url)));
  return sourceTreeDigest(root);
}

export function sourceTreeDigest(root = REPO_ROOT): Uint8Array {
  const lines = programFiles(root).map((rel) => `${rel}\0${Buffer.from(sha384(readFileSync(join(root, rel)))).toString('hex')}\n`);
  return sha384(new TextEncoder().encode(lines.join('')));
}
