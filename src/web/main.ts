/**
 * The page's controller: reads the form, the dropped files and the last live
 * check, runs the flow (flow.ts: the CLI's verifiers) and renders the report.
 * Re-runs on every change; a live check happens only when asked (or once on
 * load when the page is served by an enclave), each time with a fresh nonce.
 */
import { fromHex } from '../crypto/encoding.ts';
import { parseMeasurements, type MeasurementPin } from '../verifier/measurements.ts';
import type { SnpCerts } from '../attestation/evidence/snp-cert-table.ts';
import { parseMinTcbSpec } from '../attestation/sev-snp/tcb-floor.ts';
import { classifyFile, type Classified } from './inputs.ts';
import { evidenceTimestamp, runFlow, type FlowInput } from './flow.ts';
import { fetchEnclave, fetchNetworkRecord, type LiveCheck, type PageNetworkRecord } from './enclave.ts';
import { parseAtUri } from '../data/syntax/index.ts';
import { requestJson } from '../http/json.ts';
import { parsePolicy } from '../policy/policy.ts';
import type { PolicyPin } from '../verifier/policy-pin.ts';
import { renderProblem, renderReport } from './render.ts';

interface Dropped {
  name: string;
  c: Classified;
}

const state: {
  live?: LiveCheck;
  mode: 'live' | 'file';
  files: Dropped[];
  run: number;
  recordUri?: string | undefined;
  network?: PageNetworkRecord;
  /** The PLC logs box holds what a fetch filled in (replaced by the next fetch), not what the user gave. */
  autoLogs?: boolean;
} = {
  mode: 'live',
  files: [],
  run: 0,
};

const $ = <T extends HTMLElement = HTMLInputElement>(id: string): T => document.getElementById(id) as T;
const value = (id: string) => $<HTMLInputElement | HTMLTextAreaElement>(id).value.trim();
const ticked = (id: string) => $<HTMLInputElement>(id).checked;

class InputProblem extends Error {}

/** The member DIDs of an identity's policy (none when there is no identity yet or its policy does not parse). */
function policyMembers(identity: { policy: unknown } | undefined): string[] {
  try {
    return identity ? parsePolicy(identity.policy).policy.signers.map((s) => s.did) : [];
  } catch {
    return [];
  }
}

function parseJsonField(id: string, what: string): unknown {
  const text = value(id);
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputProblem(`${what} is not JSON: ${(e as Error).message}`);
  }
}

function measurementPin(): MeasurementPin | undefined {
  if (ticked('any-measurement')) return 'any';
  const m = parseJsonField('measurements', 'The measurements');
  if (m === undefined) return undefined;
  try {
    return { accept: parseMeasurements(m) };
  } catch (e) {
    throw new InputProblem((e as Error).message);
  }
}

/** The policy the user trusts (CID and/or repository DID), from the two fields. */
function policyPin(): PolicyPin | undefined {
  const cid = value('policy-cid');
  const repository = value('policy-repository');
  if (repository && !repository.startsWith('did:')) throw new InputProblem(`The repository to trust is a DID (did:plc:…), not "${repository}"`);
  if (!cid && !repository) return undefined;
  return { ...(cid ? { policyCid: cid } : {}), ...(repository ? { repository } : {}) };
}

function recordValue(): unknown {
  const r = parseJsonField('record', 'The record');
  // A signRecord answer carries the record under `record`.
  if (r && typeof r === 'object' && 'record' in r && 'receipt' in r) return (r as { record: unknown }).record;
  return r;
}

function plcLogs(): Record<string, unknown> | undefined {
  const v = parseJsonField('plc-logs', 'The PLC logs') as Record<string, unknown> | undefined;
  if (v === undefined) return undefined;
  const map = v && typeof v === 'object' && 'plcLogs' in v ? v.plcLogs : v;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new InputProblem('The PLC logs must be a JSON map DID → audit log (or a draft with plcLogs)');
  return map as Record<string, unknown>;
}

