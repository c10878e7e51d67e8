#!/usr/bin/env node
// Entry point for `npx encumber`: runs the built CLI (dist/cli/, made by
// `npm run build`, which `npm ci` runs through the prepare script). Plain
// JavaScript with no dependencies; the TypeScript loader (tsx) is for
// development and tests only and is never loaded here.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const cli = new URL('../dist/cli/', import.meta.url);
const EXIT_USAGE = 2;

if (!existsSync(new URL('main.js', cli)) || !existsSync(new URL('inputs.json', cli))) {
  process.stderr.write('encumber: the command line is not built (dist/cli/main.js is missing): run `npm run build` (npm ci runs it)\n');
  process.exit(EXIT_USAGE);
}

/** The newest input file changed after the build, or undefined: src/ walked, the other inputs listed by the build. */
function changedSince(builtMs, walk, files) {
  let newest;
  const consider = (rel) => {
    const t = statSync(root + rel, { throwIfNoEntry: false })?.mtimeMs;
    if (t !== undefined && t > builtMs && (!newest || t > newest.t)) newest = { rel, t };
  };
  for (const dir of walk) {
    for (const entry of readdirSync(root + dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) consider(`${entry.parentPath}/${entry.name}`.slice(root.length));
    }
  }
  for (const rel of files) consider(rel);
  return newest?.rel;
}

// A source file edited after the build: say so (the command still runs, from the build).
try {
  const info = new URL('inputs.json', cli);
  const { walk, files } = JSON.parse(readFileSync(info, 'utf8'));
  const stale = changedSince(statSync(info).mtimeMs, walk, files);
  if (stale) process.stderr.write(`encumber: warning: ${stale} changed after the command line was built; this runs the build (dist/cli/). Rebuild with \`npm run build\`.\n`);
} catch (e) {
  process.stderr.write(`encumber: warning: cannot tell whether dist/cli/ is up to date: ${e instanceof Error ? e.message : e}\n`);
}

// Node 22.1+: keep V8's compiled code of the chunks on disk between runs (as tsc does); absent on Node 20.
module.enableCompileCache?.();
const { main } = await import(new URL('main.js', cli).href);
const code = await main(process.argv.slice(2));
// -1: a long-running command (serve) keeps the process alive.
if (code >= 0) process.exitCode = code;
