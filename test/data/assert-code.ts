/** Tests match on error codes, never on message text. */
import assert from 'node:assert/strict';
import { EncumberError, type ErrorCode } from '../../src/errors.ts';

export function throwsCode(fn: () => unknown, code: ErrorCode, label?: string): EncumberError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof EncumberError, `${label ?? ''}: expected EncumberError, got ${String(e)}`);
    assert.equal(e.code, code, `${label ?? ''}: ${e.message}`);
    return e;
  }
  assert.fail(`${label ?? ''}: expected ${code}, nothing was thrown`);
}
