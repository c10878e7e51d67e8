/** Nitro attestation documents: parse and verify (pure, browser-safe). */
export { verifyNitroDocument, pcrsHex, type NitroAttestation, type NitroVerdict } from './verify.ts';
export type { NitroVerifyOptions } from './options.ts';
export { parseCoseSign1, sigStructure, type CoseSign1 } from './cose.ts';
export { parseAttestationDocument, type NitroDocument } from './document.ts';
export { NITRO_LIMITS } from './limits.ts';
export { AWS_NITRO_ROOT_G1_DER, AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './roots.ts';
