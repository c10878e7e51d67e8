/**
 * The M-of-N decision, pure: given the policy, the payload, the co-signatures
 * and each signer's verified PLC state, either the list of counted co-signers
 * or a typed refusal. Rules in order; any doubt refuses the whole request.
 */
import { EncumberError } from '../errors.ts';
import { parseDidKeyCached } from '../crypto/key-cache.ts';
import { CURVES } from '../crypto/curves.ts';
import type { PublicKey } from '../crypto/did-key.ts';
import { checkSignatureAsync, checkSignatureForm, describeSignatureFailure, type SignatureFailure } from '../crypto/verify.ts';
import { verificationMethodKey } from '../plc/methods.ts';
import type { PlcState } from '../plc/types.ts';
import type { Policy } from './schema.ts';
import type { Payload } from './payload.ts';
import { countQuorum } from './quorum.ts';

export interface Cosignature {
  issuer: string;
  sig: Uint8Array;
}

export interface CountedSigner {
  did: string;
  /** The did:key the signature verified with. */
  key: string;
  sig: Uint8Array;
  head: { cid: string; createdAt: string };
}

/*
 * Rules that need only the request, checked before any PLC work (DESIGN.md
 * "Resource rules"): whatever fails here costs the enclave no directory
 * request. First the scope, then (once the payload is built) the co-signatures.
 */

/** The record goes to the policy's repository and into one of its collections. */
export function checkRequestScope(policy: Policy, repository: string, collection: string): void {
  // Rule: the record goes to the policy's repository …
  if (repository !== policy.repository) {
    throw new EncumberError('RepositoryNotAllowed', `repository ${repository} is not the policy's repository`, {
      expected: policy.repository,
      actual: repository,
    });
  }
  // … and into one of its collections.
  if (!policy.collections.includes(collection)) {
    throw new EncumberError('CollectionNotAllowed', `collection ${collection} is not allowed by the policy`, {
      expected: policy.collections,
      actual: collection,
    });
  }
}

/**
 * Each co-signature has a signature's form and comes from a policy member
 * named once, and there are enough of them for the threshold. Returns the
 * DIDs whose PLC state is needed.
 */
export function checkCosignaturesBeforePlc(policy: Policy, cosignatures: Cosignature[]): string[] {
  return countQuorum(
    policy,
    cosignatures.map((c) => c.issuer),
    (index) => {
      // Rule: every co-signature has the form of a signature (64 bytes r‖s,
      // 1 ≤ r, s < n, low-S) on a curve a member key can have; the key, and so
      // the curve, is known only from the PLC state, where the full check runs.
      const c = cosignatures[index]!;
      const failure = signatureFormFailure(c.sig);
      if (failure) {
        throw new EncumberError('InvalidCosignature', `co-signature ${index} from ${c.issuer}: ${describeSignatureFailure(failure)}`, {
          index,
          actual: failure,
        });
      }
    },
  );
}

/** The form rules of `checkSignatureForm` on the curve most lenient for `sig`: undefined if some curve accepts it. */
function signatureFormFailure(sig: Uint8Array): SignatureFailure | undefined {
  const failures = CURVES.map((curve) => checkSignatureForm(curve, sig));
  return failures.includes(undefined) ? undefined : failures[0];
}

export async function decide(
  policy: Policy,
  payload: Payload,
  cosignatures: Cosignature[],
  states: ReadonlyMap<string, PlcState>,
): Promise<CountedSigner[]> {
  // Rules on each co-signer's state, in order, before any signature work.
  const candidates = cosignatures.map((c, index) => {
    const signer = policy.signers.find((s) => s.did === c.issuer)!;
    const state = states.get(c.issuer);
    if (!state) throw new EncumberError('MissingPlcLog', `no verified PLC state for ${c.issuer}`, { index });
    // Rule: a tombstoned DID cannot co-sign.
    if (state.tombstoned) throw new EncumberError('SignerTombstoned', `${c.issuer} is tombstoned`, { index });
    // Rule: the signer's current state has the policy's key id.
    const key = verificationMethodKey(state, signer.keyId);
    if (!key) {
      throw new EncumberError('SignerKeyMissing', `${c.issuer} has no verification method #${signer.keyId}`, { index });
    }
    let publicKey: PublicKey;
    try {
      publicKey = parseDidKeyCached(key);
    } catch (cause) {
      throw new EncumberError('SignerKeyMissing', `${c.issuer}#${signer.keyId} is not a k256/p256 did:key`, { index, cause });
    }
    return { c, index, key, publicKey, state };
  });
  // Rule: every co-signature verifies over the payload with that key (checked
  // in parallel). One bad signature refuses the request, even if enough others are good.
  const failures = await Promise.all(candidates.map((x) => checkSignatureAsync(x.publicKey, payload.bytes, x.c.sig)));
  candidates.forEach(({ c, index }, i) => {
    const failure = failures[i];
    if (failure) {
      throw new EncumberError('InvalidCosignature', `co-signature ${index} from ${c.issuer}: ${describeSignatureFailure(failure)}`, {
        index,
        actual: failure,
      });
    }
  });
  // Rule: the verified co-signatures, members named once, reach the threshold (the same count as every verifier's).
  countQuorum(policy, candidates.map((x) => x.c.issuer));
  const counted = candidates.map(({ c, key, state }): CountedSigner => ({ did: c.issuer, key, sig: c.sig, head: { cid: state.head.cid, createdAt: state.head.createdAt } }));
  return counted;
}
