/**
 * The two test tiers, chosen here and nowhere else:
 *
 *   unit  `npm test`, `npm run test:tools-node`: every test/**\/*.test.ts except the end-to-end tier.
 *   e2e   `npm run test:e2e`: image and command-line builds, QEMU boots (plain and nitro-enclave), the
 *         browser, the PostgreSQL-backed PLC directory and the vsock bridges. `.ci/run` runs both.
 *
 *   node --import tsx test/run.ts unit|e2e|all [--list] [node --test options, e.g. --test-reporter=dot]
 *
 * The tests run under the Node that runs this script (npm test: the pinned Node 24; test:tools-node: the Node that runs npm),
 * one process per file as `node --test` does, with Node's own type stripping where it has it (else tsx). The unit tier runs one file per core; the end-to-end tier
 * one file at a time (its builds and boots each use every core).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The end-to-end tier: a folder (ending in "/") or one file, relative to the repository root. */
export const E2E: readonly string[] = [
  // Image builds: the reproducible image, its contents, the published measurements, the kernel and OVMF
  // builds (from source on a cold cache), and `encumber rebuild`, which builds the image itself.
  'test/image/reproducible.test.ts',
  'test/image/rootfs-nitro.test.ts',
  'test/image/measurements.test.ts',
  'test/image/kernel.test.ts',
  'test/image/ovmf.test.ts',
  'test/cli/rebuild.test.ts',
  // The command line and the enclave bundle as shipped: esbuild builds, each twice for determinism.
  'test/cli/built.test.ts',
  // The enclave bundle under the image's Node flags (capped heap): the largest requests, many at once.
  'test/e2e/enclave-memory.test.ts',
  // QEMU boots of the built image (one guest; two that hand the key over; the nitro-enclave machine).
  'test/e2e/qemu-boot.test.ts',
  'test/e2e/qemu-handoff.test.ts',
  'test/e2e/nitro-enclave.test.ts',
  // Headless Chromium.
  'test/browser/page.test.ts',
  'test/browser/parity.test.ts',
  // The real PLC directory server on a throwaway PostgreSQL cluster.
  'test/e2e/plc-directory.test.ts',
  'test/e2e/plc-directory-freshness.test.ts',
  'test/e2e/plc-recovery.test.ts',
  // The DID guard on that directory: approved operations, reverted intrusions, an outage.
  'test/e2e/did-guard.test.ts',
  // The reference atproto PDS (test/pds/, its own package under a pinned Node 22) on loopback, on that directory.
  'test/e2e/pds.test.ts',
  // The whole story on that PDS and directory: co-sign, sign, publish, verify at:// from the network (CLI and page).
  'test/e2e/pds-publish.test.ts',
  'test/e2e/demo-pds.test.ts',
  // The key hand-off between real servers (serve, serve --join) on loopback.
  'test/e2e/handoff.test.ts',
  // socat vsock bridges.
  'test/e2e/vsock-bridge.test.ts',
];

/**
 * The unit tier's longest files (several seconds each: property and differential runs, library builds) start
 * first, so the two test processes finish together instead of one waiting for a long file started last.
 * Only the order changes; a file missing from this list runs in its sorted place.
 */
export const LONG_FIRST: readonly string[] = [
  'test/plc/property.test.ts',
  'test/attestation/openssl-differential.test.ts',
  'test/plc/differential.test.ts',
  'test/exports/exports.test.ts',
  'test/attestation/sev-snp/mutations.test.ts',
  'test/data/property.test.ts',
];

/** `files` with the LONG_FIRST ones (those present) in front, in that order. */
export function longFirst(files: readonly string[], long: readonly string[] = LONG_FIRST): string[] {
  const first = long.filter((f) => files.includes(f));
  return [...first, ...files.filter((f) => !first.includes(f))];
}

export type Tier = 'unit' | 'e2e' | 'all';

/** Every *.test.ts under test/, relative to the root, sorted. */
export function allTestFiles(root = ROOT): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      // Installed packages (test/pds/node_modules) carry their own tests: never ours.
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p);
      }
      else if (e.isFile() && e.name.endsWith('.test.ts')) out.push(relative(root, p));
    }
  };
  walk(join(root, 'test'));
  return out.sort();
}

const inE2e = (file: string, entry: string) => (entry.endsWith('/') ? file.startsWith(entry) : file === entry);

/** The files of a tier; an E2E entry that names no file is an error (a renamed test must not drop out of CI). */
export function tierFiles(tier: Tier, files: readonly string[], e2e: readonly string[] = E2E): string[] {
  const stale = e2e.filter((entry) => !files.some((f) => inE2e(f, entry)));
  if (stale.length > 0) throw new Error(`test/run.ts: E2E names no test file: ${stale.join(', ')}`);
  if (tier === 'all') return [...files];
  const isE2e = (f: string) => e2e.some((entry) => inE2e(f, entry));
  return files.filter((f) => (tier === 'e2e') === isE2e(f));
}

/**
 * How the test processes read TypeScript: a Node that strips types itself (22.18+, 23.6+; the pinned Node 24
 * the npm scripts run on) needs no loader, which saves a third of a second per test file; an older Node
 * gets tsx. The sources are erasable TypeScript (tsconfig: erasableSyntaxOnly, verbatimModuleSyntax), so
 * both read them the same way.
 */
export function typeScriptLoader(features: { typescript?: unknown } = process.features as { typescript?: unknown }): string[] {
  return features.typescript ? [] : ['--import', 'tsx'];
}

/**
 * The test processes' environment: V8's on-disk compile cache (Node 22.1+; older Nodes ignore the variable) in the
 * build cache, unless the caller chose one. Every test file is a fresh process that loads the same modules, and a
 * warm cache cuts the suite's CPU by about a tenth. V8 checks each entry against the source, so it is never stale.
 */
export function testEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.NODE_COMPILE_CACHE !== undefined) return env;
  return { ...env, NODE_COMPILE_CACHE: join(env.ENCUMBER_BUILD_CACHE || join(homedir(), '.cache', 'encumber'), 'node-compile-cache') };
}

async function main(argv: string[]): Promise<number> {
  const [tier, ...rest] = argv;
  if (tier !== 'unit' && tier !== 'e2e' && tier !== 'all') {
    process.stderr.write('usage: node --import tsx test/run.ts unit|e2e|all [--list] [node --test options]\n');
    return 2;
  }
  const files = longFirst(tierFiles(tier, allTestFiles()));
  if (rest.includes('--list')) {
    process.stdout.write(files.join('\n') + '\n');
    return 0;
  }
  const options = rest.filter((a) => a.startsWith('--'));
  if (!options.some((a) => a.startsWith('--test-reporter'))) options.push('--test-reporter=spec');
  if (!options.some((a) => a.startsWith('--test-concurrency'))) options.push(`--test-concurrency=${tier === 'unit' ? availableParallelism() : 1}`);
  const child = spawn(process.execPath, [...typeScriptLoader(), '--test', ...options, ...files], { cwd: ROOT, stdio: 'inherit', env: testEnv() });
  return await new Promise<number>((done) => {
    child.once('close', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main(process.argv.slice(2));
