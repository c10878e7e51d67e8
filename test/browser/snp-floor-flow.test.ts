/**
 * The page's verification flow (src/web/flow.ts, the code the browser runs)
 * applies the SEV-SNP TCB floor by default, exactly as `attest verify` does:
 * same code (TcbBelowFloor naming the bulletin), a plain reason for it, and
 * the page's inputs for --min-tcb and --vmpl.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFlow, type FlowInput } from '../../src/web/flow.ts';
import { plainReason } from '../../src/web/explain.ts';
import { parseMinTcbSpec } from '../../src/attestation/sev-snp/tcb-floor.ts';
import { REPO_ROOT } from '../../src/enclave/program-digest.ts';
import { BELOW_FLOOR_AT_EXPECTED, SNP_AT, snpCerts, snpReport, VLEK_AT } from '../attestation/sev-snp/helpers.ts';

function input(name: string, o: Partial<FlowInput> = {}): FlowInput {
  return {
    evidence: { input: { evidence: snpReport(name) }, origin: { kind: 'file', name: 'report.bin' } },
    trust: {},
    measurements: 'any',
    at: SNP_AT,
    snpCerts: snpCerts(name),
    ...o,
  };
}

test('by default the page refuses every fixture below a floor, naming the bulletin; minTcb none gives the verdict without a floor', async () => {
  for (const [name, bulletin] of Object.entries(BELOW_FLOOR_AT_EXPECTED)) {
    const r = await runFlow(input(name));
    assert.equal(r.valid, false, name);
    assert.equal(r.error?.code, 'TcbBelowFloor', name);
    assert.ok(r.error!.message.includes(bulletin), r.error!.message);
    assert.equal(r.error?.check, 'tcb-floor');
    assert.match(plainReason(r.error!), /security bulletin/);
  }
  const none = await runFlow(input('milan-v2-vcek-virtee', { snpMinTcb: 'none' }));
  assert.equal(none.valid, true, JSON.stringify(none.error));
  assert.ok(none.warnings.some((w) => /TCB floor OFF/.test(w)));
  const custom = await runFlow(input('milan-v2-vcek-virtee', { snpMinTcb: parseMinTcbSpec('bl=7,tee=0,snp=14,ucode=72') }));
  assert.equal(custom.error?.code, 'TcbBelowFloor');
  assert.equal((await runFlow(input('milan-v3-vcek-azure'))).valid, true, 'Milan bl 4 / snp 24 / ucode 219 passes with the floor on');
});

test('the page expects VMPL 0 unless told otherwise', async () => {
  const vlek = (o: Partial<FlowInput>) => runFlow(input('milan-v3-vlek-aws-coco', { at: VLEK_AT, snpMinTcb: 'none', ...o }));
  assert.equal((await vlek({})).error?.code, 'VmplMismatch');
  assert.equal((await vlek({ snpVmpl: 1 })).valid, true);
});

test('the page has inputs for the minimum TCB and the VMPL, empty by default (floor on, VMPL 0)', () => {
  const html = readFileSync(join(REPO_ROOT, 'src', 'web', 'index.html'), 'utf8');
  for (const id of ['min-tcb', 'vmpl']) {
    const tag = new RegExp(`<input id="${id}"[^>]*>`).exec(html)?.[0];
    assert.ok(tag, `#${id}`);
    assert.ok(!/\bvalue=/.test(tag!), `#${id} starts empty`);
  }
});
