/**
 * A guarded world for the DID guard's service and endpoint tests: three
 * members, an organisation DID in an in-process directory stand-in
 * (./plc-standin.ts) whose rotation keys are [the enclave's guard key, the
 * PDS's key], and a service booted with that guard key, the stand-in as its
 * directory (reads and writes) and a manual timer.
 */
import { generateK256PrivateKey } from '../../src/crypto/k256-signer.ts';
import { KeyHolder } from '../../src/enclave/key-holder.ts';
import { generateMemberKey, type MemberKey } from '../../src/member/keys.ts';
import { cosignDraft } from '../../src/member/cosign.ts';
import { PLC_OP_TYPE, plcOpDocument, type UnsignedPlcOp } from '../../src/policy/plc-op.ts';
import type { PlcOperation } from '../../src/plc/types.ts';
import { PlcStandIn } from './plc-standin.ts';
import { createMember, createWorld, policyFor, tick, type Member, type World } from './world.ts';

export interface GuardedWorld {
  w: World;
  dir: PlcStandIn;
  org: string;
  pds: MemberKey;
  guardDid: string;
  members: Member[];
  /** The guard key's bytes (only the key-leak test looks at them). */
  guardKeyBytes: Uint8Array;
  /** Fire the guard's next poll (the manual timer). */
  poll: () => void;
}

export async function guardedWorld(opts: { revert?: 'all' | 'keys-and-pds'; guardFirst?: boolean } = {}): Promise<GuardedWorld> {
  const members = [await createMember('alice.test'), await createMember('bob.test'), await createMember('carol.test')];
  const dir = new PlcStandIn(() => tick(1000));
  const guardBytes = generateK256PrivateKey();
  const guardDid = KeyHolder.generate(() => guardBytes.slice()).did;
  const pds = generateMemberKey();
  const org = await dir.create(pds, opts.guardFirst === false ? [pds.did, guardDid] : [guardDid, pds.did], generateMemberKey().did);
  const logs = new Map(members.map((m) => [m.did, m.log]));
  const timers: (() => void)[] = [];
  const w = await createWorld({
    members,
    policy: policyFor(members, {
      repository: org,
      plc: { directory: 'http://127.0.0.1:1', source: 'fetch' },
      didGuard: { enabled: true, pollSeconds: 60, revert: opts.revert ?? 'keys-and-pds' },
    }),
    fetchFrom: async (_source, did) => (did === org ? dir.fetchLog(did) : logs.get(did)),
    drawGuardKey: () => guardBytes.slice(),
    guardTimer: (run) => {
      timers.push(run);
      return () => {};
    },
    submitPlcOp: async (_dir, did, op) => ({ status: 200, body: await dir.submit(did, op) }),
  });
  return { w, dir, org, pds, guardDid, members, guardKeyBytes: guardBytes, poll: () => timers.shift()?.() };
}

/** The head's operation with `change` applied, unsigned, prev = the head. */
export function nextOp(g: GuardedWorld, change: (op: UnsignedPlcOp) => UnsignedPlcOp): UnsignedPlcOp {
  const { cid, operation } = g.dir.head(g.org);
  const { sig: _sig, ...rest } = operation as PlcOperation;
  return change({ ...(rest as unknown as UnsignedPlcOp), prev: cid });
}

/** A signPlcOp request for `op`, co-signed by `signers` (each signs the dev.encumber.plcOp payload's CID). */
export function plcOpRequest(org: string, op: UnsignedPlcOp, signers: Member[]) {
  let draft = { repository: org, collection: PLC_OP_TYPE, record: plcOpDocument(org, op) as never, cosignatures: [] as { issuer: string; sig: { $bytes: string } }[] };
  for (const m of signers) draft = cosignDraft(draft, m.signingKey, m.did).draft as typeof draft;
  return { repository: org, operation: op, cosignatures: draft.cosignatures };
}
