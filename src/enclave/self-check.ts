/**
 * The start-up attestation self-check (hardware platforms): before serving,
 * the service asks its attestor for one document over a fresh random nonce,
 * so a broken NSM or configfs-tsm fails the boot instead of every later
 * getAttestation. The result is logged as one console line: the nonce and the
 * raw document, both public (the document carries the public key, the binding
 * CID and the measurements; never key material). Where the platform can
 * describe its measurements (Nitro: DescribePCR), those are logged too.
 *
 *   encumber: attestation self-check ok: nonce=<hex> document=<base64>
 *   encumber: measurements: PCR0=<hex> PCR1=<hex> PCR2=<hex>
 */
import { randomBytes } from 'node:crypto';
import { EncumberError } from '../errors.ts';
import { decodeBase64, encodeBase64, fromHex, toHex } from '../crypto/encoding.ts';
import type { SigningService } from './service.ts';
import type { Attestor } from './attestor.ts';

export const SELF_CHECK_PREFIX = 'encumber: attestation self-check ok:';
export const MEASUREMENTS_PREFIX = 'encumber: measurements:';

export interface SelfCheck {
  nonce: Uint8Array;
  /** The raw platform evidence the attestor returned for that nonce. */
  evidence: Uint8Array;
  /** The console lines to log, in order. */
  lines: string[];
}

/** One attestation over a fresh 32-byte nonce (or the one given); throws what the attestor threw. */
export async function attestationSelfCheck(service: SigningService, attestor: Attestor, nonce: Uint8Array = new Uint8Array(randomBytes(32))): Promise<SelfCheck> {
  const { evidence: json } = await service.attestation(nonce);
  const b64 = (json as { $bytes?: unknown }).$bytes;
  if (typeof b64 !== 'string') throw new EncumberError('InternalError', 'the attestation evidence is not {"$bytes": ...}');
  const evidence = decodeBase64(b64, 'optional');
  const lines = [`${SELF_CHECK_PREFIX} nonce=${toHex(nonce)} document=${encodeBase64(evidence, { padded: true })}`];
  if (attestor.describeMeasurements) {
    const m = await attestor.describeMeasurements();
    lines.push(`${MEASUREMENTS_PREFIX} ${m.map((e) => `${e.name}=${toHex(e.value)}`).join(' ')}`);
  }
  return { nonce, evidence, lines };
}

/** `encumber: attestation self-check ok: nonce=… document=…` read back (tests, the host). */
export function parseSelfCheckLine(line: string): { nonce: Uint8Array; evidence: Uint8Array } | null {
  const m = /encumber: attestation self-check ok: nonce=([0-9a-f]{2,128}) document=([A-Za-z0-9+/]+={0,2})/.exec(line);
  if (!m) return null;
  try {
    return { nonce: fromHex(m[1]!, 'nonce'), evidence: decodeBase64(m[2]!, 'required') };
  } catch {
    return null;
  }
}
