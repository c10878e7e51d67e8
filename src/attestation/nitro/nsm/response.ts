/**
 * NSM responses: decode (the enclave's side) and encode (the device's side,
 * for stand-ins), and `expectNsmResponse`, which turns Error(code) and a
 * response of the wrong kind into typed errors.
 */
import { encodeCbor } from '../cbor.ts';
import { describe } from '../cose.ts';
import { NsmError } from './errors.ts';
import { NSM_LIMITS } from './limits.ts';
import { NSM_ERROR_CODES, RESPONSE_VARIANTS, type NsmErrorCode, type NsmResponse, type NsmResponseType } from './messages.ts';
import { decodeItem, decodeVariant, encodeVariant, readField, type Fail } from './wire.ts';

const malformed: Fail = (message, details = {}) => {
  throw new NsmError('MalformedResponse', `NSM response: ${message}`, details);
};

function errorCode(inner: unknown): NsmErrorCode {
  if (!NSM_ERROR_CODES.includes(inner as NsmErrorCode)) {
    malformed(`Error must carry one of ${NSM_ERROR_CODES.join(', ')}`, { path: 'Error', expected: NSM_ERROR_CODES, actual: describe(inner) });
  }
  return inner as NsmErrorCode;
}

export function decodeNsmResponse(bytes: Uint8Array): NsmResponse {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > NSM_LIMITS.responseBufferBytes) {
    return malformed(`must be 1..${NSM_LIMITS.responseBufferBytes} bytes`, { expected: NSM_LIMITS.responseBufferBytes, actual: bytes?.length });
  }
  const item = decodeItem(bytes, malformed);
  const response = decodeVariant(RESPONSE_VARIANTS, item, malformed, (type, inner) =>
    type === 'Error' ? { code: errorCode(inner) } : undefined,
  ) as NsmResponse;
  if (response.type === 'Attestation' && (response.document.length === 0 || response.document.length > NSM_LIMITS.maxDocumentBytes)) {
    malformed(`Attestation.document is ${response.document.length} bytes, allowed 1..${NSM_LIMITS.maxDocumentBytes}`, {
      path: 'Attestation.document',
      actual: response.document.length,
    });
  }
  return response;
}

/** The device's side: what an NSM writes. */
export function encodeNsmResponse(response: NsmResponse): Uint8Array {
  const bad: Fail = (message, details = {}) => {
    throw new NsmError('InvalidRequest', `NSM response to encode: ${message}`, details);
  };
  if (response.type === 'Error') return encodeCbor(new Map([['Error', errorCode(response.code)]]));
  const fields = (RESPONSE_VARIANTS as Record<string, (typeof RESPONSE_VARIANTS)[keyof typeof RESPONSE_VARIANTS]>)[response.type];
  if (fields === undefined) return bad(`unknown response type ${JSON.stringify(response.type)}`);
  const value: Record<string, unknown> = {};
  for (const [wire, name, kind] of fields ?? []) {
    value[name] = readField(kind, (response as unknown as Record<string, unknown>)[name], `${response.type}.${wire}`, bad);
  }
  return encodeVariant(RESPONSE_VARIANTS, response.type, value);
}

/**
 * The response a request of kind `type` must get. Error(code) → NsmError
 * 'NsmError' with `nsmCode`; any other kind → 'UnexpectedResponse'.
 */
export function expectNsmResponse<T extends Exclude<NsmResponseType, 'Error'>>(
  response: NsmResponse,
  type: T,
): Extract<NsmResponse, { type: T }> {
  if (response.type === 'Error') {
    throw new NsmError('NsmError', `the NSM refused the ${type} request: ${response.code}`, { nsmCode: response.code, expected: type });
  }
  if (response.type !== type) {
    throw new NsmError('UnexpectedResponse', `the NSM answered a ${type} request with ${response.type}`, {
      expected: type,
      actual: response.type,
    });
  }
  return response as Extract<NsmResponse, { type: T }>;
}
