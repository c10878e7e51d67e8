/** The Node flags and allocator environment of the image, read from its init (what the benches and the memory test use). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageNodeEnv, imageNodeFlags } from '../../enclave/image/node-flags.ts';

test('init runs node with a small young and a capped old generation, and two malloc arenas', () => {
  const flags = imageNodeFlags();
  assert.ok(flags.includes('--max-semi-space-size=4'), flags.join(' '));
  assert.ok(flags.some((f) => /^--max-old-space-size=\d+$/.test(f)), flags.join(' '));
  assert.deepEqual(imageNodeEnv(), { MALLOC_ARENA_MAX: '2' });
});

test('an init without the node line is an error, not an empty flag list', () => {
  assert.throws(() => imageNodeFlags('#!/bin/sh\nexec /bin/sh\n'), /no NODE=/);
  assert.deepEqual(imageNodeFlags('NODE="/usr/bin/node /encumber/encumber-enclave.mjs"'), []);
  assert.deepEqual(imageNodeEnv('export PATH=/bin\n'), {});
});
