/**
 * The pinned npm files are enough for libsecp256k1 in the image: written out
 * at their image paths (and nothing else from node_modules), a bundle at
 * /encumber/encumber-enclave.mjs resolves 'secp256k1/bindings' there, loads
 * the pinned glibc linux-x64 .node (not elliptic: the package's index.js is
 * not in the image) and signs and verifies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { npmImageFiles } from '../../enclave/image/npm-files.ts';

test('the pinned secp256k1 and node-gyp-build files load libsecp256k1 from the bundle\'s place in the image', () => {
  const root = mkdtempSync(join(tmpdir(), 'image-npm-'));
  try {
    const files = npmImageFiles();
    const paths = files.map((f) => f.path);
    // The binding's loader chain only: no index.js, no elliptic (the fall-back the project never wants).
    assert.deepEqual(
      paths.filter((p) => p.startsWith('node_modules/secp256k1/')).sort(),
      ['LICENSE', 'bindings.js', 'lib/index.js', 'lib/uint8array.js', 'package.json', 'prebuilds/linux-x64/secp256k1.glibc.node'].map((p) => `node_modules/secp256k1/${p}`),
    );
    for (const f of files) {
      mkdirSync(dirname(join(root, f.path)), { recursive: true });
      writeFileSync(join(root, f.path), f.data);
    }
    mkdirSync(join(root, 'encumber'));
    const bundle = join(root, 'encumber', 'encumber-enclave.mjs');
    writeFileSync(bundle, '');
    const script = `const load = require('node:module').createRequire(process.argv[1]);
      const b = load('secp256k1/bindings');
      const k = new Uint8Array(32).fill(7), m = new Uint8Array(32).fill(1);
      const { signature } = b.ecdsaSign(m, k);
      const natives = Object.keys(require.cache).filter((p) => p.endsWith('.node'));
      console.log(JSON.stringify({ ok: b.ecdsaVerify(signature, m, b.publicKeyCreate(k)), natives }));`;
    // Run from an empty directory so nothing resolves from the repository's node_modules.
    const r = spawnSync(process.execPath, ['-e', script, bundle], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { ok: true, natives: [join(root, 'node_modules/secp256k1/prebuilds/linux-x64/secp256k1.glibc.node')] });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
