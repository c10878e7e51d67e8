/**
 * One table of fixture cases, each run through the CLI (`encumber attest
 * verify` / `record verify`, in process) and through the page (the
 * standalone build in headless Chromium: the same files dropped, the same
 * options set): both must give the expected verdict and error code.
 *
 * Cases: a live dev attestation (valid, wrong nonce, unknown measurement, no
 * root, nothing pinned), a record against it (valid, tampered), real AWS
 * Nitro documents (expired now, valid at their own time, debug, pinned PCR0,
 * a non-AWS root), real SEV-SNP reports with their certificates.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { runCli } from '../support/cli.ts';
import { fixturePath, readFixtureBytes, readFixtureJson } from '../support/fixtures.ts';
import { devMeasurements } from '../../src/cli/commands/measure.ts';
import { evidenceTimestamp } from '../../src/web/flow.ts';
import { verifyNitroDocument, AWS_NITRO_ROOT_G1_DER } from '../../src/attestation/nitro/index.ts';
import { toHex } from '../../src/crypto/encoding.ts';
import { act, browserSkip, buildStandalone, launch, readVerdict, settled, startEnclave, type Browser, type Enclave } from './support.ts';

interface Case {
  name: string;
  /** `record verify` when a record is given, else `attest verify`. */
  evidence: string;
  certs?: string[];
  record?: string;
  identity?: string;
  plcLogs?: string;
  root?: string;
  nonce?: string;
  at?: string;
  measurements?: string | 'any';
  allowDebug?: boolean;
  /** SEV-SNP: --min-tcb / the page's minimum-TCB field. */
  minTcb?: string;
  expect: { valid: boolean; code: string | null };
}

const skip = browserSkip;
let enclave: Enclave;
let browser: Browser;
let page: Page;
let standalone: { url: string; dir: string };
let dir: string;
const cases: Case[] = [];

