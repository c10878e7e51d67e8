/**
 * A FlowReport into the page: the verdict (in words, with the plain reason
 * on failure and the warnings), the loud dev banner, and one table per
 * section with a row per check. Text only (textContent), never HTML: records
 * and evidence are untrusted input.
 */
import { labelOf, plainReason, STATUS_TEXT, type RowStatus } from './explain.ts';
import type { FlowReport, Section } from './flow.ts';

const ICON: Record<RowStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '–' };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} is missing from the page`);
  return e as T;
}

function table(section: Section): HTMLTableElement {
  const t = el('table', { class: 'checks', id: `checks-${section.id}`, 'data-section': section.id });
  t.append(el('caption', {}, section.title));
  const head = el('thead');
  const hr = el('tr');
  for (const h of ['Result', 'Check', 'What was compared']) hr.append(el('th', { scope: 'col' }, h));
  head.append(hr);
  t.append(head);
  const body = el('tbody');
  for (const r of section.rows) {
    const tr = el('tr', { 'data-check': r.name, 'data-status': r.status });
    const status = el('td', { class: 'status' });
    status.append(el('span', { class: 'icon', 'aria-hidden': 'true' }, ICON[r.status]), document.createTextNode(STATUS_TEXT[r.status]));
    const name = el('th', { scope: 'row' }, labelOf(r.name));
    name.append(el('div', { class: 'hint' }, r.name));
    tr.append(status, name, el('td', { class: 'detail' }, r.detail));
    body.append(tr);
  }
  t.append(body);
  return t;
}

function summary(report: FlowReport): string {
  if (report.empty) return 'Nothing checked yet.';
  if (!report.valid) {
    const e = report.error;
    return `NOT verified: ${e?.check ? `${labelOf(e.check)} failed` : 'a check failed'} (${e?.code ?? 'error'})`;
  }
  const records = report.sections.some((s) => s.id === 'record');
  const where = report.platform === 'dev' ? 'on the DEV platform (not hardware-backed)' : `on ${report.platform === 'nitro' ? 'AWS Nitro' : report.platform === 'sev-snp' ? 'AMD SEV-SNP' : String(report.platform)} hardware`;
  const what = records ? 'The enclave attestation and the signed record verify' : 'The enclave attestation verifies';
  // What the enclave publishes beside the record does not change its verdict, but a failure there is said here too.
  const failed = report.sections.filter((s) => (s.id === 'guard' || s.id === 'upgrades') && s.rows.some((r) => r.status === 'fail')).map((s) => s.title);
  const but = failed.length > 0 ? ` But: ${failed.join(' and ')} FAILED (see the warnings).` : '';
  return `${report.warnings.length > 0 ? 'Verified, with warnings' : 'Verified'}: ${what}, ${where}.${but}`;
}

export function renderReport(report: FlowReport): void {
  const verdict = byId('verdict');
  verdict.dataset.verdict = report.empty ? 'pending' : report.valid ? 'valid' : 'invalid';
  verdict.dataset.code = report.error?.code ?? '';
  verdict.dataset.platform = report.platform ?? '';
  verdict.dataset.warnings = String(report.warnings.length > 0);
  byId('verdict-text').textContent = summary(report);

  const reason = byId('verdict-reason');
  if (report.error) {
    reason.hidden = false;
    reason.textContent = `${plainReason(report.error)} (${report.error.check ? `${labelOf(report.error.check)}: ` : ''}${report.error.message})`;
  } else {
    reason.hidden = true;
    reason.textContent = '';
  }
  const warnings = byId<HTMLUListElement>('warnings');
  warnings.replaceChildren(...report.warnings.map((w) => el('li', {}, w)));
  warnings.hidden = report.warnings.length === 0;
  byId('dev-warning').hidden = report.platform !== 'dev';

  const sections = byId('sections');
  if (report.sections.length === 0) sections.replaceChildren(el('p', { class: 'muted' }, 'Each check appears here as a row: what was compared, and whether it held.'));
  else sections.replaceChildren(...report.sections.map(table));
}

export function renderProblem(message: string): void {
  const verdict = byId('verdict');
  verdict.dataset.verdict = 'invalid';
  verdict.dataset.code = 'InputProblem';
  verdict.dataset.warnings = 'false';
  byId('verdict-text').textContent = 'NOT verified: an input could not be used';
  const reason = byId('verdict-reason');
  reason.hidden = false;
  reason.textContent = message;
}