/** SEV-SNP: the TCB floor (empty = the AMD bulletins in force, the default) and the expected VMPL (empty = 0). */
function snpFloor(): Pick<FlowInput, 'snpMinTcb' | 'snpVmpl'> {
  const out: Pick<FlowInput, 'snpMinTcb' | 'snpVmpl'> = {};
  const spec = value('min-tcb');
  if (spec) {
    try {
      out.snpMinTcb = parseMinTcbSpec(spec);
    } catch (e) {
      throw new InputProblem((e as Error).message);
    }
  }
  const vmpl = value('vmpl');
  if (vmpl) {
    if (vmpl === 'any') out.snpVmpl = 'any';
    else if (/^[0-3]$/.test(vmpl)) out.snpVmpl = Number(vmpl);
    else throw new InputProblem(`VMPL: 0, 1, 2, 3 or any, not "${vmpl}"`);
  }
  return out;
}

function checkTime(): Date {
  const t = value('at-time');
  if (!t) return new Date();
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) throw new InputProblem(`"${t}" is not an ISO-8601 time`);
  return d;
}

function gather(): FlowInput {
  const last = <K extends Classified['kind']>(kind: K) =>
    state.files.map((f) => f.c).filter((c): c is Extract<Classified, { kind: K }> => c.kind === kind).at(-1);
  const fileEvidence = state.files.filter((f) => f.c.kind === 'evidence').at(-1);
  const snpCerts: SnpCerts = {};
  for (const f of state.files) if (f.c.kind === 'snp-certs') Object.assign(snpCerts, f.c.certs);
  const nonceHex = value('nonce');
  let nonce: Uint8Array | undefined;
  if (nonceHex) {
    try {
      nonce = fromHex(nonceHex);
    } catch {
      throw new InputProblem('The expected nonce is not hex');
    }
  }
  const input: FlowInput = {
    trust: { devRootPem: value('dev-root'), evidenceRoot: ticked('evidence-root') },
    at: checkTime(),
    allowDebug: ticked('allow-debug'),
    ...snpFloor(),
  };
  if (state.mode === 'file' && fileEvidence && fileEvidence.c.kind === 'evidence') {
    input.evidence = { input: fileEvidence.c.input, origin: { kind: 'file', name: fileEvidence.name } };
    const identity = last('identity');
    if (identity) input.identity = identity.identity;
    if (nonce) input.nonce = nonce;
  } else if (state.live) {
    input.evidence = state.live.evidence;
    input.identity = state.live.identity;
    if (state.live.guardLog) input.guardLog = state.live.guardLog;
    input.upgrades = state.live.upgrades;
  } else {
    const identity = last('identity');
    if (identity) input.identity = identity.identity;
  }
  const pin = measurementPin();
  if (pin) input.measurements = pin;
  const record = recordValue();
  if (record !== undefined) input.record = record;
  const logs = plcLogs();
  if (logs) input.plcLogs = logs;
  const trusted = policyPin();
  if (trusted) input.pin = trusted;
  if (record !== undefined && state.recordUri) {
    const { repository, collection, uri } = parseAtUri(state.recordUri);
    input.recordLocation = { repository, collection, uri };
  }
  if (state.network) input.recordSource = state.network.source;
  if (Object.keys(snpCerts).length > 0) input.snpCerts = snpCerts;
  return input;
}

async function verifyNow(): Promise<void> {
  const run = ++state.run;
  document.body.dataset.state = 'busy';
  try {
    const input = gather();
    const report = await runFlow(input);
    if (run !== state.run) return;
    renderReport(report);
    // A dev enclave fails on its root until the user accepts it: offer that, in words that say what it means.
    const devClaim = input.identity?.platform === 'dev' || (input.evidence?.input.binding as { platform?: unknown } | undefined)?.platform === 'dev';
    $('dev-tryout-box').hidden = !(report.error?.code === 'UntrustedRoot' && devClaim && !input.trust.evidenceRoot);
  } catch (e) {
    if (run !== state.run) return;
    renderReport({ empty: true, valid: false, platform: null, error: null, sections: [], warnings: [] });
    renderProblem(e instanceof InputProblem ? e.message : `Could not check: ${(e as Error).message}`);
  } finally {
    if (run === state.run) {
      document.body.dataset.run = String(run);
      document.body.dataset.state = 'done';
    }
  }
}

