/**
 * A cycle's trades as the loop keeps them (src/shared/trades.ts, src/workflows/loop-state.ts):
 * counted and named within bounds, the same words in every view, and the loop's bookkeeping of
 * late trades: which earlier cycles are read again, how late ones go onto their record, when they
 * are given up, and an app without the API asked again once the config changes. Pure TypeScript.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseLoopConfig } from '../../src/shared/config';
import { parseWorkflowInput } from '../../src/shared/carried-state';
import { noFindings } from '../../src/shared/findings';
import { MAX_TRADES, listedAtMost, namedTradesText, tradesOf, tradesText, type Trade } from '../../src/shared/trades';
import type { CycleResult } from '../../src/workflows/cycle-result';
import { LoopState } from '../../src/workflows/loop-state';

const trade = (symbol: string, status: string | null, event: string | null = 'position_opened'): Trade => ({
  symbol,
  side: 'LONG',
  status,
  event,
  internal_trade_id: `T-${symbol}`,
});

void describe('trades in a few words', () => {
  void test('counted by order-intent status, at most 20 named, the rest counted', () => {
    const many = Array.from({ length: 23 }, (_, i) => trade(`C${i}USDT`, i % 2 === 0 ? 'SENT' : 'FAILED'));
    const trades = tradesOf('known', [...many, trade('NOINTENT', null, 'symbol_skipped')]);
    assert.deepEqual(trades.by_status, { SENT: 12, FAILED: 11, none: 1 });
    assert.equal(trades.list.length, MAX_TRADES);
    assert.equal(trades.unlisted, 4);
    assert.equal(tradesText(trades), '24 · 12 SENT · 11 FAILED · 1 without order intent');
    assert.equal(
      namedTradesText(trades),
      'C0USDT LONG SENT (position_opened), C1USDT LONG FAILED (position_opened), C2USDT LONG SENT (position_opened) and 21 more',
    );
    const point = listedAtMost(trades, 5);
    assert.deepEqual(
      [point.list.length, point.unlisted, point.by_status],
      [5, 19, trades.by_status],
      'a point names fewer, and counts them all',
    );
  });

  void test('every state has its words; a record from before trades has none', () => {
    assert.equal(tradesText(tradesOf('known', [])), 'none');
    assert.equal(
      tradesText(tradesOf('pending', [trade('BTCUSDT', 'SENT')])),
      '1 · 1 SENT so far, pending (read again after the next answer)',
    );
    assert.equal(tradesText(tradesOf('unknown', [])), 'unknown');
    assert.equal(tradesText(tradesOf('unknown', [trade('BTCUSDT', 'READY_TO_SEND', null)])), '1 · 1 READY_TO_SEND (not read to the end)');
    assert.equal(tradesText(tradesOf('off', [])), 'off (lineage: false)');
    assert.equal(tradesText(null), null);
    assert.equal(
      tradesText(tradesOf('known', [trade('A', 'FAILED'), trade('B', null), trade('C', 'NEW_STATUS'), trade('D', 'SENT')])),
      '4 · 1 SENT · 1 FAILED · 1 NEW_STATUS · 1 without order intent',
      'the same order every cycle, whatever the app listed first',
    );
  });
});

const IDS = { workflowId: 'w', runId: 'r', firstRunId: 'r' };

function result(trades: CycleResult['trades'], extra: Partial<CycleResult> = {}): CycleResult {
  return {
    outcome: 'succeeded',
    app_status: 'success',
    mtf_run_id: null,
    x_run_id: null,
    message: null,
    mtf_execution_seconds: null,
    symbols_requested: 5,
    symbols_successful: 2,
    success_rate: 40,
    errors: 0,
    findings: { ...noFindings(), contracts: { ready: 2, invalid: 3, error: 0, other: 0 } },
    uiDetails: 'signals',
    trades,
    late_trades: [],
    lineage_absent: null,
    ...extra,
  };
}

/** Runs `n` cycles whose trades are pending. */
function pendingCycles(loop: LoopState, n: number): void {
  for (let i = 0; i < n; i++) {
    loop.beginCycle(i * 1000);
    loop.recordCycle(result(tradesOf('pending', [])), i * 1000 + 500);
  }
}

void describe('the loop keeps late trades', () => {
  void test('the next cycle reads the pending ones of the 3 cycles before it again, with their READY count; the lineage URL follows the run URL', () => {
    const loop = new LoopState(parseLoopConfig({ mtf_url: 'https://app.example.com:8443/api/mtf/run' }), IDS, undefined, 0);
    pendingCycles(loop, 5);
    loop.beginCycle(6000);
    assert.deepEqual(loop.lineageRequest(), {
      url: 'https://app.example.com:8443/api/lineage/v1/search',
      wait_seconds: 3,
      earlier: [3, 4, 5].map((iteration) => ({ iteration, ready: 2 })),
    });
  });

  void test('late trades go onto their point and the last-cycle record; a pending read keeps them pending; given up after 3 cycles as unknown', () => {
    const loop = new LoopState(parseLoopConfig({}), IDS, undefined, 0);
    pendingCycles(loop, 2);
    loop.beginCycle(3000);
    const two = tradesOf('known', [trade('ADAUSDT', 'SENT'), trade('BTCUSDT', 'FAILED', 'symbol_skipped')]);
    const shortOne = tradesOf('pending', [trade('SOLUSDT', 'SENT')]);
    const attached = loop.attachLateTrades([
      { iteration: 2, trades: two },
      { iteration: 1, trades: shortOne },
      { iteration: 99, trades: two },
    ]);
    assert.deepEqual(
      attached.map((a) => [a.iteration, a.trades.state, a.outcome]),
      [
        [2, 'known', 'succeeded'],
        [1, 'pending', 'succeeded'],
      ],
    );
    assert.deepEqual(loop.lastCycle?.trades, two, 'cycle 2 is still the last one: its record has them');
    assert.deepEqual(
      loop.recentCycles.map((p) => p.trades?.state),
      ['pending', 'known'],
    );
    assert.deepEqual(loop.attachLateTrades([{ iteration: 2, trades: tradesOf('known', []) }]), [], 'known ones are not read twice');
    loop.recordCycle(result(tradesOf('known', [])), 3500);
    for (let i = 4; i <= 5; i++) {
      loop.beginCycle(i * 1000);
      loop.recordCycle(result(tradesOf('known', [])), i * 1000 + 500);
    }
    loop.beginCycle(6000);
    const given = loop.giveUpLateTrades();
    assert.deepEqual(
      given.map((g) => [g.iteration, g.trades.state, g.trades.by_status]),
      [[1, 'unknown', { SENT: 1 }]],
      'what was read is kept',
    );
    assert.deepEqual(loop.lineageRequest()?.earlier, []);
  });

  void test('an app without the API is asked no more, through continue-as-new, until the config changes', () => {
    const loop = new LoopState(parseLoopConfig({}), IDS, undefined, 0);
    loop.lineageAbsent = true;
    const next = new LoopState(parseLoopConfig({}), IDS, parseWorkflowInput(loop.nextInput()).carried_state, 0);
    next.beginCycle(1000);
    assert.equal(next.lineageRequest(), null);
    next.pendingConfig = parseLoopConfig({ lineage_wait: 1 });
    next.beginCycle(2000);
    assert.equal(next.lineageRequest()?.wait_seconds, 1);
    next.pendingConfig = parseLoopConfig({ lineage: false });
    next.beginCycle(3000);
    assert.equal(next.lineageRequest(), null);
  });
});
