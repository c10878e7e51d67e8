/**
 * A private apt: binary packages and source packages from any Debian suite
 * (bookworm, bookworm-security, trixie, ...), without touching the machine's
 * own apt configuration.
 *
 * The archive URIs are the machine's own (read from /etc/apt/sources.list and
 * /etc/apt/sources.list.d/*), so the build names no host: a mirror configured
 * on the machine is used as is. Each set of suites gets its own apt state under
 * the cache directory (lists, archives), `apt-get update` runs there once a
 * day at most, and the archive signatures are checked with the machine's
 * debian-archive-keyring as usual. Every file that comes out of it is checked
 * against its pinned SHA-256 by the caller (inputs.ts, sources.ts).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AptArchives {
  /** The main archive URI (suites like bookworm, trixie, bookworm-updates). */
  main: string;
  /** The security archive URI (suites ending in -security). */
  security: string;
  keyring: string;
}

const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The machine's Debian archive URIs, from its apt sources (deb822 .sources files and one-line .list files). */
export function machineArchives(etc = '/etc/apt'): AptArchives {
  const texts: string[] = [];
  const read = (p: string) => {
    try {
      texts.push(readFileSync(p, 'utf8'));
    } catch {
      /* absent */
    }
  };
  read(join(etc, 'sources.list'));
  try {
    for (const f of readdirSync(join(etc, 'sources.list.d')).sort()) if (f.endsWith('.sources') || f.endsWith('.list')) read(join(etc, 'sources.list.d', f));
  } catch {
    /* no directory */
  }
  let main: string | undefined;
  let security: string | undefined;
  const note = (uri: string, suites: string[]) => {
    uri = uri.replace(/\/+$/, '');
    if (suites.some((s) => s.endsWith('-security'))) security ??= uri;
    else if (suites.length > 0) main ??= uri;
  };
  for (const text of texts) {
    // deb822 stanzas
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim();
      const types = field('Types');
      const uris = field('URIs');
      const suites = field('Suites');
      if (types && uris && suites && /\bdeb\b/.test(types)) for (const u of uris.split(/\s+/)) note(u, suites.split(/\s+/));
    }
    // one-line format
    for (const line of text.split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m) note(m[1]!, [m[2]!]);
    }
  }
  if (!main || !security) throw new Error('no Debian archive in the machine\'s apt sources (/etc/apt/sources.list*): the image inputs come from the Debian archive');
  // A security archive is usually the main one's sibling; keep what the machine says.
  return { main, security, keyring: DEFAULT_KEYRING };
}

export interface PrivateApt {
  dir: string;
  /** Runs apt-get with this state; returns status and output. */
  run(args: string[], cwd: string): { ok: boolean; output: string };
}

/**
 * An apt configuration of its own for these suites (binary and source lists),
 * under cacheDir/apt/<hash>. `apt-get update` runs when the lists are missing
 * or older than maxAgeHours.
 */
export function privateApt(cacheDir: string, suites: readonly string[], log: (l: string) => void = () => {}, archives = machineArchives(), maxAgeHours = 24): PrivateApt {
  const key = createHash('sha256').update(JSON.stringify({ suites, archives })).digest('hex').slice(0, 16);
  const dir = join(cacheDir, 'apt', key);
  for (const d of ['etc/apt.conf.d', 'etc/preferences.d', 'state/lists/partial', 'cache/archives/partial']) mkdirSync(join(dir, d), { recursive: true });
  const sources = suites
    .map((s) => `Types: deb deb-src\nURIs: ${s.endsWith('-security') ? archives.security : archives.main}\nSuites: ${s}\nComponents: main\nSigned-By: ${archives.keyring}\n`)
    .join('\n');
  writeFileSync(join(dir, 'etc', 'sources.sources'), sources);
  writeFileSync(join(dir, 'etc', 'sources.list'), '');
  const opts = [
    '-o', `Dir::Etc::SourceList=${join(dir, 'etc', 'sources.list')}`,
    '-o', `Dir::Etc::SourceParts=${join(dir, 'etc')}`,
    '-o', `Dir::Etc::Parts=${join(dir, 'etc', 'apt.conf.d')}`,
    '-o', `Dir::Etc::PreferencesParts=${join(dir, 'etc', 'preferences.d')}`,
    '-o', `Dir::State=${join(dir, 'state')}`,
    '-o', `Dir::State::status=${join(dir, 'state', 'status')}`,
    '-o', `Dir::Cache=${join(dir, 'cache')}`,
    '-o', 'APT::Sandbox::User=root',
    '-o', 'Acquire::Languages=none',
    '-o', 'APT::Get::Only-Source=true',
  ];
  if (!existsSync(join(dir, 'state', 'status'))) writeFileSync(join(dir, 'state', 'status'), '');
  const run = (args: string[], cwd: string) => {
    const r = spawnSync('apt-get', [...opts, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error) return { ok: false, output: `cannot run apt-get: ${r.error.message}` };
    return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
  };
  const stamp = join(dir, 'updated');
  const fresh = existsSync(stamp) && Date.now() - statSync(stamp).mtimeMs < maxAgeHours * 3600_000;
  if (!fresh) {
    log(`apt-get update (${suites.join(', ')})`);
    const r = run(['update', '-q'], dir);
    if (!r.ok) throw new Error(`apt-get update for ${suites.join(', ')} failed:\n${r.output}`);
    writeFileSync(stamp, '');
  }
  return { dir, run };
}