let timer: ReturnType<typeof setTimeout> | undefined;
function verifySoon(): void {
  clearTimeout(timer);
  document.body.dataset.state = 'busy';
  timer = setTimeout(() => void verifyNow(), 120);
}

async function checkEnclave(): Promise<void> {
  const status = $('fetch-status');
  const url = value('enclave-url');
  if (!url) {
    status.textContent = 'Enter the enclave URL first.';
    return;
  }
  document.body.dataset.state = 'busy';
  status.textContent = `Asking ${url} for its identity, a fresh attestation and what it publishes…`;
  try {
    state.live = await fetchEnclave(url);
    state.mode = 'live';
    const also = state.live.guardLog ? 'guard log, approved upgrades' : 'approved upgrades';
    status.textContent = `Fetched identity, attestation and ${also} from ${url} at ${new Date().toISOString()}.`;
    $('identity-json').textContent = JSON.stringify(state.live.identity, null, 2);
  } catch (e) {
    status.textContent = (e as Error).message;
    state.live = undefined;
  }
  await verifyNow();
}

async function addFiles(list: FileList | File[]): Promise<void> {
  for (const file of Array.from(list)) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const c = classifyFile(file.name, bytes);
    // Text inputs go into their fields, so what is checked is visible and editable.
    if (c.kind === 'root') $<HTMLTextAreaElement>('dev-root').value = c.pem;
    else if (c.kind === 'measurements') $<HTMLTextAreaElement>('measurements').value = new TextDecoder().decode(bytes);
    else if (c.kind === 'record') {
      $<HTMLTextAreaElement>('record').value = JSON.stringify(c.record, null, 2);
      state.recordUri = undefined;
    }
    else if (c.kind === 'plc-logs') $<HTMLTextAreaElement>('plc-logs').value = JSON.stringify(c.logs);
    else {
      state.files.push({ name: file.name, c });
      if (c.kind === 'evidence') state.mode = 'file';
    }
    const li = document.createElement('li');
    li.textContent = `${file.name}: ${c.summary}`;
    li.dataset.kind = c.kind;
    if (c.kind === 'unknown') li.className = 'unknown';
    $('file-list').append(li);
  }
  const ev = state.files.filter((f) => f.c.kind === 'evidence').at(-1);
  const ts = ev && ev.c.kind === 'evidence' ? evidenceTimestamp(ev.c.input.evidence) : undefined;
  const btn = $<HTMLButtonElement>('use-doc-time');
  btn.hidden = !ts;
  btn.dataset.time = ts?.toISOString() ?? '';
  await verifyNow();
}

async function offerPublishedMeasurements(): Promise<void> {
  if (!/^https?:$/.test(location.protocol)) return;
  try {
    const res = await requestJson(new URL('measurements.json', location.href), { init: { cache: 'no-store' } });
    if (res.status !== 200) return;
    parseMeasurements(res.body);
    const text = JSON.stringify(res.body, null, 2);
    const btn = $<HTMLButtonElement>('use-published');
    btn.hidden = false;
    btn.addEventListener('click', () => {
      $<HTMLTextAreaElement>('measurements').value = text;
      void verifyNow();
    });
  } catch {
    // none published with this page
  }
}

