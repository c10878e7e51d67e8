/**
 * Verifier tools: `attest verify` and `record verify`. Exit 0 valid,
 * 1 invalid, 2 usage/IO. `--json` prints { valid, platform, checks, error }.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { detectEvidence } from '../../attestation/evidence/detect.ts';
import { parseSnpCertTable, type SnpCertName, type SnpCerts } from '../../attestation/evidence/snp-cert-table.ts';
import { randomBytes } from 'node:crypto';
import { fromHex } from '../../crypto/encoding.ts';
import { verifyEvidence, type EvidenceInput, type EvidenceOptions, type EvidenceVerdict } from '../../verifier/evidence.ts';
import { verifyPublishedRecord, type Identity } from '../../verifier/record.ts';
import { parseMeasurements, type MeasurementPin } from '../../verifier/measurements.ts';
import { isPinned, POLICY_PIN_CHECK, type PolicyPin } from '../../verifier/policy-pin.ts';
import { isValidDid, isValidNsid, isValidRecordKey } from '../../data/syntax/index.ts';
import { CID } from '../../data/cid.ts';
import type { AttestationCheck } from '../../attestation/types.ts';
import { EXIT_INVALID, EXIT_OK, UsageProblem, type CliIo } from '../io.ts';
import { snpFloorOptions } from '../snp-options.ts';

export interface AttestFlags {
  root?: string;
  certs?: string[];
  binding?: string;
  at?: string;
  expectPcr0?: string;
  measurements?: string;
  anyMeasurement?: boolean;
  nonce?: string;
  allowDebug?: boolean;
  /** SEV-SNP: TCB floor SPEC or none (--min-tcb), expected VMPL (--vmpl); see ../snp-options.ts. */
  minTcb?: string;
  vmpl?: string;
  /** The policy the verifier trusts: its CID, and/or the repository it must govern. */
  policyCid?: string;
  repository?: string;
  json?: boolean;
}

/** --policy-cid / --repository, checked for form (a pin that cannot match is a usage error). */
function policyPin(flags: AttestFlags): PolicyPin {
  const pin: PolicyPin = {};
  if (flags.policyCid !== undefined) {
    try {
      pin.policyCid = CID.parse(flags.policyCid).toString();
    } catch {
      throw new UsageProblem(`--policy-cid: not a CID: ${flags.policyCid}`);
    }
  }
  if (flags.repository !== undefined) {
    if (!isValidDid(flags.repository)) throw new UsageProblem(`--repository: not a DID: ${flags.repository}`);
    pin.repository = flags.repository;
  }
  return pin;
}

/** Lines a reader must not miss: every passing row that says NOT (not pinned, not checked). */
function warningsOf(checks: AttestationCheck[]): string[] {
  return checks.filter((c) => c.ok && /\bNOT\b/.test(c.detail)).map((c) => `${c.name}: ${c.detail}`);
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UsageProblem(`cannot read ${path}: ${(e as Error).message}`);
  }
}

async function evidenceOptions(flags: AttestFlags): Promise<EvidenceOptions> {
  const at = flags.at ? new Date(flags.at) : new Date();
  if (Number.isNaN(at.getTime())) throw new UsageProblem(`--at: not an ISO-8601 time: ${flags.at}`);
  const hex = (s: string, what: string) => {
    try {
      return fromHex(s);
    } catch {
      throw new UsageProblem(`${what}: not hex`);
    }
  };
  return {
    at,
    ...(flags.root ? { roots: new TextDecoder().decode(await readBytes(flags.root)) } : {}),
    ...(flags.nonce ? { nonce: hex(flags.nonce, '--nonce') } : {}),
    ...(flags.allowDebug ? { allowDebug: true } : {}),
    ...(await measurementPin(flags)),
    ...snpFloorOptions(flags),
  };
}

