/**
 * The Nitro Security Module's request/response protocol (pure: bytes in,
 * bytes out). The ioctl that carries it is in src/enclave/nitro/.
 */
export {
  NSM_DIGESTS,
  NSM_ERROR_CODES,
  type NsmDigest,
  type NsmErrorCode,
  type NsmRequest,
  type NsmRequestType,
  type NsmResponse,
  type NsmResponseType,
} from './messages.ts';
export { encodeNsmRequest, decodeNsmRequest } from './request.ts';
export { decodeNsmResponse, encodeNsmResponse, expectNsmResponse } from './response.ts';
export { NsmError, isNsmError, type NsmFailure } from './errors.ts';
export { NSM_LIMITS } from './limits.ts';
