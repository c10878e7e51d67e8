/**
 * The architecture as a rule (docs/architecture.md): imports point down the
 * layers, there are no cycles between folders or files, the pure folders do
 * no I/O and run in a browser, and the graph in the docs is the real one.
 * Each check names the offending files so a failure says what to move.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cycles,
  impureGlobalUses,
  importEdges,
  isNodeBuiltin,
  isPureFile,
  LAYERS,
  layerOf,
  NATIVE_FAST_PATHS,
  rel,
  SRC,
  sourceFiles,
  unitGraph,
  unitOf,
} from '../../tools/import-graph.ts';
import { ARCHITECTURE_MD, withGraph } from '../../tools/architecture.ts';

const files = sourceFiles();
const { edges, external } = importEdges(files);

test('every folder of src/ is in exactly one layer', () => {
  const units = new Set(files.map((f) => unitOf(rel(f))));
  for (const u of units) {
    if (u === 'lexicons') continue; // JSON documents only
    assert.equal(LAYERS.filter((l) => l.includes(u)).length, 1, `src/${u}`);
  }
});

test('imports only point down the layers (or stay in their folder)', () => {
  const up = edges
    .filter((e) => !e.to.startsWith('..'))
    .filter((e) => layerOf(unitOf(e.to)) > layerOf(unitOf(e.from)))
    .map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(up, []);
});

test('imports from outside src/ are data files only (JSON)', () => {
  const outside = edges.filter((e) => e.to.startsWith('..') && !e.to.endsWith('.json')).map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(outside, []);
});

test('no cycles between folders', () => {
  const g = unitGraph(edges);
  const pairs = [...g].flatMap(([a, m]) => [...m.keys()].map((b): [string, string] => [a, b]));
  assert.deepEqual(cycles(g.keys(), pairs), []);
});

test('no cycles between files', () => {
  assert.deepEqual(
    cycles(
      files.map(rel),
      edges.map((e): [string, string] => [e.from, e.to]),
    ),
    [],
  );
});

test('pure folders import no Node built-in at run time', () => {
  const bad = files
    .map(rel)
    .filter(isPureFile)
    .flatMap((f) => (external.get(f) ?? []).filter((i) => isNodeBuiltin(i.specifier) && !i.typeOnly).map((i) => `${f}: ${i.specifier}`));
  assert.deepEqual(bad, []);
});

test('pure folders use no process, fetch, Buffer or timers', () => {
  const bad = files
    .filter((f) => isPureFile(rel(f)))
    .flatMap((f) => impureGlobalUses(f).map((u) => `${rel(f)}:${u.line}: ${u.name}`));
  assert.deepEqual(bad, []);
});

test('node:crypto is reached only by the listed native fast paths, never imported, in pure folders', () => {
  const reach = files
    .map(rel)
    .filter(isPureFile)
    .filter((f) => /getBuiltinModule/.test(readFileSync(join(SRC, f), 'utf8')));
  assert.deepEqual(reach.sort(), [...NATIVE_FAST_PATHS].sort());
});

test('the checker sees what it must: a fabricated upward import, cycle and impure global are caught', () => {
  // The rules above are only as good as the graph; check the graph reader on known facts of this tree.
  assert.ok(edges.some((e) => e.from === 'cli/commands/verify.ts' && e.to === 'verifier/signed-record.ts'), 'a known import is read');
  assert.ok(layerOf('cli') > layerOf('verifier') && layerOf('verifier') > layerOf('crypto'));
  assert.deepEqual(cycles(['a', 'b', 'c'], [['a', 'b'], ['b', 'c'], ['c', 'a']]), [['a', 'b', 'c']]);
  assert.ok(impureGlobalUses(join(SRC, 'http', 'json.ts')).some((u) => u.name === 'fetch'), 'the HTTP client uses fetch');
});

test('docs/architecture.md shows the current import graph (npm run architecture)', () => {
  const doc = readFileSync(ARCHITECTURE_MD, 'utf8');
  assert.equal(doc, withGraph(doc), 'the graph in docs/architecture.md is stale: run npm run architecture');
});
