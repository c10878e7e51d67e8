/**
 * Rules on an authentic report: the guest policy the owner launched with,
 * the VMPL, and what the caller expects (measurement, report_data). Each
 * returns its detail line or throws a typed error with expected/actual in hex.
 */
import { reject } from '../checks.ts';
import { bytesEqual, toHex } from '../bytes.ts';
import type { SnpReport } from './report.ts';
import type { ExpectedReportData } from './options.ts';

/** Rule: the host cannot debug the guest (policy bit 19), unless the caller allows it. */
export function checkDebug(report: SnpReport, allowDebug: boolean): string {
  if (!report.policy.debug) return `policy ${report.policy.raw}: DEBUG is off`;
  if (!allowDebug) {
    reject('DebugEnclave', `policy ${report.policy.raw} sets DEBUG (bit 19): the host can read and write the guest's memory`, {
      path: 'policy.debug',
      expected: false,
      actual: true,
    });
  }
  return `policy ${report.policy.raw}: DEBUG is on, accepted because allowDebug is set`;
}

/** Rule: no migration agent may be associated (policy bit 18), unless the caller allows it. */
export function checkMigrationAgent(report: SnpReport, allowMigrationAgent: boolean): string {
  if (!report.policy.migrateMa) return `policy ${report.policy.raw}: MIGRATE_MA is off`;
  if (!allowMigrationAgent) {
    reject('PolicyViolation', `policy ${report.policy.raw} sets MIGRATE_MA (bit 18): a migration agent may export the guest's memory`, {
      path: 'policy.migrate_ma',
      expected: false,
      actual: true,
    });
  }
  return `policy ${report.policy.raw}: MIGRATE_MA is on, accepted because allowMigrationAgent is set`;
}

/** Rule: the report comes from a guest VMPL (0..3; the host's own requests carry 0xFFFFFFFF), and the expected one if given. */
export function checkVmpl(report: SnpReport, expectedVmpl: number | undefined): string {
  if (report.vmpl > 3) {
    reject('PolicyViolation', `vmpl ${report.vmpl} is not a guest privilege level (0..3): the report was not requested by the guest`, {
      path: 'vmpl',
      expected: expectedVmpl ?? '0..3',
      actual: report.vmpl,
    });
  }
  if (expectedVmpl !== undefined && report.vmpl !== expectedVmpl) {
    reject('VmplMismatch', `the report comes from VMPL ${report.vmpl}, expected VMPL ${expectedVmpl}: software at another privilege level than the one expected asked for it`, {
      path: 'vmpl',
      expected: expectedVmpl,
      actual: report.vmpl,
    });
  }
  return expectedVmpl === undefined ? `VMPL ${report.vmpl} (any guest VMPL accepted)` : `VMPL ${report.vmpl} as expected`;
}

/** Rule: the launch measurement is one of the accepted values (the reproducible build's). */
export function checkMeasurement(report: SnpReport, accepted: readonly Uint8Array[]): string {
  const i = accepted.findIndex((m) => bytesEqual(m, report.measurement));
  if (i < 0) {
    reject('MeasurementMismatch', `measurement ${toHex(report.measurement)} is not ${accepted.length === 1 ? 'the expected value' : `one of the ${accepted.length} accepted values`}`, {
      path: 'measurement',
      expected: accepted.map(toHex),
      actual: toHex(report.measurement),
    });
  }
  return `measurement ${toHex(report.measurement).slice(0, 16)}… equals accepted value ${i}`;
}

/**
 * Rule: report_data is what the caller expects. With { bindingBytes, nonce } the halves are judged apart:
 * the first is SHA-256(binding) (BindingMismatch), the second SHA-256(nonce) (NonceMismatch).
 * A raw 64-byte value is compared whole (BindingMismatch).
 */
export function checkReportData(report: SnpReport, expected: ExpectedReportData): string {
  const actual = report.reportData;
  if (expected.kind === 'raw') {
    if (!bytesEqual(actual, expected.value)) {
      reject('BindingMismatch', 'report_data differs from the expected 64 bytes', { path: 'report_data', expected: toHex(expected.value), actual: toHex(actual) });
    }
    return 'report_data equals the expected 64 bytes';
  }
  const halves = [
    ['BindingMismatch', 'report_data[0..32]', 'SHA-256(binding)', 0],
    ['NonceMismatch', 'report_data[32..64]', 'SHA-256(nonce)', 32],
  ] as const;
  for (const [code, path, what, at] of halves) {
    const want = expected.value.subarray(at, at + 32);
    const got = actual.subarray(at, at + 32);
    if (!bytesEqual(got, want)) reject(code, `${path} is not ${what}`, { path, expected: toHex(want), actual: toHex(got) });
  }
  return 'report_data = SHA-256(binding) ‖ SHA-256(nonce)';
}
