/**
 * The benchmarks' pure helpers: the soak verdict (0 errors, RSS growth after
 * the first minute ≤ 5 %), the quantile they report, and the table with one
 * ratio column per reference row.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { quantile, tableVs } from '../../bench/harness.ts';
import { MAX_RSS_GROWTH, soakTable, soakVerdict, type MinuteSample } from '../../bench/soak-report.ts';

const minute = (n: number, rssMiB: number, errors = 0, ok = 100): MinuteSample => ({ minute: n, ok, errors, latencies: [1, 2, 3], rssMiB });

describe('soakVerdict', () => {
  it('passes with no errors and RSS within 5 % of the first minute', () => {
    const v = soakVerdict([minute(1, 100), minute(2, 104), minute(3, 105)]);
    assert.equal(v.pass, true);
    assert.equal(v.errors, 0);
    assert.ok(Math.abs(v.rssGrowth! - 0.05) < 1e-12);
  });

  it('fails when RSS grows more than 5 % after the first minute, judged on the largest later minute', () => {
    const v = soakVerdict([minute(1, 100), minute(2, 106), minute(3, 101)]);
    assert.equal(v.pass, false);
    assert.ok(v.rssGrowth! > MAX_RSS_GROWTH);
  });

  it('does not count growth during the first minute', () => {
    assert.equal(soakVerdict([minute(1, 120), minute(2, 121)]).pass, true);
  });

  it('fails on any error, however small the growth', () => {
    const v = soakVerdict([minute(1, 100), minute(2, 100, 1)]);
    assert.equal(v.errors, 1);
    assert.equal(v.pass, false);
  });

  it('fails when a minute served nothing', () => {
    assert.equal(soakVerdict([minute(1, 100), minute(2, 100, 0, 0)]).pass, false);
  });

  it('cannot pass with a single minute: there is no growth to judge', () => {
    const v = soakVerdict([minute(1, 100)]);
    assert.equal(v.rssGrowth, undefined);
    assert.equal(v.pass, false);
    assert.match(soakTable([minute(1, 100)]), /n\/a .*FAIL$/);
  });

  it('prints a shrink too small to show as 0.0 %, not -0.0 %', () => {
    assert.match(soakTable([minute(1, 100), minute(2, 99.99)]), /first minute: 0\.0 % /);
  });

  it('prints one row per minute and the verdict', () => {
    const t = soakTable([minute(1, 100), minute(2, 102)]);
    assert.match(t, /^\| 1 \| 100 \| 0 \| 2\.00 ms \| 3\.00 ms \| 100\.0 MiB \|$/m);
    assert.match(t, /RSS growth after the first minute: 2\.0 % \(limit 5 %\): PASS$/);
  });
});

describe('quantile', () => {
  it('takes the nearest rank and does not reorder its input', () => {
    const xs = [5, 1, 4, 2, 3];
    assert.equal(quantile(xs, 0.5), 3);
    assert.equal(quantile(xs, 0.99), 5);
    assert.equal(quantile(xs, 0), 1);
    assert.deepEqual(xs, [5, 1, 4, 2, 3]);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });
});

describe('tableVs', () => {
  const rows = [
    { name: 'a', opsPerSec: 100, iterations: 0, ms: 0 },
    { name: 'b', opsPerSec: 400, iterations: 0, ms: 0 },
  ];
  it('gives every row a ratio against each reference', () => {
    const t = tableVs(rows, ['a', 'b']).split('\n');
    assert.equal(t[0], '| implementation | ops/s | × a | × b |');
    assert.equal(t[2], '| a | 100 | 1.00× | 0.25× |');
    assert.equal(t[3], '| b | 400 | 4.00× | 1.00× |');
  });
  it('refuses a reference that was not measured', () => {
    assert.throws(() => tableVs(rows, ['c']), /reference row not measured: c/);
  });
});
