/**
 * An in-process PLC directory stand-in for the DID guard's unit tests: it
 * keeps audit logs, accepts `POST /:did` operations (appending, or forking
 * and nullifying what follows the fork point), and refuses any operation
 * after which the log would not pass the enclave's own verifier (the real
 * @did-plc/server runs in test/e2e/did-guard.test.ts). `down` makes every
 * call fail as a directory outage does.
 */
import * as plc from '@did-plc/lib';
import { EncumberError } from '../../src/errors.ts';
import { cidForValue } from '../../src/data/cid.ts';
import { verifyAuditLog } from '../../src/plc/verify.ts';
import { plcSigner, type MemberKey } from '../../src/member/keys.ts';
import type { PlcAuditEntry, PlcOperation } from '../../src/plc/types.ts';

export class PlcStandIn {
  readonly logs = new Map<string, PlcAuditEntry[]>();
  down = false;
  submissions = 0;
  now: () => Date;

  constructor(now: () => Date) {
    this.now = now;
  }

  async fetchLog(did: string): Promise<unknown> {
    if (this.down) throw new EncumberError('DirectoryUnavailable', 'stand-in directory is down');
    const log = this.logs.get(did);
    if (!log) throw new EncumberError('MissingPlcLog', `no DID ${did}`);
    return structuredClone(log);
  }

  async submit(did: string, operation: unknown): Promise<unknown> {
    if (this.down) throw new EncumberError('DirectoryUnavailable', 'stand-in directory is down');
    this.submissions++;
    const op = structuredClone(operation) as PlcOperation;
    const log = this.logs.get(did) ?? [];
    const next = log.map((e) => ({ ...e }));
    if (op.prev !== null) {
      const canonical = next.filter((e) => !e.nullified);
      const at = canonical.findIndex((e) => e.cid === op.prev);
      if (at < 0) throw new EncumberError('PlcOpRejected', `prev ${op.prev} is not on the canonical chain`);
      for (const e of canonical.slice(at + 1)) e.nullified = true;
    }
    next.push({ did, operation: op, cid: cidForValue(op).toString(), nullified: false, createdAt: this.now().toISOString() });
    const verdict = verifyAuditLog(did, next);
    if (!verdict.ok) throw new EncumberError('PlcOpRejected', `operation refused: ${verdict.error.code}: ${verdict.error.message}`);
    this.logs.set(did, next);
    return { ok: true };
  }

  /** The canonical head's operation. */
  head(did: string): { cid: string; operation: PlcOperation } {
    const e = this.logs.get(did)!.filter((x) => !x.nullified).at(-1)!;
    return { cid: e.cid, operation: e.operation as PlcOperation };
  }

  /** Create a DID with `rotationKeys`, genesis signed by `signer`. */
  async create(signer: MemberKey, rotationKeys: string[], atprotoKey: string): Promise<string> {
    const { op, did } = await plc.createOp({
      signingKey: atprotoKey,
      rotationKeys,
      handle: 'org.test',
      pds: 'https://pds.example',
      signer: plcSigner(signer) as never,
    });
    this.logs.set(did, []);
    await this.submit(did, op);
    return did;
  }

  /** An update signed by `signer` (a rotation key), applied to the head: `change` edits the normalized op. */
  async update(did: string, signer: MemberKey, change: (op: PlcOperation) => PlcOperation): Promise<string> {
    const { operation } = this.head(did);
    const op = await plc.createUpdateOp(operation as never, plcSigner(signer) as never, (n) => change(n as unknown as PlcOperation) as never);
    await this.submit(did, op);
    return cidForValue(op).toString();
  }
}
