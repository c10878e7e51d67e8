/**
 * PCR0/1/2 of an EIF, as AWS computes them (src/utils/mod.rs `measure` and
 * `get_pcrs`, src/utils/eif_reader.rs, src/defs/eif_hasher.rs):
 *
 *   PCR0 (image)     = extend(kernel ‖ cmdline ‖ ramdisk₀ ‖ ramdisk₁ ‖ …)
 *   PCR1 (bootstrap) = extend(kernel ‖ cmdline ‖ ramdisk₀)
 *   PCR2 (app)       = extend(ramdisk₁ ‖ ramdisk₂ ‖ …)        (extend of "" with one ramdisk)
 *   extend(data)     = SHA-384(48 zero bytes ‖ SHA-384(data))
 *
 * Only section data is measured: no section headers, no metadata, no
 * signature; the cmdline is its UTF-8 bytes with no terminating NUL.
 *
 * EifHasher has a blocked mode (digest = H(digest ‖ 8·48-byte block), chained),
 * but every builder and reader creates its hashers with `new_without_cache`
 * (block_size 0), where it passes bytes straight to SHA-384 and
 * `tpm_extend_finalize_reset` gives the extend above. The blocked mode is
 * never used for PCRs, so it is not reproduced here.
 */
import { createHash } from 'node:crypto';

export interface EifPcrs {
  /** Hex, lowercase, 96 characters. */
  0: string;
  1: string;
  2: string;
}

export const PCR_BYTES = 48;

/** The extend of a PCR that starts at zero: SHA-384(0⁴⁸ ‖ digest). */
export function extendFromZero(digest: Uint8Array): Uint8Array {
  return createHash('sha384').update(new Uint8Array(PCR_BYTES)).update(digest).digest();
}

function measure(parts: readonly Uint8Array[]): string {
  const h = createHash('sha384');
  for (const p of parts) h.update(p);
  return Buffer.from(extendFromZero(h.digest())).toString('hex');
}

/** PCRs from the measured pieces; `cmdline` as a string is UTF-8 encoded (what the EIF stores). */
export function computeEifPcrs(
  kernel: Uint8Array,
  cmdline: string | Uint8Array,
  ramdisks: readonly Uint8Array[],
): EifPcrs {
  const cmd = typeof cmdline === 'string' ? new TextEncoder().encode(cmdline) : cmdline;
  const [boot, ...app] = ramdisks;
  const bootstrap = boot === undefined ? [kernel, cmd] : [kernel, cmd, boot];
  return {
    0: measure([kernel, cmd, ...ramdisks]),
    1: measure(bootstrap),
    2: measure(app),
  };
}
