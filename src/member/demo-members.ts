/**
 * The demo identities behind the embedded default policy: three members
 * (alice, bob, carol) and an org, each a real did:plc whose genesis is made
 * with @did-plc/lib from keys derived from public labels. Deterministic
 * (RFC 6979 signatures, fixed createdAt), so anyone can regenerate them and
 * get the same DIDs. THE KEYS ARE PUBLIC: demo use only.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { memberKeyFromPrivateKey, type MemberKey } from './keys.ts';
import { auditEntry, createMemberDid } from './plc-ops.ts';
import type { PlcAuditEntry } from '../plc/types.ts';
import { policyDocument } from '../policy/policy.ts';

export const DEMO_CREATED_AT = new Date('2026-01-01T00:00:00.000Z');
export const DEMO_MEMBERS = ['alice', 'bob', 'carol'] as const;

export interface DemoIdentity {
  name: string;
  did: string;
  rotationKey: MemberKey;
  signingKey: MemberKey;
  log: PlcAuditEntry[];
}

function demoKey(label: string): MemberKey {
  return memberKeyFromPrivateKey(sha256(new TextEncoder().encode(`encumber demo key (public, insecure): ${label}`)));
}

export async function demoIdentity(name: string): Promise<DemoIdentity> {
  const rotationKey = demoKey(`${name}/rotation`);
  const signingKey = demoKey(`${name}/atproto`);
  const { did, op } = await createMemberDid({
    rotationKey,
    signingKey,
    handle: `${name}.demo.encumber.invalid`,
    pds: 'https://pds.demo.encumber.invalid',
  });
  return { name, did, rotationKey, signingKey, log: [auditEntry(did, op, DEMO_CREATED_AT)] };
}

/** The default policy's document, built from the demo identities. */
export async function demoPolicyDocument(): Promise<Record<string, unknown>> {
  const org = await demoIdentity('org');
  const members = await Promise.all(DEMO_MEMBERS.map(demoIdentity));
  return policyDocument({ repository: org.did, signers: members.map((m) => m.did), threshold: 2 });
}
