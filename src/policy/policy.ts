/**
 * Loading a policy and computing its CID. The CID is taken over the document
 * exactly as given (after strict validation), never over a defaulted copy.
 */
import { EncumberError } from '../errors.ts';
import { cidForValue, type CID } from '../data/cid.ts';
import { policySchema, type Policy } from './schema.ts';

export interface LoadedPolicy {
  policy: Policy;
  cid: CID;
}

export function parsePolicy(value: unknown): LoadedPolicy {
  const parsed = policySchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.');
    throw new EncumberError('InvalidPolicy', `policy ${path || '(root)'}: ${issue.message}`, { path });
  }
  // The schema neither adds nor drops fields, so `value` and `parsed.data` encode identically;
  // hash `value` itself to make that explicit.
  return { policy: parsed.data, cid: cidForValue(value) };
}

export function parsePolicyJson(text: string): LoadedPolicy {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new EncumberError('InvalidPolicy', `policy is not JSON: ${(e as Error).message}`);
  }
  return parsePolicy(value);
}

/** A policy document for `threshold` of `signers` (keyId `atproto`) posting to `repository`; supplied PLC logs. */
export function policyDocument(opts: {
  repository: string;
  signers: string[];
  threshold: number;
  collections?: string[];
  plc?: Record<string, unknown>;
  maxRecordBytes?: number;
}): Record<string, unknown> {
  return {
    $type: 'dev.encumber.policy',
    version: 1,
    repository: opts.repository,
    signers: opts.signers.map((did) => ({ did, keyId: 'atproto' })),
    threshold: opts.threshold,
    collections: opts.collections ?? ['app.bsky.feed.post'],
    plc: opts.plc ?? { directory: 'https://plc.directory', source: 'supplied' },
    limits: { maxRecordBytes: opts.maxRecordBytes ?? 16384 },
  };
}