const nitro = (name: string) => fixturePath('nitro', name);
const snp = (name: string) => ['report.bin', 'vcek.der', 'vlek.der', 'ask.der', 'asvk.der', 'ark.der'].map((f) => fixturePath('sev-snp', name, f)).filter((p) => {
  try {
    readFileSync(p);
    return true;
  } catch {
    return false;
  }
});
const docTime = (file: string) => evidenceTimestamp(new Uint8Array(readFileSync(file)))!.toISOString();

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'encumber-parity-'));
  enclave = await startEnclave();
  standalone = await buildStandalone();
  browser = await launch(() => []);
  page = await browser.context.newPage();

  // A live dev attestation for a nonce we chose, and the files a verifier would hold.
  const nonce = '5eed'.repeat(16);
  const put = (name: string, value: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
    return p;
  };
  const att = put('attestation.json', await (await fetch(`${enclave.server.url}/xrpc/dev.encumber.getAttestation?nonce=${nonce}`)).json());
  const identity = put('identity.json', await (await fetch(`${enclave.server.url}/xrpc/dev.encumber.getIdentity`)).json());
  const root = put('dev-root.pem', enclave.devRootPem);
  const pinned = put('measurements.json', devMeasurements());
  const other = put('other.json', { dev: [{ name: 'another build', pcrs: { '0': 'ab'.repeat(48) } }] });
  const record = put('signed.json', enclave.signed);
  const tampered = put('tampered.json', { ...enclave.signed.record, text: 'changed after signing' });
  const logs = put('logs.json', enclave.plcLogs);
  const dev = { evidence: att, root, nonce, measurements: pinned };

  const aws = nitro('marlin-aws-valid.cbor');
  const awsPcr0 = (() => {
    const v = verifyNitroDocument(readFixtureBytes('nitro', 'marlin-aws-valid.cbor'), { trustRoots: [AWS_NITRO_ROOT_G1_DER], at: new Date(docTime(aws)) });
    assert.ok(v.ok);
    return toHex(v.pcrs[0]!);
  })();
  const awsPin = put('aws-pin.json', { nitro: [{ name: 'marlin', pcrs: { '0': awsPcr0 } }] });
  const debugDoc = nitro('evervault-beta-debug-valid.cbor');
  const snpAt = readFixtureJson<{ at: string }>('sev-snp', 'expected.json').at;

  cases.push(
    { name: 'dev: live attestation, operator root, our nonce, our measurements', ...dev, expect: { valid: true, code: null } },
    { name: 'dev: another nonce', ...dev, nonce: '00'.repeat(32), expect: { valid: false, code: 'NonceMismatch' } },
    { name: 'dev: an unknown measurement', ...dev, measurements: other, expect: { valid: false, code: 'PcrMismatch' } },
    { name: 'dev: no dev root given', ...dev, root: undefined, expect: { valid: false, code: 'UntrustedRoot' } },
    { name: 'dev: nothing pinned', ...dev, measurements: undefined, expect: { valid: false, code: 'MeasurementNotPinned' } },
    // `record verify --evidence FILE` takes no --nonce (a file is not fresh): neither side checks one here.
    { name: 'record: signed 2 of 3, logs re-checked', ...dev, nonce: undefined, record, identity, plcLogs: logs, expect: { valid: true, code: null } },
    { name: 'record: tampered', ...dev, nonce: undefined, record: tampered, identity, plcLogs: logs, expect: { valid: false, code: 'EnclaveSignatureInvalid' } },
    { name: 'nitro: real AWS document, now (expired)', evidence: aws, measurements: 'any', expect: { valid: false, code: 'CertificateExpired' } },
    { name: 'nitro: real AWS document at its own time', evidence: aws, measurements: 'any', at: docTime(aws), expect: { valid: true, code: null } },
    { name: 'nitro: pinned PCR0 at its own time', evidence: aws, measurements: awsPin, at: docTime(aws), expect: { valid: true, code: null } },
    { name: 'nitro: debug enclave refused', evidence: debugDoc, measurements: 'any', at: docTime(debugDoc), expect: { valid: false, code: 'DebugEnclave' } },
    { name: 'nitro: debug enclave allowed', evidence: debugDoc, measurements: 'any', at: docTime(debugDoc), allowDebug: true, expect: { valid: true, code: null } },
    {
      name: 'nitro: a non-AWS root',
      evidence: nitro('marlin-custom-nonaws.cbor'),
      measurements: 'any',
      allowDebug: true,
      at: '2024-12-13T09:05:45.008Z',
      expect: { valid: false, code: 'UntrustedRoot' },
    },
    ...[
      // The TCB floor is on by default on both sides: these two run firmware below AMD-SB-3019 / AMD-SB-3020.
      ['milan-v2-vcek-virtee', { valid: false, code: 'TcbBelowFloor' }],
      ['genoa-v3-vcek-azure', { valid: false, code: 'TcbBelowFloor' }],
      ['milan-v3-vcek-azure', { valid: true, code: null }],
      ['milan-v2-vcek-gsg-debug', { valid: false, code: 'TcbBelowFloor' }],
      ['milan-v2-vlek-aws-anolis', { valid: false, code: 'CertificateExpired' }],
      ['neg-milan-v2-wrong-vcek', { valid: false, code: 'EvidenceSignatureInvalid' }],
    ].map(([name, expect]) => {
      const [report, ...certs] = snp(name as string);
      return { name: `sev-snp: ${name}`, evidence: report!, certs, measurements: 'any', at: snpAt, expect } as Case;
    }),
    ...[
      ['milan-v2-vcek-virtee', { valid: true, code: null }],
      ['milan-v2-vcek-gsg-debug', { valid: false, code: 'DebugEnclave' }],
    ].map(([name, expect]) => {
      const [report, ...certs] = snp(name as string);
      return { name: `sev-snp: ${name}, no TCB floor`, evidence: report!, certs, measurements: 'any', at: snpAt, minTcb: 'none', expect } as Case;
    }),
  );
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await enclave?.close();
  rmSync(standalone.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

async function viaCli(c: Case): Promise<{ valid: boolean; code: string | null }> {
  const args = c.record
    ? ['record', 'verify', c.record, '--identity', c.identity!, '--evidence', c.evidence, ...(c.plcLogs ? ['--plc-logs', c.plcLogs] : [])]
    : ['attest', 'verify', c.evidence];
  if (c.root) args.push('--root', c.root);
  if (c.nonce) args.push('--nonce', c.nonce);
  if (c.at) args.push('--at', c.at);
  if (c.measurements === 'any') args.push('--any-measurement');
  else if (c.measurements) args.push('--measurements', c.measurements);
  if (c.allowDebug) args.push('--allow-debug');
  if (c.minTcb) args.push('--min-tcb', c.minTcb);
  const r = await runCli([...args, '--json']);
  const j = JSON.parse(r.out[0]!) as { valid: boolean; error: { code: string } | null };
  assert.equal(r.code, j.valid ? 0 : 1);
  return { valid: j.valid, code: j.error?.code ?? null };
}

async function viaPage(c: Case): Promise<{ valid: boolean; code: string | null }> {
  await page.goto(standalone.url);
  await settled(page);
  if (c.root) await act(page, () => page.fill('#dev-root', readFileSync(c.root!, 'utf8')));
  if (c.nonce) await act(page, () => page.fill('#nonce', c.nonce!));
  if (c.at) await act(page, () => page.fill('#at-time', c.at!));
  if (c.measurements === 'any') await act(page, () => page.check('#any-measurement'));
  else if (c.measurements) await act(page, () => page.fill('#measurements', readFileSync(c.measurements as string, 'utf8')));
  if (c.allowDebug) await act(page, () => page.check('#allow-debug'));
  if (c.minTcb) await act(page, () => page.fill('#min-tcb', c.minTcb!));
  const files = [c.evidence, ...(c.certs ?? []), ...[c.identity, c.record, c.plcLogs].filter((f): f is string => !!f)];
  await act(page, () => page.setInputFiles('#files', files));
  const v = await readVerdict(page);
  assert.notEqual(v.verdict, 'pending', `${c.name}: the page checked something`);
  if (v.verdict === 'invalid') {
    // The failed row is the one the code names, shown red with a plain reason.
    assert.ok(v.rows.some((r) => r.status === 'fail'), `${c.name}: a red row`);
    assert.ok(v.reason.length > 0, `${c.name}: a reason`);
  }
  return { valid: v.verdict === 'valid', code: v.code || null };
}

test('the CLI and the page give the same verdicts on the same fixture cases', { skip }, async (t) => {
  assert.ok(cases.length >= 15);
  for (const c of cases) {
    await t.test(c.name, async () => {
      const cli = await viaCli(c);
      const web = await viaPage(c);
      assert.deepEqual(cli, c.expect, `CLI on ${c.name}`);
      assert.deepEqual(web, cli, `page on ${c.name}`);
    });
  }
  assert.deepEqual(browser.blocked, [], 'the standalone page fetched nothing');
});
