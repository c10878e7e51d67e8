import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasCommand, skipUnlessCi, underCi } from './tools.ts';

test('a missing tool skips with its reason outside CI, and fails under CI', () => {
  assert.equal(skipUnlessCi(null, {}), false);
  assert.equal(skipUnlessCi(null, { CI: 'true' }), false);
  assert.match(skipUnlessCi('socat is not installed', {}) as string, /^socat is not installed — skipped here/);
  assert.match(skipUnlessCi('socat is not installed', { CI: 'false' }) as string, /^socat is not installed/);
  assert.throws(() => skipUnlessCi('socat is not installed', { CI: 'true' }), /under CI every test runs, but socat is not installed/);
  assert.throws(() => skipUnlessCi('cc is not installed', { CI: '1' }), /cc is not installed/);
});

test('underCi: set and not "false"/"0"', () => {
  assert.deepEqual([undefined, '', 'false', '0', 'true', '1', 'yes'].map((CI) => underCi({ CI })), [false, false, false, false, true, true, true]);
});

test('hasCommand: a command that runs and exits 0', () => {
  assert.equal(hasCommand(process.execPath, '--version'), true);
  assert.equal(hasCommand(process.execPath, '-e', 'process.exit(3)'), false);
  assert.equal(hasCommand('/nonexistent/encumber-no-such-tool'), false);
});
