/**
 * `encumber measure [--bundle FILE] [--out FILE]`: the dev-platform
 * measurements of this checkout, in the attestation/measurements.json format,
 * so a verifier can pin what they rebuilt themselves:
 *   - "source tree": what `npm start` (tsx, from source) attests;
 *   - "bundle": what the enclave bundle (dist/encumber-enclave.mjs) attests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha384 } from '@noble/hashes/sha2.js';
import { devPcrsFromDigests } from '../../attestation/dev/index.ts';
import { REPO_ROOT, sourceTreeDigest } from '../../enclave/program-digest.ts';
import { PROGRAM } from '../../enclave/service.ts';
import { toHex } from '../../crypto/encoding.ts';
import { EXIT_OK, UsageProblem, type CliIo } from '../io.ts';

function entry(name: string, digest: Uint8Array) {
  const p = devPcrsFromDigests({ bundleSha384: digest });
  return { name, bundleSha384: toHex(digest), pcrs: { '0': toHex(p[0]), '1': toHex(p[1]), '2': toHex(p[2]) } };
}

export function devMeasurements(bundlePath?: string) {
  const dev = [entry(`${PROGRAM.name} ${PROGRAM.version} source tree (npm start)`, sourceTreeDigest())];
  const bundle = bundlePath ?? join(REPO_ROOT, 'dist', 'encumber-enclave.mjs');
  if (existsSync(bundle)) dev.push(entry(`${PROGRAM.name} ${PROGRAM.version} bundle ${bundlePath ?? 'dist/encumber-enclave.mjs'}`, sha384(readFileSync(bundle))));
  else if (bundlePath) throw new UsageProblem(`no bundle at ${bundlePath} (build it with npm run build)`);
  return { release: PROGRAM.version, nitro: [], dev, 'sev-snp': [] };
}

export async function measure(flags: { bundle?: string; out?: string }, io: CliIo): Promise<number> {
  const m = devMeasurements(flags.bundle);
  const text = JSON.stringify(m, null, 2);
  if (flags.out) await writeFile(flags.out, text + '\n');
  else io.out(text);
  for (const d of m.dev) io.err(`${d.name}: PCR0 ${d.pcrs['0']}`);
  return EXIT_OK;
}
