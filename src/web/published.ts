/**
 * Two things a live enclave publishes beside its attestation, as sections of
 * the page: the DID guard's signed public log (`verifyGuardLog`, as `encumber
 * did log`) and the quorum-approved upgrades (`verifyUpgrade` per approval, as
 * `encumber upgrade verify`). Neither is part of the record's proof, so a
 * failure here is a red row and a warning, never the record's verdict.
 *
 * Pure: the answers come in (fetched by enclave.ts), rows and warnings go out.
 */
import type { ErrorCode } from '../errors.ts';
import type { Identity } from '../verifier/identity.ts';
import { verifyGuardLog, type GuardLogEntryView } from '../verifier/guard-log.ts';
import { describeMeasurements, verifyUpgrade } from '../verifier/upgrade.ts';
import { labelOf, plainReason, rowStatus, type Row } from './explain.ts';

/** What a public endpoint answered, or why it could not be read. */
export type EndpointAnswer = { ok: true; value: unknown } | { ok: false; error: { code: ErrorCode; message: string } };

export interface PublishedSection {
  rows: Row[];
  /** What the user must not miss (shown with the verdict). */
  warnings: string[];
}

const NOT_THE_RECORD = 'The record\'s verdict does not depend on it.';

/** A row per check; the failed one (always the last) names its code. */
function checkRows(checks: { name: string; ok: boolean; detail: string; skipped?: true }[], error?: { code: ErrorCode }): Row[] {
  return checks.map((c) => ({ ...c, ...(!c.ok && error ? { detail: `${error.code}: ${c.detail}` } : {}), status: rowStatus(c) }));
}

function unreadable(name: string, endpoint: string, error: { code: ErrorCode; message: string }): Row {
  return { name, ok: false, status: 'fail', detail: `${endpoint} could not be read: ${error.code}: ${error.message}` };
}

/** One intrusion, in a line: which operation, whose key, and what the guard did about it. */
function entryRow(e: GuardLogEntryView): Row {
  const what = `${e.intruder.cid} signed by ${e.intruder.signer} (created ${e.intruder.createdAt}, seen ${e.detectedAt})`;
  const why = e.code ? ` ${e.code}${e.message ? `: ${e.message}` : ''}` : '';
  if (e.outcome === 'reverted') {
    return { name: 'guard-intrusion', ok: true, status: 'pass', detail: `${what}: reverted${e.recovery ? ` by ${e.recovery.cid} (submitted ${e.recovery.submittedAt})` : ''}` };
  }
  const recovery = e.recovery ? `; recovery ${e.recovery.cid} submitted ${e.recovery.submittedAt}` : '';
  const outcome = e.outcome === 'failed' ? `NOT reverted: the revert failed after ${e.attempts} attempt(s)` : e.outcome === 'not-revertible' ? 'NOT revertible' : `outcome ${e.outcome}`;
  return { name: 'guard-intrusion', ok: true, status: 'warn', detail: `${what}: ${outcome}${recovery}.${why}` };
}

/** The section "DID guard log": the verifier's rows, the log's time, then a row per intrusion. */
export function guardLogSection(identity: Identity, answer: EndpointAnswer): PublishedSection {
  if (!answer.ok) {
    return {
      rows: [unreadable('guard-log', 'getGuardLog', answer.error)],
      warnings: [`The DID guard's public log could not be read (${answer.error.code}): changes to the organisation's DID that the guard did not sign are not shown. ${NOT_THE_RECORD}`],
    };
  }
  const v = verifyGuardLog(identity, answer.value);
  if (!v.ok) {
    const check = v.checks.at(-1)?.name;
    return {
      rows: checkRows(v.checks, v.error),
      warnings: [
        `The DID guard's public log does NOT verify (${v.error.code}): ${plainReason({ code: v.error.code, ...(check ? { check } : {}) })} What it says about changes to the organisation's DID cannot be trusted. ${NOT_THE_RECORD}`,
      ],
    };
  }
  const open = v.entries.filter((e) => e.outcome !== 'reverted');
  const summary: Row = {
    name: 'guard-intrusions',
    ok: true,
    status: open.length > 0 ? 'warn' : 'pass',
    detail:
      v.entries.length === 0
        ? `no change to ${v.did} that the guard did not sign, as of ${v.signedAt} (when the enclave signed the log)`
        : `${v.entries.length} change(s) to ${v.did} the guard did not sign, ${v.entries.length - open.length} reverted, as of ${v.signedAt} (when the enclave signed the log)`,
  };
  return {
    rows: [...checkRows(v.checks), summary, ...v.entries.map(entryRow)],
    warnings:
      open.length > 0
        ? [`The DID guard did NOT revert ${open.length} change(s) to ${v.did} it did not sign: someone else may control the organisation's DID (see the DID guard log rows).`]
        : [],
  };
}

/** The section "Approved upgrades": a row per published approval, or one saying there is none. */
export function upgradesSection(identity: Identity, answer: EndpointAnswer): PublishedSection {
  if (!answer.ok) {
    return {
      rows: [unreadable('upgrades', 'getUpgrades', answer.error)],
      warnings: [`The enclave's approved upgrades could not be read (${answer.error.code}): which other programs its key may move to is not shown. ${NOT_THE_RECORD}`],
    };
  }
  const list = (answer.value as { upgrades?: unknown } | null)?.upgrades;
  if (!Array.isArray(list)) {
    const error = { code: 'RemoteUnavailable' as const, message: 'the answer is not a getUpgrades answer ({ upgrades: [...] })' };
    return { rows: [unreadable('upgrades', 'getUpgrades', error)], warnings: [`The enclave's approved upgrades could not be read (${error.code}). ${NOT_THE_RECORD}`] };
  }
  if (list.length === 0) {
    return { rows: [{ name: 'upgrades', ok: true, status: 'pass', detail: 'none published: no quorum has approved another program for this key' }], warnings: [] };
  }
  const refused: ErrorCode[] = [];
  const rows = list.map((u): Row => {
    const v = verifyUpgrade(identity, u);
    if (v.ok) {
      const unchecked = v.checks.some((c) => c.name === 'cosigner-keys' && c.skipped) ? '; co-signers\' keys rest on the enclave\'s PLC check (no logs published)' : '';
      return {
        name: 'upgrade',
        ok: true,
        status: 'pass',
        detail: `statement ${v.cid} approves ${describeMeasurements(v.measurements)}; co-signed by ${v.cosigners.join(', ')}${unchecked}`,
      };
    }
    refused.push(v.error.code);
    const named = (u as { statementCid?: unknown } | null)?.statementCid;
    const at = v.checks.at(-1)?.name;
    return {
      name: 'upgrade',
      ok: false,
      status: 'fail',
      detail: `statement ${typeof named === 'string' ? named : '(no statementCid)'} REFUSED${at ? ` at ${labelOf(at)}` : ''}: ${v.error.code}: ${v.error.message}`,
    };
  });
  const warnings =
    refused.length > 0
      ? [
          `${refused.length} of ${list.length} published upgrade approval(s) do NOT verify (${[...new Set(refused)].join(', ')}): ${plainReason({ code: refused[0]! })} They approve nothing. ${NOT_THE_RECORD}`,
        ]
      : [];
  return { rows, warnings };
}
