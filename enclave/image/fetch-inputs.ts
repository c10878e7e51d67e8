/**
 * `npm run inputs:fetch` — fetch the pinned Debian packages that are not in
 * the cache yet (apt-get download), check every input against its pin
 * (enclave/inputs/*.json) and print them. Exits non-zero on any mismatch.
 *
 *   node --import tsx enclave/image/fetch-inputs.ts [--cache DIR]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CACHE, ensureDeb, loadDebPins, loadNodePin, verifyNodeRuntime } from './inputs.ts';

const { values } = parseArgs({ options: { cache: { type: 'string', default: process.env.ENCUMBER_INPUT_CACHE || DEFAULT_CACHE } } });
const cache = resolve(values.cache!);
const log = (line: string) => process.stderr.write(`inputs  ${line}\n`);

const node = loadNodePin();
verifyNodeRuntime();
console.log(`ok  ${node.package} ${node.version}  sha256 ${node.sha256}  (node_modules/${node.package}/${node.binary})`);
for (const pin of loadDebPins()) {
  const path = ensureDeb(pin, cache, log);
  console.log(`ok  ${pin.name} ${pin.version}  sha256 ${pin.sha256}  (${path})`);
}