function wire(): void {
  $('check-enclave').addEventListener('click', () => void checkEnclave());
  $('enclave-url').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      void checkEnclave();
    }
  });
  for (const id of ['dev-root', 'measurements', 'record', 'plc-logs', 'nonce', 'at-time', 'min-tcb', 'vmpl', 'policy-cid', 'policy-repository']) $(id).addEventListener('input', verifySoon);
  // A record typed or pasted by hand is no longer the one fetched from the at:// URI.
  for (const id of ['record', 'at-uri']) {
    $(id).addEventListener('input', () => {
      state.recordUri = undefined;
      state.network = undefined;
    });
  }
  for (const id of ['evidence-root', 'any-measurement', 'allow-debug']) $(id).addEventListener('change', () => void verifyNow());
  $('dev-tryout').addEventListener('click', () => {
    $('evidence-root').checked = true;
    if (!value('measurements')) $('any-measurement').checked = true;
    void verifyNow();
  });
  $('use-doc-time').addEventListener('click', () => {
    $('at-time').value = $('use-doc-time').dataset.time ?? '';
    void verifyNow();
  });
  $('clear-files').addEventListener('click', () => {
    state.files = [];
    state.mode = 'live';
    $('file-list').replaceChildren();
    $('use-doc-time').hidden = true;
    void verifyNow();
  });
  $('fetch-record').addEventListener('click', async () => {
    const status = $('fetch-status');
    const uri = value('at-uri');
    status.textContent = `Resolving ${uri} …`;
    document.body.dataset.state = 'busy';
    // Only the co-signers the enclave's policy names: a record cannot make the page fetch more logs.
    const identityFile = state.files.map((f) => f.c).filter((c) => c.kind === 'identity').at(-1);
    const members = policyMembers(state.mode === 'file' && identityFile?.kind === 'identity' ? identityFile.identity : state.live?.identity);
    const got = await fetchNetworkRecord(uri, {
      plc: value('plc-url') || undefined,
      pds: value('pds-url') || undefined,
      handleResolver: value('handle-resolver') || undefined,
      at: new Date(),
      members,
    });
    state.network = got;
    // What was fetched before is never checked in place of this record: the box and the logs the page filled are replaced.
    $<HTMLTextAreaElement>('record').value = got.record === undefined ? '' : JSON.stringify(got.record, null, 2);
    state.recordUri = got.uri;
    if (state.autoLogs || !value('plc-logs')) {
      $<HTMLTextAreaElement>('plc-logs').value = got.plcLogs && Object.keys(got.plcLogs).length > 0 ? JSON.stringify(got.plcLogs) : '';
      state.autoLogs = true;
    }
    status.textContent = got.source.error
      ? `Could not verify ${uri}: ${got.source.error.code} (asked: ${got.contacted.join(', ') || 'nobody'}).`
      : `Fetched and proved ${got.uri} (asked: ${got.contacted.join(', ')}).`;
    await verifyNow();
  });
  // Logs typed or dropped by the user are theirs: a later fetch leaves them alone.
  $('plc-logs').addEventListener('input', () => (state.autoLogs = false));

  const zone = $('dropzone');
  const files = $('files');
  // A <button>: Enter and Space click it.
  zone.addEventListener('click', () => files.click());
  files.addEventListener('change', () => {
    if (files.files) void addFiles(files.files).then(() => (files.value = ''));
  });
  // A file dropped anywhere must not navigate away from the page.
  window.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  window.addEventListener('dragleave', () => zone.classList.remove('over'));
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer?.files.length) void addFiles(e.dataTransfer.files);
  });
}

async function start(): Promise<void> {
  wire();
  document.body.dataset.run = '0';
  // Served by an enclave (or any http origin): offer it, and check it once if it answers.
  if (/^https?:$/.test(location.protocol)) {
    const base = new URL('./', location.href).toString();
    $('enclave-url').value = base;
    void offerPublishedMeasurements();
    const probe = await requestJson(new URL('xrpc/_health', base), { init: { cache: 'no-store' } }).then((r) => r.status === 200, () => false);
    if (probe) return checkEnclave();
    $('fetch-status').textContent = 'No enclave answers at this page\'s origin: enter the enclave URL above.';
  }
  document.body.dataset.state = 'done';
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => void start());
else void start();
