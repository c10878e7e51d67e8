/**
 * Sizes of the NSM interface. The request and response maxima are the Linux
 * driver's (uapi/linux/nsm.h: NSM_REQUEST_MAX_SIZE 0x1000, NSM_RESPONSE_MAX_SIZE
 * 0x3000); we hand the driver a larger response buffer (16 KiB) so a response
 * is never truncated, and refuse one that fills it. The optional attestation
 * fields allow 1024 bytes each, as the document verifier does.
 */
import { NITRO_LIMITS } from '../limits.ts';

export const NSM_LIMITS = {
  /** user_data, nonce, public_key of an Attestation request. */
  maxAttestationFieldBytes: NITRO_LIMITS.maxOptionalFieldBytes,
  /** A whole encoded request (the driver answers EMSGSIZE above this). */
  maxRequestBytes: 0x1000,
  /** The most the device writes back. */
  maxDeviceResponseBytes: 0x3000,
  /** The response buffer we hand the driver. */
  responseBufferBytes: 16 * 1024,
  /** The document inside an Attestation response. */
  maxDocumentBytes: NITRO_LIMITS.maxDocumentBytes,
  /** PCR indices and ranges are u16 in the API. */
  maxU16: 0xffff,
} as const;