/** --measurements FILE, --expect-pcr0 HEX, or an explicit --any-measurement; nothing means "not pinned". */
async function measurementPin(flags: AttestFlags): Promise<{ measurements?: MeasurementPin }> {
  const given = [flags.measurements, flags.expectPcr0, flags.anyMeasurement].filter(Boolean).length;
  if (given > 1) throw new UsageProblem('give one of --measurements, --expect-pcr0, --any-measurement');
  if (flags.anyMeasurement) return { measurements: 'any' };
  if (flags.expectPcr0) {
    const pcr0 = flags.expectPcr0.toLowerCase();
    if (!/^[0-9a-f]{96}$/.test(pcr0)) throw new UsageProblem('--expect-pcr0: 48 bytes of hex');
    const set = { name: '--expect-pcr0', pcrs: { '0': pcr0 } };
    return { measurements: { accept: { nitro: [set], dev: [set], 'sev-snp': [] } } };
  }
  if (flags.measurements) {
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(await readBytes(flags.measurements)));
    } catch (e) {
      if (e instanceof UsageProblem) throw e;
      throw new UsageProblem(`${flags.measurements} is not JSON`);
    }
    try {
      return { measurements: { accept: parseMeasurements(value) } };
    } catch (e) {
      throw new UsageProblem(`${flags.measurements}: ${(e as Error).message}`);
    }
  }
  return {};
}

/** Evidence file: raw COSE bytes, or a getAttestation JSON response (then the binding is checked too). */
function parseEvidenceFile(bytes: Uint8Array): EvidenceInput {
  if (bytes[0] === 0x7b /* { */) {
    let j: Record<string, any>;
    try {
      j = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new UsageProblem('evidence file starts with "{" but is not JSON');
    }
    if (typeof j.evidence?.$bytes !== 'string') throw new UsageProblem('JSON evidence file must be a getAttestation response');
    return { evidence: new Uint8Array(Buffer.from(j.evidence.$bytes, 'base64')), binding: j.binding, bindingCid: j.bindingCid };
  }
  return { evidence: bytes };
}

const CERT_FILES: Record<string, SnpCertName> = {
  'vcek.der': 'vcek',
  'vlek.der': 'vlek',
  'ask.der': 'ask',
  'asvk.der': 'ask',
  'ark.der': 'ark',
};

/**
 * Certificates for an SNP report that carries none: --certs DIR or FILE...
 * (DER files named vcek/vlek/ask/asvk/ark.der, or a certificate table), else
 * the same files next to the report (the layout of the shared fixtures).
 */
async function snpCertsFor(reportFile: string, given: string[]): Promise<SnpCerts> {
  const sources = given.length > 0 ? given : [dirname(reportFile)];
  const certs: SnpCerts = {};
  for (const src of sources) {
    const info = await stat(src).catch(() => undefined);
    if (!info) throw new UsageProblem(`--certs: ${src} does not exist`);
    const files = info.isDirectory() ? (await readdir(src)).map((f) => join(src, f)) : [src];
    for (const f of files) {
      const name = CERT_FILES[basename(f)];
      if (name) certs[name] = await readBytes(f);
      else if (!info.isDirectory()) {
        try {
          Object.assign(certs, parseSnpCertTable(await readBytes(f)));
        } catch {
          throw new UsageProblem(`--certs: ${f} is neither vcek/vlek/ask/asvk/ark.der nor a certificate table`);
        }
      }
    }
  }
  return certs;
}

function printChecks(io: CliIo, checks: AttestationCheck[]): void {
  for (const c of checks) io.out(`${c.ok ? (c.skipped ? '  -  ' : '  ok ') : ' FAIL'} ${c.name}: ${c.detail}`);
}

export async function attestVerify(file: string, flags: AttestFlags, io: CliIo): Promise<number> {
  const input = parseEvidenceFile(await readBytes(file));
  if (flags.binding) {
    const b = parseJsonFile(await readBytes(flags.binding), flags.binding) as Record<string, unknown>;
    // A getIdentity/getAttestation answer, or the binding document itself.
    input.binding = 'binding' in b ? b.binding : b;
    if (typeof b.bindingCid === 'string') input.bindingCid = b.bindingCid;
    if ('policy' in b && typeof b.policyCid === 'string') input.policy = b.policy;
  }
  const opts = await evidenceOptions(flags);
  opts.policyPin = policyPin(flags);
  if (detectEvidence(input.evidence) === 'sev-snp') {
    const certs = await snpCertsFor(file, flags.certs ?? []);
    if (Object.keys(certs).length > 0) opts.snpCerts = certs;
  }
  const verdict = await verifyEvidence(input, opts);
  report(io, verdict, flags.json);
  return verdict.ok ? EXIT_OK : EXIT_INVALID;
}

