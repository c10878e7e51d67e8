/**
 * The check of the host's boot document (enclave/image/rootfs/usr/lib/encumber/boot-input.ts), which /init runs
 * before the service starts: every member checked, anything else refused (BootInputError, never another error),
 * the dev root for dev only; run as /init runs it, it writes the dev root the service then loads and prints the
 * join URL. The image test (test/image/rootfs-nitro.test.ts) runs /init's fetch around it in the image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { createDevRoot } from '../../src/attestation/dev/root.ts';
import { loadOrCreateDevRoot } from '../../src/enclave/platforms.ts';
import { BootInputError, checkBootDocument, MAX_BOOT_DOCUMENT } from '../../enclave/image/rootfs/usr/lib/encumber/boot-input.ts';
import { applyMutation, mutationArb } from '../support/byte-mutations.ts';
import { REPO_ROOT, tempDir } from '../support/fixtures.ts';
import { typeScriptLoader } from '../run.ts';

const SCRIPT = join(REPO_ROOT, 'enclave', 'image', 'rootfs', 'usr', 'lib', 'encumber', 'boot-input.ts');
const devRoot = createDevRoot({ now: new Date(), validityDays: 1 }).exportWithPrivateKey();
const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const refused = (platform: string, doc: unknown, why: RegExp) =>
  assert.throws(() => checkBootDocument(platform, bytes(doc)), (e: unknown) => e instanceof BootInputError && why.test(e.message));

test('a boot document: join (every platform), devRoot (dev), both, or neither', () => {
  assert.deepEqual(checkBootDocument('dev', bytes({})), {});
  for (const platform of ['dev', 'nitro', 'sev-snp']) {
    assert.deepEqual(checkBootDocument(platform, bytes({ join: 'http://10.0.2.101:8080' })), { join: 'http://10.0.2.101:8080' });
  }
  assert.deepEqual(checkBootDocument('nitro', bytes({ join: 'http://127.0.0.1:8002' })), { join: 'http://127.0.0.1:8002' });
  assert.deepEqual(checkBootDocument('sev-snp', bytes({ join: 'https://enclave.example.org/' })), { join: 'https://enclave.example.org/' });
  assert.deepEqual(checkBootDocument('dev', bytes({ devRoot })), { devRoot });
  assert.deepEqual(checkBootDocument('dev', bytes({ join: 'http://[::1]:8080', devRoot })), { join: 'http://[::1]:8080', devRoot });
});

test('the dev root is refused on nitro and sev-snp, however well-formed', () => {
  for (const platform of ['nitro', 'sev-snp']) {
    refused(platform, { devRoot }, /devRoot is for the dev platform only/);
    refused(platform, { join: 'http://10.0.0.5:8080', devRoot }, /devRoot is for the dev platform only/);
  }
});

test('a join URL that is not a plain http(s) URL is refused', () => {
  const cases: Array<[unknown, RegExp]> = [
    [8080, /join must be a string/],
    [null, /join must be a string, got null/],
    ['', /1\.\.2048 characters/],
    [`http://h/${'a'.repeat(2048)}`, /1\.\.2048 characters/],
    ['http://10.0.0.5:8080 --allow-demo-policy', /printable ASCII without spaces/],
    ['http://10.0.0.5:8080\n--policy', /printable ASCII without spaces/],
    ['http://é.example', /printable ASCII/],
    ['ftp://10.0.0.5/', /http\(s\) URL, got ftp:/],
    ['file:///etc/passwd', /http\(s\) URL/],
    ['10.0.0.5:8080', /http\(s\) URL|not a URL/],
    ['http://', /not a URL/],
    ['http://user:pw@10.0.0.5:8080', /credentials/],
  ];
  for (const [join, why] of cases) refused('dev', { join }, why);
});

test('anything but the two members, or not one JSON object, is refused', () => {
  refused('dev', { join: 'http://h', policy: {} }, /unknown members: policy/);
  refused('dev', { devRoot: { ...devRoot, extra: 1 } }, /devRoot has unknown members: extra/);
  refused('dev', { devRoot: { certificate: devRoot.certificate } }, /privateKey must be a string/);
  refused('dev', { devRoot: { certificate: devRoot.privateKey, privateKey: devRoot.privateKey } }, /certificate is not one PEM "CERTIFICATE" block/);
  refused('dev', { devRoot: { certificate: devRoot.certificate + devRoot.certificate, privateKey: devRoot.privateKey } }, /not one PEM/);
  refused('dev', { devRoot: [] }, /devRoot must be an object/);
  for (const doc of ['[]', 'null', '"http://h"', '1', '{', '']) refused('dev', doc, /JSON/);
  assert.throws(() => checkBootDocument('dev', new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), /not JSON \(UTF-8\)/);
  refused('dev', { join: 'http://h', pad: 'x'.repeat(MAX_BOOT_DOCUMENT) }, /larger than 16384 bytes/);
  refused('tdx', {}, /unknown platform tdx/);
});

test('a mutated boot document is refused with BootInputError or yields only checked values', () => {
  const valid = bytes({ join: 'http://10.0.2.101:8080', devRoot });
  fc.assert(
    fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (mutations) => {
      const doc = mutations.reduce(applyMutation, valid);
      try {
        const out = checkBootDocument('dev', doc);
        // Whatever passes passes the checks again on its own.
        if (out.join !== undefined) assert.deepEqual(checkBootDocument('dev', bytes({ join: out.join })), { join: out.join });
        if (out.devRoot !== undefined) assert.deepEqual(checkBootDocument('dev', bytes({ devRoot: out.devRoot })).devRoot, out.devRoot);
      } catch (e) {
        assert.ok(e instanceof BootInputError, `${(e as Error).name}: ${(e as Error).message}`);
      }
    }),
    { numRuns: 300 },
  );
});

test('run as /init runs it: the dev root lands where the service loads it, the URL on stdout; a refusal exits 1', () => {
  const dir = tempDir('encumber-boot-input-');
  const run = (platform: string, doc: unknown) => {
    writeFileSync(join(dir, 'boot.json'), typeof doc === 'string' ? doc : JSON.stringify(doc));
    return spawnSync(process.execPath, [...typeScriptLoader(), SCRIPT, platform, join(dir, 'boot.json'), dir], { encoding: 'utf8', cwd: REPO_ROOT });
  };
  const ok = run('dev', { join: 'http://10.0.2.101:8080', devRoot });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, 'http://10.0.2.101:8080\n');
  assert.equal(statSync(join(dir, 'dev-root.json')).mode & 0o777, 0o600);
  const loaded = loadOrCreateDevRoot(dir, new Date());
  assert.equal(loaded.created, false);
  assert.equal(loaded.root.pem, devRoot.certificate);

  // Never over a dev root already there; nothing printed, so no join either.
  const again = run('dev', { join: 'http://10.0.2.101:8080', devRoot });
  assert.deepEqual([again.status, again.stdout], [1, '']);
  assert.match(again.stderr, /boot document refused: .*EEXIST/);
  assert.equal(readFileSync(join(dir, 'dev-root.json'), 'utf8'), JSON.stringify(devRoot, null, 2) + '\n');

  const nothing = run('dev', {});
  assert.deepEqual([nothing.status, nothing.stdout], [0, '']);
  const hardware = run('sev-snp', { devRoot });
  assert.deepEqual([hardware.status, hardware.stdout], [1, '']);
  assert.match(hardware.stderr, /boot document refused: devRoot is for the dev platform only, not sev-snp/);
  const bad = run('nitro', { join: 'http://10.0.0.5:8080 x' });
  assert.deepEqual([bad.status, bad.stdout], [1, '']);
  assert.equal(spawnSync(process.execPath, [...typeScriptLoader(), SCRIPT, 'dev'], { encoding: 'utf8', cwd: REPO_ROOT }).status, 2);
});
