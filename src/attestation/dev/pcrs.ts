/**
 * PCRs for the dev platform, computed from the same digests a reproducible
 * build publishes, so "does this running program equal that build?" is the
 * same PCR comparison on dev as on Nitro.
 *
 * A PCR starts as 48 zero bytes and is extended with a measurement:
 *   extend(pcr, m) = SHA-384(pcr ‖ m),  where m = SHA-384(data) is 48 bytes.
 * Inputs (each a SHA-384 digest, 48 bytes):
 *   - bundleSha384: SHA-384 of the application bundle file (the esbuild output that runs).
 *   - runtimeSha384 (optional): SHA-384 of the runtime binary (the pinned `node`).
 * Mapping, after the roles Nitro gives PCR0/1/2 (whole image / boot / application):
 *   PCR1 = extend(0⁴⁸, runtimeSha384)                        or 48 zero bytes without a runtime digest
 *   PCR2 = extend(0⁴⁸, bundleSha384)
 *   PCR0 = extend(extend(0⁴⁸, runtimeSha384), bundleSha384)  or extend(0⁴⁸, bundleSha384) without one
 * PCR0 is never all zero here, so a dev document is never mistaken for a debug enclave.
 */
import { sha384 } from '@noble/hashes/sha2.js';
import { EncumberError } from '../../errors.ts';

export const PCR_BYTES = 48;
export const ZERO_PCR = new Uint8Array(PCR_BYTES);

function digest48(v: unknown, name: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== PCR_BYTES) {
    throw new EncumberError('UsageError', `${name} must be a 48-byte SHA-384 digest`, {
      expected: PCR_BYTES,
      actual: v instanceof Uint8Array ? v.length : typeof v,
    });
  }
  return v;
}

/** PCR extend: SHA-384(pcr ‖ measurement), both 48 bytes. */
export function extendPcr(pcr: Uint8Array, measurement: Uint8Array): Uint8Array {
  const buf = new Uint8Array(2 * PCR_BYTES);
  buf.set(digest48(pcr, 'pcr'), 0);
  buf.set(digest48(measurement, 'measurement'), PCR_BYTES);
  return sha384(buf);
}

export interface DevDigests {
  bundleSha384: Uint8Array;
  runtimeSha384?: Uint8Array;
}

export function devPcrsFromDigests(digests: DevDigests): { 0: Uint8Array; 1: Uint8Array; 2: Uint8Array } {
  const bundle = digest48(digests.bundleSha384, 'bundleSha384');
  const runtime = digests.runtimeSha384 === undefined ? undefined : digest48(digests.runtimeSha384, 'runtimeSha384');
  const pcr1 = runtime ? extendPcr(ZERO_PCR, runtime) : new Uint8Array(PCR_BYTES);
  return {
    0: extendPcr(runtime ? pcr1 : ZERO_PCR, bundle),
    1: pcr1,
    2: extendPcr(ZERO_PCR, bundle),
  };
}
