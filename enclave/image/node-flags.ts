/**
 * The flags and environment the enclave image runs Node with, read from the
 * image's init (enclave/image/rootfs/init, the one place they are written),
 * so the benchmarks and the memory test run the bundle exactly as the image
 * does.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const INIT = fileURLToPath(new URL('./rootfs/init', import.meta.url));

export function imageNodeFlags(init: string = readFileSync(INIT, 'utf8')): string[] {
  const m = /^NODE="\/usr\/bin\/node ((?:--\S+ )*)\/encumber\/encumber-enclave\.mjs"$/m.exec(init);
  if (!m) throw new Error('enclave/image/rootfs/init: no NODE="/usr/bin/node [flags] /encumber/encumber-enclave.mjs" line');
  return m[1]!.split(' ').filter(Boolean);
}

/** The environment init exports for the allocator (`export MALLOC_…=…` lines). */
export function imageNodeEnv(init: string = readFileSync(INIT, 'utf8')): Record<string, string> {
  return Object.fromEntries([...init.matchAll(/^export (MALLOC_[A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}
