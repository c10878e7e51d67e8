/**
 * Real headless Chromium (Debian's, through playwright-core: no browser
 * download) against the real server (`serve`, dev platform, port 0), and
 * the helpers the page tests share.
 *
 * Under CI the browser tests must run (.ci/run installs chromium);
 * elsewhere they skip, saying why, when /usr/bin/chromium is absent.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { serve, type RunningServer } from '../../src/cli/commands/serve.ts';
import { policyDocument } from '../../src/policy/policy.ts';
import { buildWeb } from '../../src/web/build.ts';
import { createMember, cosignBy, draftFor, ORG, withLogs, type Member } from '../support/world.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { skipUnlessCi } from '../support/tools.ts';
import { tempDir } from '../support/fixtures.ts';
import { guardedWorld, type GuardedWorld } from '../support/did-guard.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** false: run; a string: why the browser tests skip here. */
export const browserSkip: false | string = skipUnlessCi(existsSync(CHROMIUM) ? null : `${CHROMIUM} is absent (apt-get install chromium)`);

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  /** Requests the page tried to make to anywhere but the allowed origins (aborted). */
  blocked: string[];
  close(): Promise<void>;
}

/**
 * A fresh profile (--user-data-dir) per launch. Every request not to `allowed`
 * origins (or file:/data:) is aborted and recorded: the page must need no
 * external resource.
 */
export async function launch(allowed: () => string[]): Promise<Browser> {
  const profile = tempDir('encumber-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'file:' || url.protocol === 'data:' || allowed().includes(url.origin)) return route.fallback();
    blocked.push(url.toString());
    return route.abort();
  });
  return {
    context,
    blocked,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const quietIo: CliIo = { out: () => {}, err: () => {}, readInput: async () => '' };

export interface Enclave {
  server: RunningServer;
  dir: string;
  members: Member[];
  devRootPem: string;
  /** A signRecord answer (2 of 3 co-signed) and the co-signers' audit logs. */
  signed: { record: Record<string, any> };
  plcLogs: Record<string, unknown>;
  close(): Promise<void>;
}

/** The real service on the dev platform, with a 2-of-3 policy (for `repository`, default ORG) and one record it signed. */
export async function startEnclave(repository: string = ORG): Promise<Enclave> {
  const dir = tempDir('encumber-web-');
  const members = [await createMember('w1.test'), await createMember('w2.test'), await createMember('w3.test')];
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policyDocument({ repository, signers: members.map((m) => m.did), threshold: 2 })));
  const server = await serve({ policy: policyFile, port: '0', host: '127.0.0.1', platform: 'dev', dataDir: join(dir, 'data'), quiet: true }, quietIo);
  const [a, b] = members as [Member, Member];
  const res = await fetch(`${server.url}/xrpc/dev.encumber.signRecord`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(withLogs(cosignBy({ ...draftFor('checked in a browser'), repository }, a, b), members)),
  });
  if (res.status !== 200) throw new Error(`signRecord: ${res.status} ${await res.text()}`);
  const signed = (await res.json()) as { record: Record<string, any> };
  return {
    server,
    dir,
    members,
    devRootPem: readFileSync(join(dir, 'data', 'dev-root.pem'), 'utf8'),
    signed,
    plcLogs: Object.fromEntries(members.map((m) => [m.did, m.log])),
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A guarded service (test/support/did-guard.ts, in process: stand-in directory, manual timer, the test echo
 * attestor) after one intrusion the guard reverted: its public log has one entry.
 */
export async function guardedAfterIntrusion(): Promise<GuardedWorld> {
  const g = await guardedWorld();
  g.poll();
  await g.dir.update(g.org, g.pds, (op) => ({ ...op, verificationMethods: { ...op.verificationMethods, atproto: 'did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N' } }));
  for (let i = 0; i < 200 && g.w.service.guardLog().entries.length === 0; i++) {
    g.poll();
    await new Promise((r) => setTimeout(r, 2));
  }
  if (g.w.service.guardLog().entries.length === 0) throw new Error('the guard recorded no intrusion');
  return g;
}

/** `npm run build:web` into a temp dir; the page's file:// URL. */
export async function buildStandalone(): Promise<{ url: string; dir: string }> {
  const dir = tempDir('encumber-webdist-');
  for (const f of await buildWeb()) writeFileSync(join(dir, f.name), f.body);
  return { url: pathToFileURL(join(dir, 'index.html')).toString(), dir };
}

/** Wait until the page has finished a run numbered above `after`. */
export async function settled(page: Page, after = -1): Promise<number> {
  await page.waitForFunction(
    (n) => document.body.dataset.state === 'done' && Number(document.body.dataset.run ?? '0') > n,
    after,
    { timeout: 30_000 },
  );
  return Number(await page.evaluate(() => document.body.dataset.run));
}

/** Run an action that triggers a re-check, and wait for that check. */
export async function act(page: Page, action: () => Promise<unknown>): Promise<void> {
  const before = Number(await page.evaluate(() => document.body.dataset.run ?? '0'));
  await action();
  await settled(page, before);
}

export interface PageVerdict {
  verdict: string;
  code: string;
  platform: string;
  text: string;
  reason: string;
  rows: { check: string; status: string; detail: string }[];
  devBanner: boolean;
}

export async function readVerdict(page: Page): Promise<PageVerdict> {
  return page.evaluate(() => {
    const v = document.getElementById('verdict')!;
    return {
      verdict: v.dataset.verdict ?? '',
      code: v.dataset.code ?? '',
      platform: v.dataset.platform ?? '',
      text: document.getElementById('verdict-text')!.textContent ?? '',
      reason: document.getElementById('verdict-reason')!.hidden ? '' : (document.getElementById('verdict-reason')!.textContent ?? ''),
      rows: Array.from(document.querySelectorAll<HTMLTableRowElement>('tr[data-check]')).map((r) => ({
        check: r.dataset.check!,
        status: r.dataset.status!,
        detail: r.querySelector('td.detail')?.textContent ?? '',
      })),
      devBanner: !document.getElementById('dev-warning')!.hidden,
    };
  });
}

/**
 * Screenshots go to a temp dir on every run (so taking them is tested);
 * with UPDATE_SCREENSHOTS=1 they replace docs/screenshots/ (committed).
 */
export function screenshotPath(name: string): string {
  const dir = process.env.UPDATE_SCREENSHOTS === '1' ? join(import.meta.dirname, '..', '..', 'docs', 'screenshots') : join(tmpdir(), 'encumber-screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** The top of the page down to the end of the checks: banner, verdict, rows. */
export async function screenshotResults(page: Page, name: string): Promise<string> {
  const path = screenshotPath(name);
  const bottom = await page.evaluate(() => {
    const r = document.getElementById('results')!.getBoundingClientRect();
    return Math.ceil(r.bottom + window.scrollY + 16);
  });
  await page.screenshot({ path, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: bottom } });
  return path;
}
