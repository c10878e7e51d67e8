/**
 * Strict base64 / base64url / hex codecs.
 *
 * Signatures are hashed into CIDs, so one signature must have exactly one text
 * form: no padding, no whitespace, no non-zero trailing bits. The alphabet and
 * length are checked first; then we decode and require that re-encoding gives
 * back the exact input, which rejects every non-canonical spelling in one rule.
 *
 * Pure JavaScript (no Buffer), so the same module runs in a browser (src/web).
 */
import { EncumberError } from '../errors.ts';

const BASE64URL_CHARS = /^[A-Za-z0-9_-]*$/;
const BASE64_CHARS = /^[A-Za-z0-9+/]*$/;

function firstBadChar(s: string, allowed: RegExp): { ch: string; at: number } | undefined {
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (!allowed.test(ch)) return { ch, at: i };
  }
  return undefined;
}

function decodeStrict(s: string, alphabet: 'base64' | 'base64url', chars: RegExp): Uint8Array {
  if (typeof s !== 'string') {
    throw new EncumberError('MalformedBase64', `expected a ${alphabet} string, got ${typeof s}`);
  }
  if (!chars.test(s)) {
    const bad = firstBadChar(s, alphabet === 'base64' ? /[A-Za-z0-9+/]/ : /[A-Za-z0-9_-]/);
    const shown = JSON.stringify(bad?.ch ?? '?');
    throw new EncumberError(
      'MalformedBase64',
      bad?.ch === '='
        ? `${alphabet} must not be padded ('=' at offset ${bad.at})`
        : `non-${alphabet} character ${shown} at offset ${bad?.at ?? -1}`,
      { actual: bad?.ch },
    );
  }
  if (s.length % 4 === 1) {
    throw new EncumberError('MalformedBase64', `${alphabet} length ${s.length} is impossible (length % 4 == 1)`);
  }
  const bytes = decodeChars(s, alphabet === 'base64' ? STD_VALUES : URL_VALUES);
  if (encodeWith(bytes, alphabet) !== s) {
    throw new EncumberError('MalformedBase64', `${alphabet} is not canonical (non-zero trailing bits)`);
  }
  return bytes;
}

const STD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** char code → 6-bit value (255: not in the alphabet). */
function valueTable(alphabet: string): Uint8Array {
  const t = new Uint8Array(128).fill(255);
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
}
const STD_VALUES = valueTable(STD_ALPHABET);
const URL_VALUES = valueTable(URL_ALPHABET);

/** Decode characters already known to be in the alphabet, length % 4 != 1, no padding. */
function decodeChars(s: string, values: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    acc = (acc << 6) | values[s.charCodeAt(i)]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  return out;
}

/** Unpadded encoding in either alphabet. */
function encodeWith(bytes: Uint8Array, alphabet: 'base64' | 'base64url'): string {
  const chars = alphabet === 'base64' ? STD_ALPHABET : URL_ALPHABET;
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += chars[n >> 18]! + chars[(n >> 12) & 63]! + chars[(n >> 6) & 63]! + chars[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += chars[n >> 18]! + chars[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += chars[n >> 18]! + chars[(n >> 12) & 63]! + chars[(n >> 6) & 63]!;
  }
  return out;
}

/** base64url without padding, canonical (as PLC signatures are). */
export function decodeBase64Url(s: string): Uint8Array {
  return decodeStrict(s, 'base64url', BASE64URL_CHARS);
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeWith(bytes, 'base64url');
}

/** Standard-alphabet base64 without padding, canonical (atproto `$bytes`). */
export function decodeBase64(s: string): Uint8Array {
  return decodeStrict(s, 'base64', BASE64_CHARS);
}

export function encodeBase64(bytes: Uint8Array): string {
  return encodeWith(bytes, 'base64');
}

const HEX_BYTES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_BYTES[bytes[i]!]!;
  return out;
}

export function fromHex(s: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new EncumberError('UsageError', 'expected an even-length hex string');
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
