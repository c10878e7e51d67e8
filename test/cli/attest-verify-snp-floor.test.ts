/**
 * The SEV-SNP TCB floor and VMPL through the command line: `attest verify`
 * (and `rebuild --compare`, which checks the evidence before it builds)
 * refuse firmware below an AMD bulletin in force at --at and name it;
 * --min-tcb SPEC replaces the table, --min-tcb none disables it; --vmpl
 * changes the expected VMPL (default 0). The list of fixtures below a floor
 * is the one docs/attestation.md gives (tcb-floor.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturePath, readFixtureBytes, readFixtureJson, tempDir } from '../support/fixtures.ts';
import { runCli } from '../support/cli.ts';
import { encodeSnpCertTable, joinSnpEvidence } from '../../src/attestation/evidence/snp-cert-table.ts';
import { BELOW_FLOOR_AT_EXPECTED, BELOW_FLOOR_AT_VLEK } from '../attestation/sev-snp/helpers.ts';

const expected = readFixtureJson<{ at: string; cases: Record<string, string> }>('sev-snp', 'expected.json');
const VLEK_AT = '2025-03-01T00:00:00Z';
const report = (name: string) => fixturePath('sev-snp', name, 'report.bin');

async function verify(name: string, ...flags: string[]) {
  const r = await runCli(['attest', 'verify', report(name), '--any-measurement', '--json', ...flags]);
  return { code: r.code, j: r.code === 2 ? null : JSON.parse(r.out[0]!), err: r.err };
}

for (const [name, bulletin] of Object.entries(BELOW_FLOOR_AT_EXPECTED)) {
  test(`attest verify ${name} at ${expected.at}: below ${bulletin} by default, its own verdict with --min-tcb none`, async () => {
    const floor = await verify(name, '--at', expected.at);
    assert.equal(floor.code, 1);
    assert.equal(floor.j.error.code, 'TcbBelowFloor');
    assert.ok(floor.j.error.message.includes(bulletin), floor.j.error.message);
    const none = await verify(name, '--at', expected.at, '--min-tcb', 'none');
    assert.equal(none.code, expected.cases[name] === 'PASS' ? 0 : 1, JSON.stringify(none.j.error));
    assert.notEqual(none.j.error?.code, 'TcbBelowFloor');
  });
}

test('the fixtures not listed keep their verdict with the floor on', async () => {
  for (const [name, verdict] of Object.entries(expected.cases)) {
    if (BELOW_FLOOR_AT_EXPECTED[name]) continue;
    const r = await verify(name, '--at', expected.at, ...(name.includes('vlek') ? ['--vmpl', '1'] : []));
    assert.equal(r.code, verdict === 'PASS' ? 0 : 1, `${name}: ${JSON.stringify(r.j.error)}`);
    assert.notEqual(r.j.error?.code, 'TcbBelowFloor', name);
  }
});

test('VLEK reports at 2025-03-01: VMPL 1 needs --vmpl 1 (VmplMismatch), then AMD-SB-3019 applies', async () => {
  for (const [name, bulletin] of Object.entries(BELOW_FLOOR_AT_VLEK)) {
    assert.equal((await verify(name, '--at', VLEK_AT, '--min-tcb', 'none')).j.error.code, 'VmplMismatch');
    assert.equal((await verify(name, '--at', VLEK_AT, '--min-tcb', 'none', '--vmpl', '1')).code, 0);
    assert.equal((await verify(name, '--at', VLEK_AT, '--min-tcb', 'none', '--vmpl', 'any')).code, 0);
    const floor = await verify(name, '--at', VLEK_AT, '--vmpl', '1');
    assert.equal(floor.j.error.code, 'TcbBelowFloor');
    assert.ok(floor.j.error.message.includes(bulletin));
  }
});

test('--min-tcb SPEC replaces the table; a malformed SPEC or --vmpl is a usage error (exit 2)', async () => {
  const at = ['--at', expected.at];
  assert.equal((await verify('milan-v2-vcek-virtee', ...at, '--min-tcb', 'bl=3,tee=0,snp=8,ucode=115')).code, 0);
  const high = await verify('milan-v2-vcek-virtee', ...at, '--min-tcb', 'bl=7,tee=0,snp=14,ucode=72');
  assert.equal(high.j.error.code, 'TcbBelowFloor');
  assert.equal((await verify('genoa-v3-vcek-azure', ...at, '--min-tcb', '{"Genoa":{"snp":23,"microcode":84}}')).code, 0);
  for (const bad of [['--min-tcb', 'bl=x'], ['--min-tcb', 'speed=1'], ['--min-tcb', '{"Rome":{"snp":1}}'], ['--vmpl', '4'], ['--vmpl', 'all']]) {
    const r = await verify('milan-v2-vcek-virtee', ...at, ...bad);
    assert.equal(r.code, 2, bad.join(' '));
  }
});

test('rebuild --compare refuses SEV-SNP evidence below the floor before building; --vmpl and --min-tcb reach it', async () => {
  const dir = tempDir('snp-floor-rebuild-');
  const withTable = (name: string, leaf: 'vcek' | 'vlek', inter: 'ask' | 'asvk') => {
    const file = join(dir, `${name}.bin`);
    const table = encodeSnpCertTable({
      [leaf]: readFixtureBytes('sev-snp', name, `${leaf}.der`),
      ask: readFixtureBytes('sev-snp', name, `${inter}.der`),
      ark: readFixtureBytes('sev-snp', name, 'ark.der'),
    });
    writeFileSync(file, joinSnpEvidence(readFixtureBytes('sev-snp', name, 'report.bin'), table));
    return file;
  };
  const rebuild = async (file: string, ...flags: string[]) => {
    const r = await runCli(['rebuild', '--compare', file, '--build-dir', dir, '--json', ...flags]);
    assert.equal(r.code, 1, r.out.join('\n') + r.err.join('\n'));
    const j = JSON.parse(r.out[0]!);
    assert.equal(j.checks[0].name, 'attestation');
    assert.equal(j.checks[0].ok, false);
    return j.checks[0].detail as string;
  };
  const virtee = withTable('milan-v2-vcek-virtee', 'vcek', 'ask');
  const d = await rebuild(virtee, '--at', expected.at);
  assert.match(d, /^TcbBelowFloor: .*AMD-SB-3019/);
  const vlek = withTable('milan-v3-vlek-aws-coco', 'vlek', 'asvk');
  assert.match(await rebuild(vlek, '--at', VLEK_AT, '--min-tcb', 'none'), /^VmplMismatch: /);
  assert.match(await rebuild(vlek, '--at', VLEK_AT, '--vmpl', '1', '--min-tcb', 'ucode=218'), /^TcbBelowFloor: .*--min-tcb/);
});
