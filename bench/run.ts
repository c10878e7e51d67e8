/**
 * `npm run bench`: run every benchmark in its own process (so one's JIT state
 * and caches cannot help another) and print their tables.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = ['signature-verify.ts', 'plc-verify.ts', 'nitro-verify.ts', 'snp-verify.ts', 'handoff.ts', 'sign-record.ts', 'cli-startup.ts'];
let failed = false;
for (const b of benches) {
  const file = fileURLToPath(new URL(b, import.meta.url));
  console.log(`\n## ${b}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
