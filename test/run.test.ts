import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allTestFiles, E2E, LONG_FIRST, longFirst, testEnv, tierFiles, typeScriptLoader } from './run.ts';

test('the tiers split the test files: each in exactly one of unit and e2e, together all of them', () => {
  const files = allTestFiles();
  const unit = tierFiles('unit', files);
  const e2e = tierFiles('e2e', files);
  assert.ok(unit.length > 0 && e2e.length > 0);
  assert.deepEqual([...unit, ...e2e].sort(), files);
  assert.deepEqual(tierFiles('all', files), files);
  assert.ok(unit.includes('test/run.test.ts'));
  assert.deepEqual(files.filter((f) => f.includes('node_modules')), [], 'installed packages\' own tests (test/pds/node_modules) are never ours');
  for (const entry of E2E) assert.ok(e2e.some((f) => f === entry || f.startsWith(entry)), entry);
});

test('a folder entry takes the files under it; an entry that names no file is an error', () => {
  const files = ['test/a/x.test.ts', 'test/b/y.test.ts', 'test/b/z.test.ts'];
  assert.deepEqual(tierFiles('e2e', files, ['test/b/']), ['test/b/y.test.ts', 'test/b/z.test.ts']);
  assert.deepEqual(tierFiles('unit', files, ['test/b/']), ['test/a/x.test.ts']);
  assert.deepEqual(tierFiles('e2e', files, ['test/a/x.test.ts']), ['test/a/x.test.ts']);
  assert.throws(() => tierFiles('unit', files, ['test/a/x.test.ts', 'test/gone.test.ts']), /E2E names no test file: test\/gone\.test\.ts/);
});

test('a Node that strips types runs the tests without a loader; an older one gets tsx', () => {
  assert.deepEqual(typeScriptLoader({ typescript: 'strip' }), []);
  assert.deepEqual(typeScriptLoader({ typescript: false }), ['--import', 'tsx']);
  assert.deepEqual(typeScriptLoader({}), ['--import', 'tsx']);
});

test('the longest files start first; the order changes, the set does not', () => {
  const files = ['test/a.test.ts', 'test/b.test.ts', 'test/c.test.ts'];
  assert.deepEqual(longFirst(files, ['test/c.test.ts', 'test/gone.test.ts']), ['test/c.test.ts', 'test/a.test.ts', 'test/b.test.ts']);
  const unit = tierFiles('unit', allTestFiles());
  assert.deepEqual(longFirst(unit).sort(), [...unit].sort());
  for (const f of LONG_FIRST) assert.ok(unit.includes(f), `${f} is a unit-tier file`);
});

test('the test processes share V8\'s compile cache under the build cache, unless one is chosen', () => {
  assert.equal(testEnv({ ENCUMBER_BUILD_CACHE: '/c' }).NODE_COMPILE_CACHE, '/c/node-compile-cache');
  assert.equal(testEnv({ NODE_COMPILE_CACHE: '/mine' }).NODE_COMPILE_CACHE, '/mine');
});
