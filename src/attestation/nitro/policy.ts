/**
 * Policy rules, run after the evidence is authentic: what the caller asked of
 * it. Each returns the detail line for its row, or throws a typed error with
 * expected/actual in hex.
 */
import { reject } from '../checks.ts';
import { bytesEqual, toHex } from '../bytes.ts';
import { iso } from '../x509/chain.ts';
import type { NitroDocument } from './document.ts';

/** Debug-mode enclaves report PCR0 (and the other image PCRs) as all zero. */
export const isDebug = (doc: NitroDocument): boolean => (doc.pcrs.get(0) ?? new Uint8Array(1)).every((b) => b === 0);

/** Rule: not a debug enclave, unless the caller allows it. */
export function checkDebug(doc: NitroDocument, allowDebug: boolean): string {
  if (!isDebug(doc)) return 'PCR0 is not zero: enclave not in debug mode';
  if (!allowDebug) {
    reject('DebugEnclave', 'PCR0 is 48 zero bytes: the enclave runs in debug mode (its memory is readable by the host)', {
      path: 'pcrs[0]',
      index: 0,
    });
  }
  return 'PCR0 is zero: debug-mode enclave, accepted because allowDebug is set';
}

/** Rule: every expected PCR is present and equal. */
export function checkPcrs(doc: NitroDocument, expected: Map<number, Uint8Array>): string {
  for (const [index, want] of expected) {
    const got = doc.pcrs.get(index);
    if (!got || !bytesEqual(got, want)) {
      reject('PcrMismatch', `PCR${index} ${got ? 'differs from' : 'is missing, expected'} the expected value`, {
        index,
        path: `pcrs[${index}]`,
        expected: toHex(want),
        actual: got ? toHex(got) : null,
      });
    }
  }
  return `PCR ${[...expected.keys()].join(', ')} equal the expected values`;
}

/** Rule: an optional field equals what the caller expects (nonce, public_key, user_data). */
export function checkField(
  code: 'NonceMismatch' | 'PublicKeyMismatch' | 'BindingMismatch',
  path: 'nonce' | 'public_key' | 'user_data',
  actual: Uint8Array | null,
  expected: Uint8Array,
): string {
  if (!actual || !bytesEqual(actual, expected)) {
    reject(code, `${path} ${actual ? 'differs from' : 'is absent, expected'} the expected value`, {
      path,
      expected: toHex(expected),
      actual: actual ? toHex(actual) : null,
    });
  }
  return `${path} equals the expected ${expected.length} bytes`;
}

/** Rule: the document is at most maxAgeMs old at `at`, and not from the future (1 minute of clock skew). */
export const FUTURE_SKEW_MS = 60_000;
export function checkFreshness(doc: NitroDocument, at: number, maxAgeMs: number): string {
  const age = at - doc.timestamp;
  if (age > maxAgeMs) {
    reject('EvidenceTooOld', `document is ${age} ms old at ${iso(at)}, more than ${maxAgeMs} ms`, {
      path: 'timestamp',
      expected: `≤ ${maxAgeMs} ms`,
      actual: age,
    });
  }
  if (age < -FUTURE_SKEW_MS) {
    reject('InvalidEvidence', `document timestamp ${iso(doc.timestamp)} is ${-age} ms after ${iso(at)}`, {
      path: 'timestamp',
      expected: `≤ ${iso(at + FUTURE_SKEW_MS)}`,
      actual: iso(doc.timestamp),
    });
  }
  return `document is ${age} ms old (limit ${maxAgeMs} ms)`;
}
