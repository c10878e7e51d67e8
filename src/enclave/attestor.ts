/**
 * Attestation providers, one per platform, behind one interface. The service
 * never picks one itself: the composition root does, from the configured
 * platform, and a provider for a platform whose hardware is absent refuses to
 * start rather than fall back to another.
 */
import type { Platform } from './documents.ts';

export interface AttestationRequest {
  /** 33-byte compressed enclave public key. */
  publicKey: Uint8Array;
  /** The binding document's DAG-CBOR bytes and its CID bytes. */
  bindingBytes: Uint8Array;
  bindingCid: Uint8Array;
  /** The verifier's nonce, 1–64 bytes. */
  nonce: Uint8Array;
  now: Date;
}

export interface Attestor {
  readonly platform: Platform;
  /** The raw platform evidence (Nitro/dev: COSE_Sign1 CBOR). */
  attest(req: AttestationRequest): Promise<Uint8Array>;
  /**
   * dev: the dev root (DER) its documents chain to. A peer instance trusts it
   * for the key hand-off only when it is its own dev root too (the same data
   * directory's dev-root.json; docs/decisions.md "Hand-off on the dev platform").
   */
  readonly devRoot?: Uint8Array;
  /** The platform's own view of the measurements, where it has one (Nitro: DescribePCR 0, 1, 2). */
  describeMeasurements?(): Promise<PlatformMeasurement[]>;
}

export interface PlatformMeasurement {
  /** e.g. PCR0. */
  name: string;
  value: Uint8Array;
}
