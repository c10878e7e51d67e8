/**
 * `npm run inputs:fetch` — fetch the pinned Debian packages that are not in
 * the cache yet (apt-get download), check every input against its pin
 * (enclave/inputs/*.json) and print them. Exits non-zero on any mismatch.
 *
 *   node --import tsx enclave/image/fetch-inputs.ts [--cache DIR] [--repin]
 *
 * --repin: when Debian has moved on (a security update replaces the kernel in
 * bookworm-security, a point release replaces the rest), rewrite debian.json
 * with the archive's current candidate of each package — the kernel follows
 * linux-image-amd64 to its new ABI name — and the SHA-256 from the Packages
 * index, then fetch and verify as usual. The change is a reviewed diff like
 * any other: every digest of the image changes with it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CACHE, INPUTS_DIR, ensureDeb, loadDebPins, loadNodePin, verifyNodeRuntime, type DebPin } from './inputs.ts';

const { values } = parseArgs({
  options: { cache: { type: 'string', default: process.env.ENCUMBER_INPUT_CACHE || DEFAULT_CACHE }, repin: { type: 'boolean', default: false } },
});
const cache = resolve(values.cache!);
const log = (line: string) => process.stderr.write(`inputs  ${line}\n`);

/** Fields of `apt-cache show --no-all-versions NAME` (the candidate). */
function candidate(name: string): Record<string, string> {
  const r = spawnSync('apt-cache', ['show', '--no-all-versions', name], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error(`apt-cache show ${name}: ${r.stderr || 'no candidate (apt-get update?)'}`);
  const fields: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Za-z0-9-]+): (.*)$/.exec(line);
    if (m) fields[m[1]!] = m[2]!;
  }
  return fields;
}

function repin(): void {
  const file = join(INPUTS_DIR, 'debian.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { packages: DebPin[] };
  doc.packages = doc.packages.map((p) => {
    let name = p.name;
    if (/^linux-image-.*-amd64$/.test(name)) {
      const dep = /^(linux-image-[^\s(]+)/.exec(candidate('linux-image-amd64').Depends ?? '');
      if (!dep) throw new Error('linux-image-amd64 names no kernel package');
      name = dep[1]!;
    }
    const c = candidate(name);
    if (!c.Version || !/^[0-9a-f]{64}$/.test(c.SHA256 ?? '')) throw new Error(`apt-cache show ${name}: no Version/SHA256`);
    if (c.Version !== p.version || name !== p.name) log(`repin ${p.name} ${p.version} → ${name} ${c.Version}`);
    return { ...p, name, version: c.Version, sha256: c.SHA256! };
  });
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
}

if (values.repin) repin();
const node = loadNodePin();
verifyNodeRuntime();
console.log(`ok  ${node.package} ${node.version}  sha256 ${node.sha256}  (node_modules/${node.package}/${node.binary})`);
for (const pin of loadDebPins()) {
  const path = ensureDeb(pin, cache, log);
  console.log(`ok  ${pin.name} ${pin.version}  sha256 ${pin.sha256}  (${path})`);
}
