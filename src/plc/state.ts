/**
 * The DID state at the canonical head. A legacy `create` head is presented in
 * the current shape, the way the directory normalises it.
 */
import type { PlcService, PlcState, PlcWarning, VerifiedNode } from './types.ts';

export function stateFromHead(
  did: string,
  nodes: readonly VerifiedNode[],
  canonical: readonly VerifiedNode[],
  nullified: boolean[],
  warnings: PlcWarning[],
): PlcState {
  const head = canonical[canonical.length - 1]!;
  const base = {
    did,
    head: { cid: head.cid, createdAt: head.createdAt, index: head.index },
    nullified: [...nullified],
    canonicalCids: canonical.map((n) => n.cid),
    entryCids: nodes.map((n) => n.cid),
    warnings,
  };
  const op = head.op;
  switch (op.type) {
    case 'plc_tombstone':
      return { ...base, rotationKeys: [], verificationMethods: {}, alsoKnownAs: [], services: {}, tombstoned: true };
    case 'plc_operation':
      return {
        ...base,
        rotationKeys: [...op.rotationKeys],
        verificationMethods: { ...op.verificationMethods },
        alsoKnownAs: [...op.alsoKnownAs],
        services: cloneServices(op.services),
        tombstoned: false,
      };
    case 'create':
      return {
        ...base,
        rotationKeys: [op.recoveryKey, op.signingKey],
        verificationMethods: { atproto: op.signingKey },
        alsoKnownAs: [ensureAtUri(op.handle)],
        services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: ensureHttp(op.service) } },
        tombstoned: false,
      };
  }
}

function cloneServices(s: Record<string, PlcService>): Record<string, PlcService> {
  const out: Record<string, PlcService> = {};
  for (const [k, v] of Object.entries(s)) out[k] = { type: v.type, endpoint: v.endpoint };
  return out;
}

function ensureAtUri(handle: string): string {
  if (handle.startsWith('at://')) return handle;
  return 'at://' + handle.replace('http://', '').replace('https://', '');
}

function ensureHttp(url: string): string {
  return url.startsWith('http://') || url.startsWith('https://') ? url : `https://${url}`;
}
