/**
 * The build's command-line edges: SOURCE_DATE_EPOCH parsing, and the repin
 * logic over apt-cache output (the kernel follows linux-image-amd64 to its
 * new ABI package; a stanza without a SHA-256 is refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelPackageOf, parseAptStanza, repinned, sourceDateEpochFrom } from '../../enclave/image/cli.ts';
import type { DebPin } from '../../enclave/image/inputs.ts';

test('SOURCE_DATE_EPOCH: unset → 1; whole seconds within 32 bits; anything else refused', () => {
  assert.equal(sourceDateEpochFrom({}), 1);
  assert.equal(sourceDateEpochFrom({ SOURCE_DATE_EPOCH: '' }), 1);
  assert.equal(sourceDateEpochFrom({ SOURCE_DATE_EPOCH: '1700000000' }), 1700000000);
  for (const bad of ['-1', '1.5', '1e9', 'now', '4294967296', ' 1']) assert.throws(() => sourceDateEpochFrom({ SOURCE_DATE_EPOCH: bad }), /SOURCE_DATE_EPOCH/, bad);
});

const hex = (c: string) => c.repeat(64);
const stanza = (fields: Record<string, string>) => Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n\n';

test('apt-cache stanzas: first stanza only; kernel package from Depends', () => {
  assert.deepEqual(parseAptStanza('Package: a\nVersion: 1\n\nPackage: b\nVersion: 2\n'), { Package: 'a', Version: '1' });
  assert.equal(kernelPackageOf('linux-image-6.1.0-57-amd64 (= 6.1.200-1)'), 'linux-image-6.1.0-57-amd64');
  assert.throws(() => kernelPackageOf(''), /no kernel package/);
  assert.throws(() => kernelPackageOf('firmware-linux (>= 1)'), /no kernel package/);
});

test('repin: versions and digests from the candidates, the kernel renamed, roles kept; no SHA256 → refused', () => {
  const pins: DebPin[] = [
    { name: 'busybox-static', version: '1:1.35.0-4', arch: 'amd64', sha256: hex('a'), role: 'shell' },
    { name: 'linux-image-6.1.0-56-amd64', version: '6.1.192-2', arch: 'amd64', sha256: hex('b'), role: 'kernel' },
  ];
  const archive: Record<string, string> = {
    'busybox-static': stanza({ Package: 'busybox-static', Version: '1:1.35.0-5', SHA256: hex('c') }),
    'linux-image-amd64': stanza({ Package: 'linux-image-amd64', Version: '6.1.200-1', Depends: 'linux-image-6.1.0-57-amd64 (= 6.1.200-1)' }),
    'linux-image-6.1.0-57-amd64': stanza({ Package: 'linux-image-6.1.0-57-amd64', Version: '6.1.200-1', SHA256: hex('d') }),
  };
  const lines: string[] = [];
  const next = repinned(pins, (n) => parseAptStanza(archive[n] ?? ''), (l) => lines.push(l));
  assert.deepEqual(next, [
    { name: 'busybox-static', version: '1:1.35.0-5', arch: 'amd64', sha256: hex('c'), role: 'shell' },
    { name: 'linux-image-6.1.0-57-amd64', version: '6.1.200-1', arch: 'amd64', sha256: hex('d'), role: 'kernel' },
  ]);
  assert.equal(lines.length, 2);
  assert.throws(() => repinned(pins.slice(0, 1), () => ({ Version: '1' }), () => {}), /no Version\/SHA256/);
});
