/**
 * Installs test/pds (the reference PDS for test/e2e/pds.test.ts) unless it is already installed from its current
 * lockfile; .ci/run calls it before the tests so the end-to-end test does not compile better-sqlite3 in its timeout.
 *
 *   node --import tsx test/support/pds-install.ts
 */
import { ensurePdsInstalled, pdsInstalled } from './pds.ts';

if (pdsInstalled()) process.stderr.write('pds: test/pds is installed from its current lockfile\n');
await ensurePdsInstalled();
