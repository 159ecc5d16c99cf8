/**
 * Where /api/loops takes a loop's fleet and group from (src/dashboard/snapshot.ts labelOf), and
 * when it calls a loop failing (statusView). Pure functions, no server: the browser test
 * test/browser/dashboard-groups.test.ts shows them on the page over a real stack.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelOf, statusView } from '../../src/dashboard/snapshot';
import { FAILING_AFTER } from '../../src/shared/search-attributes';
import { emptyCounters, type LoopStatus } from '../../src/shared/status';
import { runningStatus } from '../helpers/fixtures';

test('a running loop’s own config wins over its search attribute: a label applies at once, visibility follows', () => {
  const status = runningStatus('labelled', { fleet: 'prod', group: 'bitmart' });
  assert.equal(labelOf(status, 'fleet', 'staging'), 'prod');
  assert.equal(labelOf(status, 'group', undefined), 'bitmart');
  // A group removed by an update is gone, even while the listing still has the old attribute.
  assert.equal(labelOf(runningStatus('unlabelled'), 'group', 'bitmart'), null);
});

test('without a status (a closed loop, or one that did not answer), the search attribute; else null', () => {
  assert.equal(labelOf(null, 'fleet', 'prod'), 'prod');
  assert.equal(labelOf(null, 'group', undefined), null);
});

test('a worker older than the label keys says nothing of them: the search attribute stands', () => {
  const status = runningStatus('older');
  const config: Partial<LoopStatus['config']> = { ...status.config };
  delete config.fleet;
  delete config.group;
  const older = { ...status, config } as LoopStatus;
  assert.equal(labelOf(older, 'group', 'binance'), 'binance');
  assert.equal(labelOf(older, 'fleet', undefined), null);
});

test('failing from FAILING_AFTER failed cycles in a row, paused or not', () => {
  const after = (n: number, extra: Partial<LoopStatus> = {}) =>
    statusView(runningStatus('f', {}, { counters: { ...emptyCounters(), cycles: 9, failed: n, consecutive_failures: n }, ...extra }));
  assert.equal(after(FAILING_AFTER - 1).failing, false);
  assert.equal(after(FAILING_AFTER).failing, true);
  const pause = { reason: null, requested_at: '2026-12-01T10:00:00.000Z', since: '2026-12-01T10:00:01.000Z' };
  assert.equal(after(FAILING_AFTER, { phase: 'paused', pause }).failing, true);
});
