/**
 * Command-line start-up: the installed entry point (bin/encumber.js running
 * the build in dist/cli/) for `--help` and for `plc verify` of a 20-entry k256
 * audit log, next to a bare `node -e 0` measured in the same run.
 *
 *   npm run build && node --import tsx bench/cli-startup.ts [--runs=10]
 *
 * Each run is a fresh process; the table shows the median wall time, the
 * median CPU time (user + system, less sensitive to other load on the
 * machine) and the largest peak RSS over the runs. Runs are interleaved so
 * that drift on a shared machine hits every row alike.
 * Target: < 0.3 s and < 80 MB for both commands.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateLog } from '../test/plc-gen/generate.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 10);
if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  console.error('dist/cli/ is missing: run `npm run build` first');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'encumber-bench-cli-'));
try {
  const g = await generateLog({ ops: 20, curve: 'k256', seed: 'cli-startup', forkRate: 0, undoneTombstoneRate: 0, tombstoneRate: 0, legacyRate: 0 });
  const log = join(dir, 'log20.json');
  writeFileSync(log, JSON.stringify(g.log));
  // Preloaded into each measured process: its own CPU time and peak RSS, on stderr as it exits.
  const probe = join(dir, 'probe.mjs');
  writeFileSync(
    probe,
    [
      "import { writeSync } from 'node:fs';",
      "process.on('exit', () => { const u = process.resourceUsage(); writeSync(2, '\\nBENCH ' + (u.userCPUTime + u.systemCPUTime) + ' ' + u.maxRSS + '\\n'); });",
      '',
    ].join('\n'),
  );
  const bin = join(ROOT, 'bin', 'encumber.js');
  const rows: { name: string; args: string[]; expect: number }[] = [
    { name: 'node -e 0 (floor)', args: ['-e', '0'], expect: 0 },
    { name: 'encumber --help', args: [bin, '--help'], expect: 0 },
    { name: 'encumber plc verify (20 entries)', args: [bin, 'plc', 'verify', log], expect: 0 },
  ];
  const samples = rows.map(() => ({ wall: [] as number[], cpu: [] as number[], rss: 0 }));
  for (let i = 0; i < runs + 1; i++) {
    rows.forEach((row, j) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, ['--import', pathToFileURL(probe).href, ...row.args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== row.expect) throw new Error(`${row.name}: exit ${r.status}: ${r.stderr}`);
      const m = /BENCH (\d+) (\d+)/.exec(r.stderr);
      if (!m) throw new Error(`${row.name}: no probe line in ${r.stderr}`);
      if (i === 0) return; // warm-up: file cache
      samples[j]!.wall.push(wall);
      samples[j]!.cpu.push(Number(m[1]) / 1000);
      samples[j]!.rss = Math.max(samples[j]!.rss, Number(m[2]) / 1024);
    });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`${runs} runs each, load average ${loadavg()[0]!.toFixed(1)} at the end\n`);
  console.log('| command | wall (median) | CPU user+sys (median) | peak RSS (max) |');
  console.log('|---|---:|---:|---:|');
  rows.forEach((row, j) => {
    const s = samples[j]!;
    console.log(`| ${row.name} | ${median(s.wall).toFixed(0)} ms | ${median(s.cpu).toFixed(0)} ms | ${s.rss.toFixed(0)} MB |`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
