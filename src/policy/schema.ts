/**
 * The policy document (DESIGN.md "Policy"), validated strictly: unknown fields
 * are rejected, and nothing is defaulted, because the policy CID is the CID
 * of the document exactly as given.
 */
import { z } from 'zod';
import { isValidDid, isValidDidPlc } from '../data/syntax/did.ts';
import { isValidNsid } from '../data/syntax/nsid.ts';

const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}, 'must be an http(s) URL without credentials');

export const signerSchema = z.strictObject({
  did: z.string().refine(isValidDidPlc, 'must be a did:plc'),
  keyId: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be a verification-method id such as "atproto"'),
});

/**
 * `pollSeconds`: how often the guard reads the repository's audit log (fetch
 * mode). `revert`: 'all' = every operation the guard key did not sign;
 * 'keys-and-pds' = only those that change rotationKeys, the #atproto
 * verification method or the atproto_pds endpoint. `allowRelease`: a
 * quorum-approved operation may give the DID up (default: never).
 */
export const didGuardSchema = z.strictObject({
  enabled: z.boolean(),
  pollSeconds: z.number().int().min(10).max(86_400),
  revert: z.enum(['all', 'keys-and-pds']),
  /**
   * May a quorum-approved operation give the DID up (put another rotation key first, or drop the guard key)?
   * Absent or false: never; the guard key stays first.
   */
  allowRelease: z.boolean().optional(),
});

export const policySchema = z
  .strictObject({
    $type: z.literal('dev.encumber.policy'),
    version: z.literal(1),
    repository: z.string().refine(isValidDid, 'must be a DID'),
    signers: z.array(signerSchema).min(1).max(64),
    threshold: z.number().int().min(1),
    collections: z.array(z.string().refine(isValidNsid, 'must be an NSID')).min(1).max(64),
    // `mirrors` and `maxCacheAgeSeconds` only make sense when the service
    // fetches (src/enclave/plc-resolver.ts enforces both); see the refinement.
    plc: z.strictObject({
      directory: httpUrl,
      mirrors: z.array(httpUrl).min(1).max(8).optional(),
      source: z.enum(['fetch', 'supplied']),
      maxCacheAgeSeconds: z.number().int().min(0).max(3600).optional(),
    }),
    limits: z.strictObject({
      maxRecordBytes: z.number().int().min(64).max(1_000_000),
    }),
    // The DID guard (docs/did-guard.md): the enclave holds the repository's
    // highest-priority PLC rotation key. Absent = no guard key, nothing changes.
    didGuard: didGuardSchema.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.threshold > p.signers.length) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: `threshold ${p.threshold} exceeds ${p.signers.length} signers` });
    }
    const dids = p.signers.map((s) => s.did);
    if (new Set(dids).size !== dids.length) {
      ctx.addIssue({ code: 'custom', path: ['signers'], message: 'a DID appears twice among the signers' });
    }
    if (p.plc.source === 'supplied') {
      for (const field of ['mirrors', 'maxCacheAgeSeconds'] as const) {
        if (p.plc[field] !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['plc', field], message: `${field} needs source "fetch" (in supplied mode the request brings the logs)` });
        }
      }
    }
    const sources = [p.plc.directory, ...(p.plc.mirrors ?? [])].map((u) => new URL(u).href);
    if (new Set(sources).size !== sources.length) {
      ctx.addIssue({ code: 'custom', path: ['plc', 'mirrors'], message: 'a mirror repeats the directory or another mirror' });
    }
    if (p.didGuard?.enabled) {
      if (!isValidDidPlc(p.repository)) {
        ctx.addIssue({ code: 'custom', path: ['didGuard'], message: 'the DID guard needs a did:plc repository' });
      }
      if (p.plc.source !== 'fetch') {
        ctx.addIssue({ code: 'custom', path: ['didGuard'], message: 'the DID guard needs plc.source "fetch" (it reads the directory itself)' });
      }
    }
    // The enclave's own document types (dev.encumber.*: receipts, the guard log, PLC operations, upgrades, ...) must
    // never be signable as a record: the enclave key signs them itself, and a co-signed record of one of those types
    // would carry the same key's signature over a document of that type.
    for (const c of p.collections) {
      if (c.startsWith('dev.encumber.')) {
        ctx.addIssue({ code: 'custom', path: ['collections'], message: `${c}: the dev.encumber namespace is the enclave's own documents, not a record collection` });
      }
    }
    if (new Set(p.collections).size !== p.collections.length) {
      ctx.addIssue({ code: 'custom', path: ['collections'], message: 'duplicate collection' });
    }
  });

export type Policy = z.infer<typeof policySchema>;
export type PolicySigner = z.infer<typeof signerSchema>;
export type DidGuardPolicy = z.infer<typeof didGuardSchema>;

/** The policy's DID guard when it is on (undefined when absent or disabled). */
export function didGuardOf(p: Policy): DidGuardPolicy | undefined {
  return p.didGuard?.enabled ? p.didGuard : undefined;
}
