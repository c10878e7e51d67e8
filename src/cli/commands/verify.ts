/**
 * Verifier tools: `attest verify` and `record verify`. Exit 0 valid,
 * 1 invalid, 2 usage/IO. `--json` prints { valid, platform, checks, error }.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { detectEvidence } from '../../attestation/evidence/detect.ts';
import { parseSnpCertTable, type SnpCerts } from '../../attestation/evidence/snp-cert-table.ts';
import { fromHex, toHex } from '../../crypto/encoding.ts';
import { EncumberError } from '../../errors.ts';
import { getJsonObject } from '../../http/json.ts';
import { verifyEvidence, type EvidenceInput, type EvidenceOptions, type EvidenceVerdict } from '../../verifier/evidence.ts';
import { evidenceFromAnswer, identityFromAnswer, plcLogsFromDocument, recordFromDocument, SNP_CERT_FILES } from '../../verifier/inputs.ts';
import { verifySignedRecord } from '../../verifier/signed-record.ts';
import { parseMeasurements, type MeasurementPin } from '../../verifier/measurements.ts';
import { POLICY_PIN_CHECK, type PolicyPin } from '../../verifier/policy-pin.ts';
import { isValidDid, parseAtUri, type AtUri } from '../../data/syntax/index.ts';
import { fetchCosignerLogs, fetchRecordFromNetwork, type NetworkOptions } from '../../network/at-record.ts';
import { parsePolicy } from '../../policy/policy.ts';
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

/** Evidence file: raw evidence bytes, or a getAttestation JSON answer (then the binding is checked too). */
function parseEvidenceFile(bytes: Uint8Array, path: string): EvidenceInput {
  if (bytes[0] !== 0x7b /* { */) return { evidence: bytes };
  return usage(path, () => evidenceFromAnswer(parseJsonFile(bytes, path)));
}

/** A reader's typed refusal of a file, as a usage problem naming the file. */
function usage<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof EncumberError) throw new UsageProblem(`${path}: ${e.message}`);
    throw e;
  }
}

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
      const name = SNP_CERT_FILES[basename(f)];
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
  const input = parseEvidenceFile(await readBytes(file), file);
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
  /** For an at:// record argument: read it from this PDS instead of the one its DID names. */
  pds?: string;
  /** For an at:// record argument: the PLC directory that resolves did:plc (default https://plc.directory). */
  plc?: string;
  /** For an at:// URI or bsky.app URL with a handle: the service that resolves it (default public.api.bsky.app). */
  handleResolver?: string;
  /** Where a record file was published (its at:// URI). */
  uri?: string;
}

function parseJsonFile(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new UsageProblem(`${path} is not JSON`);
  }
}

/** A remote answer the verifier needs; an unreachable remote is a usage/IO problem (exit 2). */
async function fetchObject(url: URL, what: string): Promise<Record<string, unknown>> {
  try {
    return await getJsonObject(url, { what });
  } catch (e) {
    if (e instanceof EncumberError) throw new UsageProblem(e.message);
    throw e;
  }
}

function atUri(uri: string): AtUri {
  return usage('record', () => parseAtUri(uri));
}

interface RecordInput {
  record: unknown;
  location?: AtUri;
  /** Rows of the network read (DID, PDS, commit signature, inclusion) when the record came from there. */
  source?: AttestationCheck[];
  /** Where the co-signers' audit logs can be fetched, for a record read from the network (once the policy is known). */
  network?: NetworkOptions;
}

/** A network failure or a bad URL given is not the record's fault (exit 2); any other failure is (exit 1, with the rows so far). */
const UNAVAILABLE: ReadonlySet<string> = new Set(['RemoteUnavailable', 'DirectoryUnavailable', 'TooLarge', 'UsageError']);

/**
 * The record to verify and, when known, where it was published: a file (a
 * bare record, a signRecord answer, or a getRecord answer { uri, value }), or
 * an at:// URI (or bsky.app post URL) read from the network with its proof.
 */
