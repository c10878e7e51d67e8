/**
 * The enclave's own documents (DESIGN.md): binding, receipt, signature entry.
 * CIDs inside them are DAG-CBOR links, times are UTC ISO with milliseconds.
 */
import type { CID } from '../data/cid.ts';

export const BINDING_TYPE = 'dev.encumber.binding';
export const RECEIPT_TYPE = 'dev.encumber.receipt';
export const SIGNATURE_TYPE = 'dev.encumber.signature';

export type Platform = 'nitro' | 'sev-snp' | 'dev';

/** The program every binding and hand-off document names. */
export const PROGRAM = { name: 'encumber', version: '0.1.0' } as const;

export interface Binding {
  $type: typeof BINDING_TYPE;
  version: 1;
  key: string;
  policy: CID;
  program: { name: string; version: string };
  platform: Platform;
  createdAt: string;
  /**
   * The DID guard's key (did:key, k256), present exactly when the policy's
   * `didGuard` is enabled (docs/did-guard.md): the organisation's
   * highest-priority PLC rotation key, attested with the signing key.
   */
  guardKey?: string;
}

export interface ReceiptHead {
  did: string;
  cid: CID;
  createdAt: string;
  /** The did:key the member's co-signature was verified with (binds the co-signer entry). */
  key: string;
}

export interface UnsignedReceipt {
  $type: typeof RECEIPT_TYPE;
  cid: CID;
  policy: CID;
  heads: ReceiptHead[];
  signedAt: string;
}

export interface Receipt extends UnsignedReceipt {
  sig: Uint8Array;
}

export interface SignatureEntry {
  $type: typeof SIGNATURE_TYPE;
  issuer: string;
  key: string;
  sig: Uint8Array;
  binding?: CID;
  receipt?: Receipt;
}

export { encodeDocument, type EncodedDocument } from '../data/cid.ts';
