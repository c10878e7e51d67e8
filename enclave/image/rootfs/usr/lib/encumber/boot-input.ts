/**
 * The host's boot document, checked before the service starts (/init runs it
 * on the image's Node, which strips the types). The host hands it in at boot
 * (docs/key-handoff.md "Booted images"); it is not measured and not trusted:
 *
 *   { "join": "http://10.0.2.101:8080" }      where the running instance is that this one asks for the key
 *   { "devRoot": { "certificate": PEM, "privateKey": PEM } }
 *                                             dev only: the dev attestation root, shared by the instances
 *                                             that hand the key to each other (the form dev-root.json has)
 *
 * Both members are optional; any other member, a malformed value, a document
 * over 16 KiB, or a devRoot on nitro or sev-snp is refused, and /init stops
 * the machine. The URL needs no trust: the hand-off is attested both ways, so
 * it only says where to ask.
 *
 *   node boot-input.ts PLATFORM FILE DATA_DIR
 *
 * writes the dev root to DATA_DIR/dev-root.json (0600, never over an existing
 * one) and prints the join URL, if any, on stdout; exit 1 with the reason on
 * stderr when the document is refused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAX_BOOT_DOCUMENT = 16 * 1024;
const MAX_URL = 2048;
const MAX_PEM = 8 * 1024;
const PLATFORMS = ['dev', 'nitro', 'sev-snp'];

export interface DevRootFile {
  certificate: string;
  privateKey: string;
}

export interface BootInput {
  join?: string;
  devRoot?: DevRootFile;
}

export class BootInputError extends Error {
  override name = 'BootInputError';
}

const refuse = (message: string): never => {
  throw new BootInputError(message);
};

/** The join URL as given, when it is an http(s) URL of printable ASCII without credentials. */
function checkJoinUrl(value: unknown): string {
  if (typeof value !== 'string') return refuse(`join must be a string, got ${value === null ? 'null' : typeof value}`);
  if (value.length === 0 || value.length > MAX_URL) return refuse(`join must be 1..${MAX_URL} characters, got ${value.length}`);
  // Printable ASCII, no spaces: one argument on the command line, nothing for a shell or a log to misread.
  if (!/^[\x21-\x7e]+$/.test(value)) return refuse('join must be printable ASCII without spaces');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse('join is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return refuse(`join must be an http(s) URL, got ${url.protocol}`);
  if (url.username !== '' || url.password !== '') return refuse('join must not carry credentials');
  if (url.hostname === '') return refuse('join names no host');
  return value;
}

/** One PEM block of the given label, and nothing around it. */
function checkPem(value: unknown, what: string, label: string): string {
  if (typeof value !== 'string') return refuse(`devRoot.${what} must be a string`);
  if (value.length > MAX_PEM) return refuse(`devRoot.${what} is larger than ${MAX_PEM} bytes`);
  const block = new RegExp(`^-----BEGIN ${label}-----\\r?\\n[A-Za-z0-9+/=\\r\\n]+-----END ${label}-----\\r?\\n?$`);
  if (!block.test(value)) return refuse(`devRoot.${what} is not one PEM "${label}" block`);
  return value;
}

function checkDevRoot(value: unknown): DevRootFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return refuse('devRoot must be an object');
  const extra = Object.keys(value).filter((k) => k !== 'certificate' && k !== 'privateKey');
  if (extra.length > 0) return refuse(`devRoot has unknown members: ${extra.join(', ')}`);
  const v = value as Record<string, unknown>;
  return { certificate: checkPem(v.certificate, 'certificate', 'CERTIFICATE'), privateKey: checkPem(v.privateKey, 'privateKey', 'PRIVATE KEY') };
}

/** The document's content for `platform`, checked member by member; BootInputError says what is wrong. */
export function checkBootDocument(platform: string, bytes: Uint8Array): BootInput {
  if (!PLATFORMS.includes(platform)) return refuse(`unknown platform ${platform}`);
  if (bytes.length > MAX_BOOT_DOCUMENT) return refuse(`the boot document is larger than ${MAX_BOOT_DOCUMENT} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return refuse('the boot document is not JSON (UTF-8)');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return refuse('the boot document must be a JSON object');
  const extra = Object.keys(doc).filter((k) => k !== 'join' && k !== 'devRoot');
  if (extra.length > 0) return refuse(`the boot document has unknown members: ${extra.join(', ')}`);
  const d = doc as Record<string, unknown>;
  const out: BootInput = {};
  if ('join' in d) out.join = checkJoinUrl(d.join);
  if ('devRoot' in d) {
    // The dev root makes dev evidence: whoever holds it can forge it. Only the dev platform reads one; a hardware
    // instance is never handed one, so that no host input can look like a root there.
    if (platform !== 'dev') return refuse(`devRoot is for the dev platform only, not ${platform}`);
    out.devRoot = checkDevRoot(d.devRoot);
  }
  return out;
}

function main(argv: string[]): number {
  const [platform, file, dataDir] = argv;
  if (!platform || !file || !dataDir || argv.length !== 3) {
    process.stderr.write('usage: node boot-input.ts PLATFORM FILE DATA_DIR\n');
    return 2;
  }
  try {
    const input = checkBootDocument(platform, new Uint8Array(readFileSync(file)));
    if (input.devRoot) writeFileSync(join(dataDir, 'dev-root.json'), JSON.stringify(input.devRoot, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    if (input.join) process.stdout.write(input.join + '\n');
    return 0;
  } catch (e) {
    process.stderr.write(`boot document refused: ${(e as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
