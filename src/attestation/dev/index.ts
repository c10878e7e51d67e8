/** The dev platform: a local CA issuing Nitro-shaped documents, and their verifier. */
export { createDevRoot, DevRoot, DEV_ROOT_COMMON_NAME, type DevRootOptions, type PersistedDevRoot } from './root.ts';
export { issueDevDocument, DEV_LEAF_VALIDITY_MS, type DevDocumentInput } from './issue.ts';
export { devPcrsFromDigests, extendPcr, ZERO_PCR, type DevDigests } from './pcrs.ts';
export { verifyDevDocument, type DevVerifyOptions } from './verify.ts';
