/**
 * Strict base64 / base64url / hex codecs.
 *
 * Signatures are hashed into CIDs, so one signature must have exactly one text
 * form: no padding, no whitespace, no non-zero trailing bits. We decode with
 * Buffer (fast, but lenient) and then require that re-encoding gives back the
 * exact input, which rejects every non-canonical spelling in one rule.
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
  const bytes = new Uint8Array(Buffer.from(s, alphabet));
  if (encodeWith(bytes, alphabet) !== s) {
    throw new EncumberError('MalformedBase64', `${alphabet} is not canonical (non-zero trailing bits)`);
  }
  return bytes;
}

function encodeWith(bytes: Uint8Array, alphabet: 'base64' | 'base64url'): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(alphabet);
  return alphabet === 'base64' ? b.replace(/=+$/, '') : b;
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

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new EncumberError('UsageError', 'expected an even-length hex string');
  }
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
