/**
 * SEV-SNP verifier flags shared by `attest verify`, `record verify` and
 * `rebuild --compare`: --min-tcb SPEC (the TCB floor) and --vmpl N|any.
 */
import { parseMinTcbSpec, type SnpMinTcb } from '../attestation/sev-snp/tcb-floor.ts';
import { UsageProblem } from './io.ts';

export interface SnpFloorFlags {
  /** none | bl=N,tee=N,snp=N,ucode=N[,fmc=N] | JSON (default: the AMD bulletins in force at --at). */
  minTcb?: string;
  /** 0..3 or any (default 0). */
  vmpl?: string;
}

export function snpFloorOptions(flags: SnpFloorFlags): { snpMinTcb?: SnpMinTcb; snpVmpl?: number | 'any' } {
  const out: { snpMinTcb?: SnpMinTcb; snpVmpl?: number | 'any' } = {};
  if (flags.minTcb !== undefined) {
    try {
      out.snpMinTcb = parseMinTcbSpec(flags.minTcb);
    } catch (e) {
      throw new UsageProblem((e as Error).message);
    }
  }
  if (flags.vmpl !== undefined) {
    if (flags.vmpl === 'any') out.snpVmpl = 'any';
    else if (/^[0-3]$/.test(flags.vmpl)) out.snpVmpl = Number(flags.vmpl);
    else throw new UsageProblem(`--vmpl: 0, 1, 2, 3 or any, got ${flags.vmpl}`);
  }
  return out;
}
