/**
 * The record and upgrade verifiers' walk over their rules: each rule is a row
 * (name, ok, what was compared); the first typed rule failure ends the walk
 * as the verdict. Anything that is not an EncumberError is a bug and
 * propagates. Pure.
 */
import { EncumberError, type ErrorCode } from '../errors.ts';
import type { AttestationCheck } from '../attestation/types.ts';

/** Thrown by `step` and `stop` to end a walk; the verdict is in `failure`. */
export class WalkEnded extends Error {}

export interface RuleWalk {
  readonly checks: AttestationCheck[];
  /** The failure that ended the walk (meaningful once a `WalkEnded` was caught). */
  readonly failure: { code: ErrorCode; message: string };
  /** Run one rule as a row: its value on success; a typed failure adds a failed row and ends the walk. */
  step<T>(name: string, rule: () => T, detail: (v: T) => string): T;
  /** End the walk with a failure whose row is already in `checks`. */
  stop(failure: { code: ErrorCode; message: string }): never;
}

export function ruleWalk(): RuleWalk {
  const checks: AttestationCheck[] = [];
  let failure: { code: ErrorCode; message: string } = { code: 'InternalError', message: '' };
  const stop = (f: { code: ErrorCode; message: string }): never => {
    failure = f;
    throw new WalkEnded(f.message);
  };
  return {
    checks,
    get failure() {
      return failure;
    },
    step(name, rule, detail) {
      try {
        const v = rule();
        checks.push({ name, ok: true, detail: detail(v) });
        return v;
      } catch (e) {
        if (!(e instanceof EncumberError)) throw e;
        checks.push({ name, ok: false, detail: e.message });
        return stop({ code: e.code, message: e.message });
      }
    },
    stop,
  };
}

/** A rule's failure: a typed error for `step` to turn into a failed row. */
export function failRule(code: ErrorCode, message: string): never {
  throw new EncumberError(code, message);
}
