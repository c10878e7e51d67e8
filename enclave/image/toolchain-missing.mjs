#!/usr/bin/env node
// Prints `NAME=VERSION ...` for every Debian package pinned in enclave/inputs/toolchain-*.json that is not
// installed at exactly that version: what .ci/run (and a fresh machine) passes to `apt-get install`.
// Plain JavaScript with no dependencies, so it runs before `npm ci`. The builds themselves check the same
// pins again (enclave/image/build-cache.ts checkToolchain) and refuse any other version.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'inputs');
const pins = new Map();
for (const f of readdirSync(dir).filter((f) => /^toolchain-.+\.json$/.test(f)).sort()) {
  for (const [name, version] of Object.entries(JSON.parse(readFileSync(join(dir, f), 'utf8')).packages)) {
    if (pins.has(name) && pins.get(name) !== version) throw new Error(`${f}: ${name} ${version} conflicts with ${pins.get(name)} pinned by another toolchain`);
    pins.set(name, version);
  }
}
// biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
const installed = (name) => spawnSync('dpkg-query', ['-W', '-f', '${db:Status-Status} ${Version}', name], { encoding: 'utf8' }).stdout;
console.log([...pins].filter(([n, v]) => installed(n) !== `installed ${v}`).map(([n, v]) => `${n}=${v}`).join(' '));
