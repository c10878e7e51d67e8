/**
 * Rules that tie the endorsement key certificate to the report it signed, run
 * once the report signature verifies: the product line agrees everywhere, the
 * certificate's TCB is the report's reported_tcb, and a VCEK's hwID is the
 * report's chip_id. Each returns its detail line or throws a typed error.
 */
import { reject } from '../checks.ts';
import { bytesEqual, toHex } from '../bytes.ts';
import type { SnpCertificate } from './profile.ts';
import { decodeTcb, hwIdBytes, productOfCpuid, type SnpProduct, type TcbParts } from './products.ts';
import type { SnpReport } from './report.ts';

/** Rule: the VCEK/VLEK productName and (v3+) the report's CPUID name the ARK's product line. */
export function checkProduct(report: SnpReport, leaf: SnpCertificate, leafPath: string, product: SnpProduct): string {
  const name = leaf.amd.productName;
  const path = `${leafPath}.productName`;
  // 'Milan-B0' names the stepping too; the line is what precedes the dash.
  if (name === undefined || name.split('-')[0] !== product) {
    reject('CertificateChainInvalid', `${path}: "${name ?? '(absent)'}" is not a ${product} part (the ARK's product line)`, { index: 2, path, expected: product, actual: name ?? null });
  }
  if (!report.cpuid) return `${product} (ARK), productName ${name}; a v${report.version} report carries no CPUID`;
  const { family, model, stepping } = report.cpuid;
  const cpu = `family ${family.toString(16)}h model ${model.toString(16)}h`;
  const fromCpuid = productOfCpuid(family, model);
  if (fromCpuid !== product) {
    reject('CertificateChainInvalid', `cpuid: ${cpu} is ${fromCpuid ?? 'no known SEV-SNP product'}, but the chain is ${product}'s`, {
      path: 'cpuid',
      expected: product,
      actual: fromCpuid ?? cpu,
    });
  }
  return `${product}: ARK, productName ${name}, CPUID ${cpu} stepping ${stepping}`;
}

const TCB_EXTENSIONS: ReadonlyArray<[keyof TcbParts, string]> = [
  ['bootloader', 'blSPL'],
  ['tee', 'teeSPL'],
  ['snp', 'snpSPL'],
  ['microcode', 'ucodeSPL'],
  ['fmc', 'fmcSPL'],
];

/** Rule: the certificate was issued for exactly the report's reported_tcb (not current_tcb: the host chooses which TCB signs). */
export function checkTcb(report: SnpReport, leaf: SnpCertificate, leafPath: string, product: SnpProduct): TcbParts {
  const tcb = decodeTcb(report.reportedTcb, product, 'reported_tcb');
  for (const [part, ext] of TCB_EXTENSIONS) {
    if (tcb[part] === undefined) continue; // fmc exists on Turin only
    const certified = leaf.amd.tcb[part];
    if (certified !== tcb[part]) {
      reject('TcbMismatch', `reported_tcb.${part} is ${tcb[part]}, but ${leafPath} ${certified === undefined ? `has no ${ext} extension` : `certifies ${ext} ${certified}`}`, {
        path: `reported_tcb.${part}`,
        expected: certified ?? null,
        actual: tcb[part],
      });
    }
  }
  return tcb;
}

/** Rule (VCEK only): the VCEK is the key of the chip the report names (hwID = chip_id). A VLEK is bound to a cloud provider, not a chip. */
export function checkChipId(report: SnpReport, leaf: SnpCertificate, leafPath: string, product: SnpProduct): string {
  const n = hwIdBytes(product);
  const hwId = leaf.amd.hwId;
  const chip = report.chipId;
  if (chip.every((b) => b === 0)) {
    reject('ChipIdMismatch', 'chip_id is all zero (masked by the host): nothing binds the report to the VCEK\'s chip', { path: 'chip_id', expected: hwId ? toHex(hwId) : null, actual: toHex(chip) });
  }
  if (!hwId || hwId.length !== n || !bytesEqual(chip.subarray(0, n), hwId) || chip.subarray(n).some((b) => b !== 0)) {
    reject('ChipIdMismatch', `chip_id is not the hwID of ${leafPath} (${n} bytes on ${product}): the VCEK belongs to another chip`, {
      path: 'chip_id',
      expected: hwId ? toHex(hwId) : null,
      actual: toHex(chip),
    });
  }
  return `chip_id equals the VCEK's ${n}-byte hwID ${toHex(hwId!).slice(0, 16)}…`;
}