function report(io: CliIo, v: EvidenceVerdict, json?: boolean) {
  const policyPinned = v.checks.some((c) => c.name === POLICY_PIN_CHECK && c.ok && !c.skipped);
  const scope = v.ok ? v.scope : null;
  if (json) {
    io.out(JSON.stringify({ valid: v.ok, platform: v.platform ?? null, scope, policyPinned, warnings: warningsOf(v.checks), checks: v.checks, error: v.ok ? null : v.error }));
    return;
  }
  printChecks(io, v.checks);
  if (!v.ok) {
    io.out(`invalid: ${v.error.code}: ${v.error.message}`);
    return;
  }
  const what =
    v.scope === 'platform-and-measurement'
      ? 'platform and measurement only (no binding given: no enclave key, binding or policy checked)'
      : policyPinned
        ? 'key, binding and pinned policy'
        : 'key and binding; policy NOT pinned';
  io.out(`valid: ${v.platform} attestation${v.platform === 'dev' ? ' (NOT hardware-backed)' : ''}: ${what}`);
}

export interface RecordVerifyFlags extends AttestFlags {
  identity: string;
  evidence?: string;
  /** Skip the attestation check on purpose (an identity file you already trust). */
  trustIdentity?: boolean;
  /** Co-signers' audit logs: a JSON map DID → log, or a draft/answer file with `plcLogs`. */
  plcLogs?: string;
  /** For an at:// record argument: the PDS to read it from (com.atproto.repo.getRecord). */
  pds?: string;
  /** Where a record file was published (its at:// URI). */
  uri?: string;
}

/** at://<did>/<collection>/<rkey> (a DID, not a handle: the repository is compared with the policy's). */
function parseAtUri(uri: string): { repository: string; collection: string; rkey: string; uri: string } {
  const m = /^at:\/\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)$/.exec(uri);
  const [repository, collection, rkey] = m ? m.slice(1).map(decodeURIComponent) : [];
  if (!isValidDid(repository) || !isValidNsid(collection) || !isValidRecordKey(rkey)) {
    throw new UsageProblem(`not an at://<did>/<collection>/<rkey> URI: ${uri}`);
  }
  return { repository: repository!, collection: collection!, rkey: rkey!, uri };
}

/**
 * The record to verify and, when known, where it was published: a file (a
 * bare record, a signRecord answer, or a getRecord answer { uri, value }), or
 * an at:// URI read from --pds.
 */
async function readRecordInput(arg: string, flags: RecordVerifyFlags): Promise<{ record: unknown; location?: ReturnType<typeof parseAtUri> }> {
  if (arg.startsWith('at://')) {
    const location = parseAtUri(arg);
    if (flags.uri !== undefined && flags.uri !== arg) throw new UsageProblem('--uri differs from the at:// argument');
    if (!flags.pds) throw new UsageProblem('an at:// record needs --pds URL (the PDS that hosts the repository)');
    const url = new URL('/xrpc/com.atproto.repo.getRecord', flags.pds);
    url.searchParams.set('repo', location.repository);
    url.searchParams.set('collection', location.collection);
    url.searchParams.set('rkey', location.rkey);
    const answer = await getJson(url);
    if (answer.value === undefined) throw new UsageProblem(`${url}: the answer has no value`);
    if (typeof answer.uri === 'string' && answer.uri !== arg) throw new UsageProblem(`the PDS answered with ${answer.uri}, not ${arg}`);
    return { record: answer.value, location };
  }
  let record: unknown = parseJsonFile(await readBytes(arg), arg);
  let uri = flags.uri;
  if (record && typeof record === 'object') {
    const r = record as Record<string, unknown>;
    // A signRecord answer, or a getRecord answer (which says where it lives).
    if ('record' in r && 'receipt' in r) record = r.record;
    else if ('value' in r && typeof r.uri === 'string') {
      if (uri !== undefined && uri !== r.uri) throw new UsageProblem(`--uri ${uri} differs from the file's uri ${r.uri}`);
      uri = r.uri;
      record = r.value;
    }
  }
  return uri !== undefined ? { record, location: parseAtUri(uri) } : { record };
}