async function readRecordInput(arg: string, flags: RecordVerifyFlags, now: Date): Promise<RecordInput | { failed: AttestationCheck[]; error: EncumberError }> {
  if (arg.startsWith('at://') || arg.startsWith('https://bsky.app/')) {
    const opts: NetworkOptions = {
      now,
      ...(flags.plc ? { plc: flags.plc } : {}),
      ...(flags.pds ? { pds: flags.pds } : {}),
      ...(flags.handleResolver ? { handleResolver: flags.handleResolver } : {}),
    };
    const got = await fetchRecordFromNetwork(arg, opts);
    if (!got.ok) {
      if (UNAVAILABLE.has(got.error.code)) throw new UsageProblem(got.error.message);
      return { failed: got.checks, error: got.error };
    }
    if (flags.uri !== undefined && flags.uri !== got.location.uri) throw new UsageProblem(`--uri ${flags.uri} differs from ${got.location.uri}`);
    return { record: got.record, location: got.location, source: got.checks, network: opts };
  }
  const doc = recordFromDocument(parseJsonFile(await readBytes(arg), arg));
  if (flags.uri !== undefined && doc.uri !== undefined && flags.uri !== doc.uri) throw new UsageProblem(`--uri ${flags.uri} differs from the file's uri ${doc.uri}`);
  const uri = flags.uri ?? doc.uri;
  return uri !== undefined ? { record: doc.record, location: atUri(uri) } : { record: doc.record };
}

/** The DIDs the identity's policy names as members (none when its policy does not parse: the verifier says why). */
function policyMembers(identity: { policy: unknown }): string[] {
  try {
    return parsePolicy(identity.policy).policy.signers.map((s) => s.did);
  } catch {
    return [];
  }
}

/** 32 random bytes for a live attestation (WebCrypto, as in the page). */
function freshNonce(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(32));
}

export async function recordVerify(file: string, flags: RecordVerifyFlags, io: CliIo): Promise<number> {
  const pin = policyPin(flags);
  const input = await readRecordInput(file, flags, flags.at ? new Date(flags.at) : new Date());
  if ('failed' in input) {
    if (flags.json) io.out(JSON.stringify({ valid: false, platform: null, policyPinned: false, warnings: [], checks: input.failed, error: { code: input.error.code, message: input.error.message, check: input.failed.at(-1)?.name ?? 'source' } }));
    else {
      printChecks(io, input.failed);
      io.out(`invalid: ${input.error.code}: ${input.error.message}`);
    }
    return EXIT_INVALID;
  }
  const { record, location } = input;

  const remote = /^https?:\/\//.test(flags.identity);
  const identityDoc = remote
    ? await fetchObject(new URL('/xrpc/dev.encumber.getIdentity', flags.identity), 'the enclave')
    : parseJsonFile(await readBytes(flags.identity), flags.identity);
  const identity = usage(flags.identity, () => identityFromAnswer(identityDoc));
  const opts = await evidenceOptions(flags);
  // The attestation: from a file, or live with a fresh nonce.
  let evidence: EvidenceInput | undefined;
  if (flags.evidence) {
    evidence = parseEvidenceFile(await readBytes(flags.evidence), flags.evidence);
  } else if (remote) {
    const nonce = freshNonce();
    const answer = await fetchObject(new URL(`/xrpc/dev.encumber.getAttestation?nonce=${toHex(nonce)}`, flags.identity), 'the enclave');
    evidence = usage('getAttestation', () => evidenceFromAnswer(answer));
    opts.nonce = nonce;
  }
  const plcLogsDoc = flags.plcLogs ? parseJsonFile(await readBytes(flags.plcLogs), flags.plcLogs) : undefined;
  // For a record from the network, the co-signers' logs from the same directory: only the policy's members' (a
  // record cannot make the verifier fetch more), a log the directory lacks left out (the verdict then says so).
  const plcLogs = flags.plcLogs
    ? usage(flags.plcLogs, () => plcLogsFromDocument(plcLogsDoc))
    : input.network
      ? await fetchCosignerLogs(record, policyMembers(identity), input.network)
      : undefined;
  const report = await verifySignedRecord({
    ...opts,
    identity,
    record,
    ...(evidence ? { evidence } : {}),
    ...(flags.trustIdentity ? { trustIdentity: true } : {}),
    pin,
    ...(plcLogs ? { plcLogs } : {}),
    ...(location ? { location: { repository: location.repository, collection: location.collection, uri: location.uri } } : {}),
  });
  const checks = [...(input.source ?? []), ...report.attestation, ...report.record];
  if (flags.json) {
    io.out(JSON.stringify({ valid: report.valid, platform: report.platform, policyPinned: report.policyPinned, warnings: warningsOf(checks), checks, error: report.error }));
  } else {
    printChecks(io, checks);
    io.out(
      report.valid
        ? `valid: record signed by ${identity.key} under policy ${identity.policyCid}${report.policyPinned ? ' (pinned)' : ' (policy NOT pinned: pass --policy-cid or --repository)'}`
        : `invalid: ${report.error?.code}: ${report.error?.message}`,
    );
  }
  return report.valid ? EXIT_OK : EXIT_INVALID;
}
