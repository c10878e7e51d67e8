/**
 * NSM requests: encode (the enclave's side) and decode (the device's side,
 * for stand-ins). A request we would not send is refused before encoding:
 * each Attestation field ≤ 1024 bytes, indices u16, the whole ≤ 4 KiB.
 */
import { NsmError } from './errors.ts';
import { NSM_LIMITS } from './limits.ts';
import { REQUEST_VARIANTS, type NsmRequest } from './messages.ts';
import { decodeItem, decodeVariant, encodeVariant, readField, type Fail } from './wire.ts';

const invalid: Fail = (message, details = {}) => {
  throw new NsmError('InvalidRequest', `NSM request: ${message}`, details);
};

export function encodeNsmRequest(request: NsmRequest): Uint8Array {
  if (typeof request !== 'object' || request === null) return invalid('must be an object with a type');
  const fields = (REQUEST_VARIANTS as Record<string, (typeof REQUEST_VARIANTS)[keyof typeof REQUEST_VARIANTS]>)[request.type];
  if (fields === undefined) return invalid(`unknown request type ${JSON.stringify(request.type)}`, { actual: request.type });
  const value: Record<string, unknown> = {};
  for (const [wire, name, kind] of fields ?? []) {
    const v = readField(kind, (request as unknown as Record<string, unknown>)[name], `${request.type}.${wire}`, invalid);
    if (request.type === 'Attestation' && v instanceof Uint8Array && v.length > NSM_LIMITS.maxAttestationFieldBytes) {
      invalid(`${request.type}.${wire} is ${v.length} bytes, at most ${NSM_LIMITS.maxAttestationFieldBytes}`, {
        path: `${request.type}.${wire}`,
        expected: NSM_LIMITS.maxAttestationFieldBytes,
        actual: v.length,
      });
    }
    value[name] = v;
  }
  const bytes = encodeVariant(REQUEST_VARIANTS, request.type, value);
  if (bytes.length > NSM_LIMITS.maxRequestBytes) {
    invalid(`encodes to ${bytes.length} bytes, the driver takes at most ${NSM_LIMITS.maxRequestBytes}`, {
      expected: NSM_LIMITS.maxRequestBytes,
      actual: bytes.length,
    });
  }
  return bytes;
}

/** The device's side: what an NSM reads. Refuses what encodeNsmRequest would refuse. */
export function decodeNsmRequest(bytes: Uint8Array): NsmRequest {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > NSM_LIMITS.maxRequestBytes) {
    return invalid(`must be 1..${NSM_LIMITS.maxRequestBytes} bytes`, { actual: bytes?.length });
  }
  const request = decodeVariant(REQUEST_VARIANTS, decodeItem(bytes, invalid), invalid) as NsmRequest;
  encodeNsmRequest(request); // the same limits both ways
  return request;
}