function readPlcLogs(value: unknown, path: string): Record<string, unknown> {
  const v = value as Record<string, unknown> | null;
  const map = v && typeof v === 'object' && 'plcLogs' in v ? v.plcLogs : v;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new UsageProblem(`${path}: expected a JSON map DID → audit log (or a draft with plcLogs)`);
  return map as Record<string, unknown>;
}

function parseJsonFile(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new UsageProblem(`${path} is not JSON`);
  }
}

async function getJson(url: URL): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new UsageProblem(`cannot reach ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new UsageProblem(`${url}: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

export async function recordVerify(file: string, flags: RecordVerifyFlags, io: CliIo): Promise<number> {
  const pin = policyPin(flags);
  const { record, location } = await readRecordInput(file, flags);

  const remote = /^https?:\/\//.test(flags.identity);
  const identity = (remote
    ? await getJson(new URL('/xrpc/dev.encumber.getIdentity', flags.identity))
    : parseJsonFile(await readBytes(flags.identity), flags.identity)) as unknown as Identity;

  const checks: AttestationCheck[] = [];
  let evidenceOk = true;
  let platform: string | undefined;
  let error: { code: string; message: string } | null = null;

  // Attestation first (when we can have it): from a file, or live with a fresh nonce.
  let input: { evidence: Uint8Array; binding?: unknown; bindingCid?: string } | undefined;
  const opts = await evidenceOptions(flags);
  if (flags.evidence) {
    input = parseEvidenceFile(await readBytes(flags.evidence));
  } else if (remote) {
    const nonce = new Uint8Array(randomBytes(32));
    const att = await getJson(new URL(`/xrpc/dev.encumber.getAttestation?nonce=${Buffer.from(nonce).toString('hex')}`, flags.identity));
    input = { evidence: new Uint8Array(Buffer.from(String((att.evidence as { $bytes: string }).$bytes), 'base64')), binding: att.binding, bindingCid: String(att.bindingCid) };
    opts.nonce = nonce;
  }
  if (input) {
    // The evidence must be about this identity's binding.
    input.binding ??= identity.binding;
    input.bindingCid ??= identity.bindingCid;
    if (input.bindingCid !== identity.bindingCid) {
      checks.push({ name: 'binding', ok: false, detail: `evidence is for binding ${input.bindingCid}, identity has ${identity.bindingCid}` });
      evidenceOk = false;
      error = { code: 'BindingMismatch', message: 'evidence and identity name different bindings' };
    } else {
      const ev = await verifyEvidence(input, opts);
      checks.push(...ev.checks);
      platform = ev.platform;
      if (!ev.ok) {
        evidenceOk = false;
        error = ev.error;
      }
    }
  } else if (flags.trustIdentity) {
    checks.push({ name: 'attestation', ok: true, skipped: true, detail: 'NOT CHECKED: you asked to trust the identity file as is (--trust-identity)' });
  } else {
    evidenceOk = false;
    const message = 'no attestation: give --evidence FILE, or --identity URL for a live check with a fresh nonce (or --trust-identity if you already trust this identity file)';
    checks.push({ name: 'attestation', ok: false, detail: message });
    error = { code: 'EvidenceMissing', message };
  }

  let recordOk = false;
  if (evidenceOk) {
    const plcLogs = flags.plcLogs ? readPlcLogs(parseJsonFile(await readBytes(flags.plcLogs), flags.plcLogs), flags.plcLogs) : undefined;
    const rv = verifyPublishedRecord(identity, record, {
      pin,
      ...(plcLogs ? { plcLogs } : {}),
      ...(location ? { location: { repository: location.repository, collection: location.collection, uri: location.uri } } : {}),
    });
    checks.push(...rv.checks);
    recordOk = rv.ok;
    if (!rv.ok) error = rv.error;
  }
  const valid = evidenceOk && recordOk;
  const policyPinned = isPinned(pin) && recordOk;
  if (flags.json) {
    io.out(JSON.stringify({ valid, platform: platform ?? null, policyPinned, warnings: warningsOf(checks), checks, error }));
  } else {
    printChecks(io, checks);
    io.out(
      valid
        ? `valid: record signed by ${identity.key} under policy ${identity.policyCid}${policyPinned ? ' (pinned)' : ' (policy NOT pinned: pass --policy-cid or --repository)'}`
        : `invalid: ${error?.code}: ${error?.message}`,
    );
  }
  return valid ? EXIT_OK : EXIT_INVALID;
}
