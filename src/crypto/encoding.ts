/**
 * The project's one set of byte codecs: strict base64 / base64url / hex and
 * PEM certificate blocks. Every other module encodes and decodes through these.
 *
 * Signatures are hashed into CIDs, so one signature must have exactly one text
 * form: no padding (unless asked for), no whitespace, no non-zero trailing
 * bits. The alphabet, padding and length are checked here first (for a message
 * that says what came); the bits are then decoded by @scure/base, whose radix-2
 * decoder refuses non-zero trailing bits; hex goes through @noble/hashes (its
 * table-driven hex is several times faster than @scure/base's on Node 20). Every refusal is a typed
 * EncumberError (`MalformedBase64`; hex from callers is a `UsageError`).
 *
 * Pure JavaScript (no Buffer), so the same module runs in a browser (src/web).
 */
import { base64nopad, base64urlnopad } from '@scure/base';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { EncumberError, type ErrorCode } from '../errors.ts';

type Alphabet = 'base64' | 'base64url';

const CHARS: Record<Alphabet, RegExp> = { base64: /^[A-Za-z0-9+/]*$/, base64url: /^[A-Za-z0-9_-]*$/ };
const CHAR: Record<Alphabet, RegExp> = { base64: /[A-Za-z0-9+/]/, base64url: /[A-Za-z0-9_-]/ };
const CODEC = { base64: base64nopad, base64url: base64urlnopad } as const;

function firstBadChar(s: string, allowed: RegExp): { ch: string; at: number } | undefined {
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (!allowed.test(ch)) return { ch, at: i };
  }
  return undefined;
}

/** `padding`: 'forbidden' (the default), 'required' (exact `=` padding, as RFC 4648 §4), or 'optional' (either, exact if present). */
export type Padding = 'forbidden' | 'required' | 'optional';

function decodeStrict(s: string, alphabet: Alphabet, padding: Padding): Uint8Array {
  if (typeof s !== 'string') {
    throw new EncumberError('MalformedBase64', `expected a ${alphabet} string, got ${typeof s}`);
  }
  let body = s;
  if (padding !== 'forbidden') {
    const pad = /=*$/.exec(s)![0].length;
    if (pad > 0 || padding === 'required') {
      const want = (4 - ((s.length - pad) % 4)) % 4;
      if (s.length % 4 !== 0 || pad !== want || pad > 2) {
        throw new EncumberError('MalformedBase64', `${alphabet} padding is wrong: ${pad} '=' after ${s.length - pad} characters`, { actual: pad });
      }
      body = s.slice(0, s.length - pad);
    }
  }
  if (!CHARS[alphabet].test(body)) {
    const bad = firstBadChar(body, CHAR[alphabet]);
    const shown = JSON.stringify(bad?.ch ?? '?');
    throw new EncumberError(
      'MalformedBase64',
      bad?.ch === '='
        ? `${alphabet} must not be padded ('=' at offset ${bad.at})`
        : `non-${alphabet} character ${shown} at offset ${bad?.at ?? -1}`,
      { actual: bad?.ch },
    );
  }
  if (body.length % 4 === 1) {
    throw new EncumberError('MalformedBase64', `${alphabet} length ${body.length} is impossible (length % 4 == 1)`);
  }
  try {
    return CODEC[alphabet].decode(body);
  } catch (cause) {
    throw new EncumberError('MalformedBase64', `${alphabet} is not canonical (non-zero trailing bits)`, { cause });
  }
}

/** base64url, canonical; unpadded unless `padding` says otherwise (PLC signatures: unpadded). */
export function decodeBase64Url(s: string, padding: Padding = 'forbidden'): Uint8Array {
  return decodeStrict(s, 'base64url', padding);
}

/** base64url without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return base64urlnopad.encode(bytes);
}

/** Standard-alphabet base64, canonical; unpadded unless `padding` says otherwise (atproto `$bytes`: optional). */
export function decodeBase64(s: string, padding: Padding = 'forbidden'): Uint8Array {
  return decodeStrict(s, 'base64', padding);
}

/** Standard-alphabet base64, unpadded by default; `{ padded: true }` for RFC 4648 §4 padding (PEM, logs). */
export function encodeBase64(bytes: Uint8Array, opts: { padded?: boolean } = {}): string {
  const s = base64nopad.encode(bytes);
  return opts.padded ? s + '='.repeat((4 - (s.length % 4)) % 4) : s;
}

/** Lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

/**
 * Even-length hex of either case. Hex comes from callers (options, CLI flags),
 * so a bad one is a UsageError naming `what`, unless another `code` is given.
 */
export function fromHex(s: string, what = 'hex', code: ErrorCode = 'UsageError'): Uint8Array {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new EncumberError(code, `${what}: expected an even-length hex string`, { actual: typeof s === 'string' ? s : typeof s });
  }
  return hexToBytes(s);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

// ---------------------------------------------------------------------------
// PEM (RFC 7468)

/** DER → one PEM block (RFC 7468 strict: padded base64 in 64-column lines, LF line ends). */
export function encodePem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const lines = encodeBase64(der, { padded: true }).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.map((l) => `${l}\n`).join('')}-----END ${label}-----\n`;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END ([A-Z0-9 ]+)-----/g;

/**
 * Every `label` block of a PEM text, as DER, in order. Text between blocks is
 * ignored (RFC 7468 §2); inside a block, line breaks, spaces and tabs may
 * separate the characters, which must form canonical padded base64. A block
 * whose END label differs from its BEGIN label, bad base64 in a block, or no
 * block at all: an EncumberError with `code` (UsageError by default: PEM comes
 * from callers and files).
 */
export function decodePem(text: string, label = 'CERTIFICATE', code: ErrorCode = 'UsageError'): Uint8Array[] {
  if (typeof text !== 'string') throw new EncumberError(code, `expected PEM text, got ${typeof text}`);
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (m[1] !== m[3]) throw new EncumberError(code, `PEM block "BEGIN ${m[1]}" ends with "END ${m[3]}"`);
    if (m[1] !== label) continue;
    try {
      out.push(decodeBase64(m[2]!.replace(/[ \t\r\n]+/g, ''), 'required'));
    } catch (cause) {
      throw new EncumberError(code, `PEM ${label} block ${out.length}: invalid base64 (${(cause as Error).message})`, { cause });
    }
  }
  if (out.length === 0) throw new EncumberError(code, `no -----BEGIN ${label}----- block in the PEM text`);
  return out;
}
