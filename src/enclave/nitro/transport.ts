/**
 * The seam between the NSM protocol and whatever carries it: one CBOR request
 * in, one CBOR response out. The device (device.ts) is one implementation;
 * tests use stand-ins. `nsmCall` is the typed round trip on top of it.
 */
import {
  decodeNsmResponse,
  encodeNsmRequest,
  expectNsmResponse,
  type NsmRequest,
  type NsmResponse,
} from '../../attestation/nitro/nsm/index.ts';

export interface NsmTransport {
  request(cbor: Uint8Array): Promise<Uint8Array>;
}

/** Encode, send, decode, and insist on the response kind that answers `request`. */
export async function nsmCall<T extends NsmRequest['type']>(
  transport: NsmTransport,
  request: Extract<NsmRequest, { type: T }>,
): Promise<Extract<NsmResponse, { type: T }>> {
  const response = decodeNsmResponse(await transport.request(encodeNsmRequest(request)));
  return expectNsmResponse(response, request.type as T) as Extract<NsmResponse, { type: T }>;
}
