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
import { fetchMain } from './cli.ts';

fetchMain(process.argv.slice(2));
