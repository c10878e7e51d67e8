/**
 * Verifier options, checked up front. Options come from the caller, not from
 * the evidence, so a bad option is a programming error: EncumberError('UsageError').
 */
import { EncumberError } from '../../errors.ts';
import { hexOption, pemCertificates } from '../bytes.ts';
import { NITRO_LIMITS } from './limits.ts';

export interface NitroVerifyOptions {
  /** Pinned roots: DER certificates, or PEM text with one or more CERTIFICATE blocks. Never empty. */
  trustRoots: Uint8Array[] | string;
  /** The time at which the chain must be valid (a document's own timestamp, or "now"). */
  at: Date;
  /** Accept debug-mode enclaves (PCR0 all zero). Default false. */
  allowDebug?: boolean;
  /** PCR index → expected 48-byte value (bytes or hex); each must be present and equal. */
  expectedPcrs?: Record<number, Uint8Array | string>;
  /** The verifier's nonce; the document's nonce must equal it. */
  expectedNonce?: Uint8Array;
  /** The document's public_key must equal this (e.g. the 33-byte compressed enclave key). */
  expectedPublicKey?: Uint8Array;
  /** The document's user_data must equal this (e.g. the binding CID bytes). */
  expectedUserData?: Uint8Array;
  /** Refuse documents whose timestamp is more than this many ms before `at`. */
  maxAgeMs?: number;
  /** Input size limit in bytes, checked before parsing. Default NITRO_LIMITS.maxDocumentBytes (16 KiB). */
  maxBytes?: number;
}

export interface NormalizedOptions {
  roots: Uint8Array[];
  at: number;
  allowDebug: boolean;
  expectedPcrs: Map<number, Uint8Array>;
  expectedNonce?: Uint8Array;
  expectedPublicKey?: Uint8Array;
  expectedUserData?: Uint8Array;
  maxAgeMs?: number;
  maxBytes: number;
}

function usage(message: string, actual?: unknown): never {
  throw new EncumberError('UsageError', message, { actual });
}

function optionalBytes(v: unknown, name: string): Uint8Array | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof Uint8Array)) usage(`${name} must be a Uint8Array`);
  return v;
}

export function normalizeOptions(opts: NitroVerifyOptions): NormalizedOptions {
  if (typeof opts !== 'object' || opts === null) usage('options are required ({ trustRoots, at })');

  const roots = typeof opts.trustRoots === 'string' ? pemCertificates(opts.trustRoots) : opts.trustRoots;
  if (!Array.isArray(roots) || roots.length === 0 || !roots.every((r) => r instanceof Uint8Array && r.length > 0)) {
    usage('trustRoots must be a non-empty array of DER certificates or PEM text');
  }

  if (!(opts.at instanceof Date) || !Number.isFinite(opts.at.getTime())) usage('at must be a valid Date', opts.at);

  const expectedPcrs = new Map<number, Uint8Array>();
  for (const [key, value] of Object.entries(opts.expectedPcrs ?? {})) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= NITRO_LIMITS.maxPcrs) usage(`expectedPcrs: bad PCR index ${key}`);
    const bytes = typeof value === 'string' ? hexOption(value, `expectedPcrs[${index}]`) : value;
    if (!(bytes instanceof Uint8Array) || bytes.length !== NITRO_LIMITS.pcrBytes) {
      usage(`expectedPcrs[${index}] must be ${NITRO_LIMITS.pcrBytes} bytes`);
    }
    expectedPcrs.set(index, bytes);
  }

  if (opts.maxAgeMs !== undefined && !(Number.isFinite(opts.maxAgeMs) && opts.maxAgeMs >= 0)) usage('maxAgeMs must be ≥ 0', opts.maxAgeMs);
  const maxBytes = opts.maxBytes ?? NITRO_LIMITS.maxDocumentBytes;
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) usage('maxBytes must be a positive integer', opts.maxBytes);

  const out: NormalizedOptions = {
    roots: roots.map((r) => new Uint8Array(r)),
    at: opts.at.getTime(),
    allowDebug: opts.allowDebug === true,
    expectedPcrs: new Map([...expectedPcrs].sort(([a], [b]) => a - b)),
    maxBytes,
  };
  const nonce = optionalBytes(opts.expectedNonce, 'expectedNonce');
  const publicKey = optionalBytes(opts.expectedPublicKey, 'expectedPublicKey');
  const userData = optionalBytes(opts.expectedUserData, 'expectedUserData');
  if (nonce) out.expectedNonce = nonce;
  if (publicKey) out.expectedPublicKey = publicKey;
  if (userData) out.expectedUserData = userData;
  if (opts.maxAgeMs !== undefined) out.maxAgeMs = opts.maxAgeMs;
  return out;
}
