/**
 * `npm run build:image` — the reproducible enclave image, from a clean checkout,
 * into build/out/ (see README.md beside this file for every artifact):
 * encumber-enclave.mjs, initramfs-{boot,app}.cpio.gz, initramfs.cpio.gz,
 * bzImage, cmdline.txt, encumber.eif, manifest.json, initramfs.txt.
 *
 *   node --import tsx enclave/image/build.ts [--out DIR] [--cache DIR] [--policy FILE] [--cmdline TEXT]
 *
 * SOURCE_DATE_EPOCH sets the one timestamp in the image (default 1).
 */
import { buildMain } from './cli.ts';

await buildMain(process.argv.slice(2));
