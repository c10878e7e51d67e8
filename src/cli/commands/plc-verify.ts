/**
 * `encumber plc verify FILE|- [--did DID] [--json]`
 * Exit 0 valid, 1 invalid, 2 usage/IO error.
 */
import { verifyAuditLog } from '../../plc/verify.ts';
import { EXIT_INVALID, EXIT_OK, UsageProblem, readJsonInput, type CliIo } from '../io.ts';

export interface PlcVerifyFlags {
  did?: string;
  json?: boolean;
  specStrict?: boolean;
  at?: string;
}

export async function plcVerify(file: string, flags: PlcVerifyFlags, io: CliIo): Promise<number> {
  const log = await readJsonInput(io, file, 'audit log');
  const did = flags.did ?? firstDid(log);
  if (!did) throw new UsageProblem('cannot tell the DID: the log has no entry with a "did"; pass --did');
  let now: Date | undefined;
  if (flags.at !== undefined) {
    now = new Date(flags.at);
    if (Number.isNaN(now.getTime())) throw new UsageProblem(`--at: not an ISO-8601 time: ${flags.at}`);
  }

  const verdict = verifyAuditLog(did, log, { specStrict: flags.specStrict ?? false, ...(now ? { now } : {}) });
  if (flags.json) {
    io.out(
      JSON.stringify(
        verdict.ok
          ? { valid: true, did, head: verdict.state.head.cid, error: null, warnings: verdict.state.warnings }
          : {
              valid: false,
              did,
              head: null,
              error: { code: verdict.error.code, message: verdict.error.message, index: verdict.error.index ?? null },
            },
      ),
    );
  } else if (verdict.ok) {
    const s = verdict.state;
    const nullified = s.nullified.filter(Boolean).length;
    io.out(`valid: ${did}`);
    io.out(`  head ${s.head.cid} (entry ${s.head.index}, ${s.head.createdAt})`);
    io.out(`  ${s.nullified.length} entries, ${nullified} nullified${s.tombstoned ? ', tombstoned' : ''}`);
    for (const [id, key] of Object.entries(s.verificationMethods)) io.out(`  #${id} ${key}`);
    for (const w of s.warnings) io.out(`  warning: ${w.message}`);
  } else {
    io.out(`invalid: ${did}`);
    io.out(`  ${verdict.error.code}: ${verdict.error.message}`);
  }
  return verdict.ok ? EXIT_OK : EXIT_INVALID;
}

function firstDid(log: unknown): string | undefined {
  if (!Array.isArray(log)) return undefined;
  const first = log[0] as { did?: unknown } | undefined;
  return typeof first?.did === 'string' ? first.did : undefined;
}
