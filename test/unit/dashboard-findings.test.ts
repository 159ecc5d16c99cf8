/**
 * The dashboard's view of a cycle's findings (src/dashboard/findings-view.ts): what is known, what
 * is "none", what is unknown, and the alert's words. Pure functions, no server: the browser tests in
 * test/browser/dashboard.test.ts show these texts on the page.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findingsView } from '../../src/dashboard/findings-view';
import { cycleRecord } from '../helpers/fixtures';

const noOrders = { total: 0, submitted: 0, pending: 0, protection_failed: 0, simulated: 0 };

test('no cycle yet: no findings', () => {
  assert.equal(findingsView(null), null);
});

test('a record that says nothing (a failure, an older release): every finding unknown, nothing to show', () => {
  const view = findingsView(cycleRecord());
  assert.deepEqual(view, {
    iteration: 7,
    ready_share: null,
    contracts: null,
    signals: null,
    signals_unlisted: 0,
    orders: null,
    trades: null,
    alert: null,
  });
});

test('verdicts without a READY one: signals "none" ([]), the counts, the ready share', () => {
  const view = findingsView(
    cycleRecord({
      ready_share: 0,
      symbols_requested: 5,
      contracts: { ready: 0, invalid: 4, error: 1, other: 0 },
      orders: { count: noOrders, list: [], unlisted: 0 },
    }),
  );
  assert.deepEqual(view?.signals, []);
  assert.equal(view?.contracts, '0 READY · 4 INVALID · 1 errored, of 5 requested');
  assert.equal(
    findingsView(cycleRecord({ symbols_requested: null, contracts: { ready: 1, invalid: 2, error: 0, other: 1 } }))?.contracts,
    '1 READY · 2 INVALID · 1 other',
    'requested where the answer said it',
  );
  assert.equal(view?.ready_share, 0);
  assert.deepEqual(view?.orders, { counts: '0 orders · 0 submitted', list: [], unlisted: 0 });
});

test('signals as `BTCUSDT 5m LONG`, the unlisted ones counted; a seed-era signal without timeframe or side', () => {
  const view = findingsView(
    cycleRecord({
      signals: [
        { symbol: 'ADAUSDT', timeframe: '5m', side: 'LONG' },
        { symbol: 'BTCUSDT', timeframe: null, side: null },
      ],
      signals_unlisted: 3,
    }),
  );
  assert.deepEqual(view?.signals, ['ADAUSDT 5m LONG', 'BTCUSDT']);
  assert.equal(view?.signals_unlisted, 3);
});

test('a protection alert: the failed orders flagged, and only they named in the alert', () => {
  const view = findingsView(
    cycleRecord({
      ready_share: 100,
      contracts: { ready: 3, invalid: 0, error: 0, other: 0 },
      orders: {
        count: { total: 3, submitted: 1, pending: 0, protection_failed: 2, simulated: 0 },
        list: [
          { symbol: 'SOLUSDT', status: 'critical_unprotected_position', exchange_order_id: '42' },
          { symbol: 'ETHUSDT', status: 'failed_unprotected_closed', exchange_order_id: null },
          { symbol: 'BTCUSDT', status: 'submitted', exchange_order_id: '41' },
        ],
        unlisted: 0,
      },
      protection_alert: true,
    }),
  );
  assert.equal(view?.orders?.counts, '3 orders · 1 submitted · 2 PROTECTION FAILED');
  assert.deepEqual(view?.orders?.list, [
    { text: 'SOLUSDT critical_unprotected_position (exchange order 42)', alert: true },
    { text: 'ETHUSDT failed_unprotected_closed', alert: true },
    { text: 'BTCUSDT submitted (exchange order 41)', alert: false },
  ]);
  assert.match(view?.alert ?? '', /^PROTECTION ALERT: .*SOLUSDT critical_unprotected_position.*ETHUSDT failed_unprotected_closed/);
  assert.doesNotMatch(view?.alert ?? '', /BTCUSDT/);
});

test('the trades: counted by status, each named, a failed one flagged; pending says more may come; off shows nothing', () => {
  const trades = {
    state: 'known' as const,
    by_status: { SENT: 1, FAILED: 1, none: 1 },
    list: [
      { symbol: 'BTCUSDT', side: 'LONG', status: 'SENT', event: 'position_opened', internal_trade_id: 'T-1' },
      { symbol: 'ETHUSDT', side: 'SHORT', status: 'FAILED', event: 'symbol_skipped', internal_trade_id: 'T-2' },
    ],
    unlisted: 1,
  };
  assert.deepEqual(findingsView(cycleRecord({ trades }))?.trades, {
    counts: '3 · 1 SENT · 1 FAILED · 1 without order intent',
    list: [
      { text: 'BTCUSDT LONG SENT (position_opened)', failed: false },
      { text: 'ETHUSDT SHORT FAILED (symbol_skipped)', failed: true },
    ],
    unlisted: 1,
  });
  const pending = { state: 'pending' as const, by_status: {}, list: [], unlisted: 0 };
  assert.equal(findingsView(cycleRecord({ trades: pending }))?.trades?.counts, 'pending (read again after the next answer)');
  assert.equal(findingsView(cycleRecord({ trades: { ...pending, state: 'off' } }))?.trades, null);
  assert.equal(findingsView(cycleRecord({ trades: { ...pending, state: 'known' } }))?.trades?.counts, 'none');
});
