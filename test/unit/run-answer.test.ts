/**
 * The one reader of the app's answers, on the bodies docs/mtf-api.md gives for each
 * generation (and the traps around them): the mapping a reader sees side by side in
 * src/activities/run-answer.ts. The same reader meets the real simulator in test/server/mtf-client.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { readFinishedRun, readRunProgress } from '../../src/activities/run-answer';
import { MtfError } from '../../src/shared/errors';

const URL = 'http://app/api/mtf/run';
const read = (body: Record<string, unknown>) => readFinishedRun(body, URL, 200);

/** The seed era's example answer. */
const SEED_EXAMPLE = {
  status: 'success',
  message: 'MTF run completed',
  data: {
    summary: {
      run_id: '550e8400-e29b-41d4-a716-446655440000',
      execution_time_seconds: 2.456,
      symbols_requested: 2,
      symbols_processed: 2,
      symbols_successful: 1,
      symbols_failed: 1,
      symbols_skipped: 0,
      success_rate: 50.0,
      dry_run: true,
      force_run: false,
      timestamp: '2024-01-15 14:30:25',
    },
    results: { BTCUSDT: { status: 'success', signal_side: 'LONG', order_plan_id: null } },
    errors: [],
    workers: 1,
  },
};

/** Today's example answer: 148 contracts, 3 READY, 145 not (INVALID counts in symbols_failed). */
function todayExample(
  overrides: { status?: string; symbols?: Record<string, unknown>; errors?: unknown[]; run?: Record<string, unknown> } = {},
) {
  const status = overrides.status ?? 'completed';
  return {
    status,
    message: 'MTF run completed',
    data: {
      run: {
        run_id: 'mtf-loop:7f3c:42',
        status,
        execution_time_seconds: 31.4,
        symbols_requested: 148,
        symbols_processed: 148,
        symbols_successful: 3,
        symbols_failed: 145,
        symbols_skipped: 0,
        success_rate: 2.03,
        ...overrides.run,
      },
      symbols: overrides.symbols ?? {
        BTCUSDT: { symbol: 'BTCUSDT', status: 'READY', execution_tf: '5m', signal_side: 'LONG' },
        ETHUSDT: { symbol: 'ETHUSDT', status: 'INVALID', execution_tf: null, signal_side: null, blocking_tf: '15m' },
        FINAL: { status: 'ERROR' },
      },
      errors: overrides.errors ?? [],
      workers: 4,
      performance: { whatever: 1 },
      orders_placed: { count: { total: 1, submitted: 0, pending: 0, protection_failed: 0, simulated: 1 }, orders: [] },
    },
  };
}

/** The sequential path's answer (`workers` 1): the validator's record, traced errors, threw contracts absent from data.symbols. */
function sequentialExample(threw: string[], verdicts: Record<string, 'READY' | 'INVALID'>) {
  const ready = Object.values(verdicts).filter((v) => v === 'READY').length;
  const skipped = Object.keys(verdicts).length - ready;
  const status = threw.length === 0 ? 'success' : ready > 0 ? 'partial_failure' : 'error';
  const errors = threw.map((symbol) => ({
    symbol,
    error: `Kline fetch failed for ${symbol}`,
    trace: '#0 /var/www/html/src/MtfValidator/Service/MtfValidatorService.php(73): …\n#1 {main}',
  }));
  const symbols = Object.fromEntries(
    Object.entries(verdicts).map(([symbol, v]) => [
      symbol,
      {
        symbol,
        status: v,
        execution_tf: v === 'READY' ? '5m' : null,
        signal_side: v === 'READY' ? 'LONG' : null,
        reason: '…',
        context: {},
        execution: {},
      },
    ]),
  );
  const processed = ready + skipped + threw.length;
  return {
    status,
    message: 'MTF run completed',
    data: {
      run: {
        run_id: 'mtfpp.7f3c0a9d2b1e4c55.42',
        status,
        execution_time_seconds: 12,
        symbols_requested: processed,
        symbols_processed: processed,
        symbols_successful: ready,
        symbols_failed: threw.length,
        symbols_skipped: skipped,
        success_rate: processed > 0 ? (ready / processed) * 100 : 0,
        results: Object.keys(verdicts).map((symbol) => ({ symbol, result: { secret: 'the validator dump is never read' } })),
        errors,
        timestamp: '2026-08-21 18:15:42',
        message: null,
      },
      symbols: Object.keys(symbols).length === 0 ? [] : symbols,
      errors,
      workers: 1,
      summary_by_tf: [],
      rejected_by: [],
      last_validated: [],
      performance: [],
      orders_placed: { count: { total: 0, submitted: 0, pending: 0, protection_failed: 0, simulated: 0 }, orders: [] },
    },
  };
}

function assertFails(body: Record<string, unknown>, type: string, message: RegExp): void {
  assert.throws(
    () => read(body),
    (err: unknown) => err instanceof ApplicationFailure && err.type === type && message.test(err.message),
  );
}

void describe('readFinishedRun: both generations into one report', () => {
  void test("the seed era's example succeeds with its figures", () => {
    assert.deepEqual(read(SEED_EXAMPLE), {
      outcome: 'succeeded',
      app_status: 'success',
      run_id: '550e8400-e29b-41d4-a716-446655440000',
      message: null,
      execution_time_seconds: 2.456,
      symbols_requested: 2,
      symbols_processed: 2,
      symbols_successful: 1,
      symbols_failed: 1,
      success_rate: 50,
      errors: 0,
      // A seed-era per-symbol `success` is a signal; that era names no timeframe and places no order list.
      findings: {
        signals: [{ symbol: 'BTCUSDT', timeframe: null, side: 'LONG' }],
        signals_unlisted: 0,
        contracts: { ready: 1, invalid: 0, error: 0, other: 0 },
        symbol_errors: [],
        orders: null,
        protection_alert: false,
      },
      ui_details: 'signals',
    });
  });

  void test("today's example succeeds: INVALID verdicts are no errors, though symbols_failed counts them; FINAL is no contract", () => {
    const report = read(todayExample());
    assert.equal(report.outcome, 'succeeded');
    assert.equal(report.app_status, 'completed');
    assert.equal(report.run_id, 'mtf-loop:7f3c:42');
    assert.deepEqual([report.symbols_requested, report.symbols_successful, report.symbols_failed], [148, 3, 145]);
  });

  void test('status words compare case-insensitively', () => {
    assert.equal(read(todayExample({ status: 'COMPLETED' })).outcome, 'succeeded');
    assert.equal(read({ ...SEED_EXAMPLE, status: 'Partial_Success' }).outcome, 'partial');
  });

  void test('completed_with_errors with a contract without error is partial, naming the first error', () => {
    const symbols = { BTCUSDT: { status: 'READY' }, ETHUSDT: { status: 'ERROR', error: 'timeout' } };
    const report = read(todayExample({ status: 'completed_with_errors', symbols, errors: ['ETHUSDT: exchange timeout'] }));
    assert.equal(report.outcome, 'partial');
    assert.equal(report.message, 'partial success: 1 error(s), first: ETHUSDT: exchange timeout');
  });

  void test('every contract errored: failed, whatever the status word', () => {
    const symbols = { BTCUSDT: { status: 'error' }, ETHUSDT: { status: 'ERROR' }, FINAL: { status: 'READY' } };
    const report = read(todayExample({ status: 'completed_with_errors', symbols, errors: ['a', 'b'] }));
    assert.equal(report.outcome, 'failed');
    assert.equal(report.message, 'every contract errored (2 of 2); first error: a');
    const seed = read({
      ...SEED_EXAMPLE,
      status: 'partial_success',
      data: { ...SEED_EXAMPLE.data, results: { X: { status: 'error' } }, errors: [{ symbol: 'X', error: 'no data' }] },
    });
    assert.equal(seed.message, 'every contract errored (1 of 1); first error: X: no data');
  });

  void test('none processed (the exchange was down): failed', () => {
    const report = read(
      todayExample({ status: 'completed_with_errors', symbols: {}, errors: ['Exchange unavailable'], run: { symbols_processed: 0 } }),
    );
    assert.equal(report.outcome, 'failed');
    assert.equal(report.message, 'no contract was processed (0 of 148 requested); first error: Exchange unavailable');
  });

  void test('rejected: skipped, with the reason and the message of data.run', () => {
    const body = todayExample({
      status: 'rejected',
      symbols: {},
      run: { reason: 'no_reliable_open_state_source', message: 'no open-state source', symbols_processed: 0 },
    });
    const report = read(body);
    assert.equal(report.outcome, 'skipped');
    assert.equal(report.message, 'the app rejected the run (no_reliable_open_state_source): no open-state source');
  });

  void test("a 200 'error' with nothing processed: failed, with the run's reason rather than today's fixed top-level message", () => {
    const report = read(
      todayExample({ status: 'error', symbols: {}, errors: ['database gone'], run: { symbols_processed: 0, symbols_failed: 0 } }),
    );
    assert.deepEqual(
      [report.outcome, report.message, report.symbols_requested],
      ['failed', 'MTF run failed: database gone', 148],
      'the figures stay on the record',
    );
    const bare = read({ status: 'error', message: 'boom' });
    assert.deepEqual(
      [bare.outcome, bare.message, bare.app_status, bare.symbols_requested],
      ['failed', 'MTF run failed: boom', 'error', null],
    );
  });

  void test('an unknown status or shape: MtfAnsweredUnreadable, naming what was unexpected', () => {
    assertFails(
      { ...SEED_EXAMPLE, status: 'exploded' },
      MtfError.AnsweredUnreadable,
      /status "exploded", which this version does not know/,
    );
    assertFails(
      { status: 'completed', data: {} },
      MtfError.AnsweredUnreadable,
      /status "completed" but neither data\.run nor data\.summary/,
    );
    assertFails({ data: {} }, MtfError.AnsweredUnreadable, /status null/);
  });
});

void describe('readFinishedRun: the sequential path (workers 1), the outcome following the contracts', () => {
  void test('success: succeeded, READY and INVALID (symbols_skipped) counted as on the parallel path', () => {
    const report = read(sequentialExample([], { BTCUSDT: 'READY', ETHUSDT: 'INVALID', ADAUSDT: 'INVALID' }));
    assert.deepEqual([report.outcome, report.app_status, report.message], ['succeeded', 'success', null]);
    assert.deepEqual(report.findings.contracts, { ready: 1, invalid: 2, error: 0, other: 0 });
    assert.deepEqual([report.symbols_requested, report.execution_time_seconds], [3, 12]);
  });

  void test('partial_failure: partial, how many threw and the first error; the contract that threw counts as processed, not as missing', () => {
    const report = read(sequentialExample(['XRPUSDT'], { BTCUSDT: 'READY', ADAUSDT: 'READY', ETHUSDT: 'INVALID' }));
    assert.deepEqual([report.outcome, report.app_status], ['partial', 'partial_failure']);
    assert.equal(report.message, '1 of 4 contracts threw; first error: XRPUSDT: Kline fetch failed for XRPUSDT');
    assert.deepEqual(report.findings.contracts, { ready: 2, invalid: 1, error: 1, other: 0 });
    assert.deepEqual(report.findings.symbol_errors, ['XRPUSDT: Kline fetch failed for XRPUSDT'], 'symbol and message; never the trace');
    assert.deepEqual(
      report.findings.signals.map((s) => s.symbol),
      ['ADAUSDT', 'BTCUSDT'],
    );
    assert.equal(report.symbols_requested, 4);
  });

  void test("error beside contracts analysed without throwing: partial, 'N of M contracts threw, none READY'", () => {
    const report = read(sequentialExample(['XRPUSDT'], { BTCUSDT: 'INVALID', ETHUSDT: 'INVALID', ADAUSDT: 'INVALID' }));
    assert.deepEqual([report.outcome, report.app_status], ['partial', 'error']);
    assert.equal(report.message, '1 of 4 contracts threw, none READY; first error: XRPUSDT: Kline fetch failed for XRPUSDT');
    assert.deepEqual(report.findings.contracts, { ready: 0, invalid: 3, error: 1, other: 0 });
    assert.deepEqual(report.findings.signals, []);
  });

  void test('error where every processed contract threw (data.symbols is [] then): failed, with the first error', () => {
    const report = read(sequentialExample(['XRPUSDT', 'DOGEUSDT'], {}));
    assert.deepEqual([report.outcome, report.app_status], ['failed', 'error']);
    assert.equal(report.message, 'every contract errored (2 of 2); first error: XRPUSDT: Kline fetch failed for XRPUSDT');
    assert.deepEqual(report.findings.contracts, { ready: 0, invalid: 0, error: 2, other: 0 }, 'an empty JSON list reads as an empty map');
  });

  void test('error with nothing processed: failed', () => {
    const body = sequentialExample([], {});
    const report = read({
      ...body,
      status: 'error',
      data: { ...body.data, run: { ...body.data.run, status: 'error', symbols_requested: 5 } },
    });
    assert.deepEqual([report.outcome, report.message], ['failed', 'MTF run failed: the app gave no message']);
  });

  void test('the figures count the contracts that threw even when the error list is shorter', () => {
    const body = sequentialExample(['XRPUSDT'], { BTCUSDT: 'READY' });
    const report = read({
      ...body,
      data: { ...body.data, errors: [], run: { ...body.data.run, errors: [], symbols_failed: 3, symbols_processed: 4 } },
    });
    assert.deepEqual(report.findings.contracts, { ready: 1, invalid: 0, error: 3, other: 0 });
    assert.equal(report.message, '3 of 4 contracts threw');
  });

  void test('the same rule on the parallel path: a contract whose worker gave nothing back is absent, counted from data.errors', () => {
    const symbols = { BTCUSDT: { status: 'READY', execution_tf: '1m', signal_side: 'SHORT' }, ETHUSDT: { status: 'INVALID' } };
    const report = read(
      todayExample({
        status: 'completed_with_errors',
        symbols,
        errors: ['Worker XRPUSDT: no results returned'],
        run: { symbols_processed: 2, symbols_failed: 1 },
      }),
    );
    assert.deepEqual([report.outcome, report.app_status], ['partial', 'completed_with_errors']);
    assert.deepEqual(report.findings.contracts, { ready: 1, invalid: 1, error: 1, other: 0 });
    assert.deepEqual(report.findings.symbol_errors, ['Worker XRPUSDT: no results returned']);
    const none = read(
      todayExample({
        status: 'completed_with_errors',
        symbols: [] as unknown as Record<string, unknown>,
        errors: ['Worker A: no results returned', 'Worker B: x'],
      }),
    );
    assert.deepEqual(
      [none.outcome, none.message],
      ['failed', 'every contract errored (2 of 2); first error: Worker A: no results returned'],
    );
  });

  void test('what is kept stays small: no trace, no data.run.results, an error cut to 200 characters', () => {
    const body = sequentialExample(['XRPUSDT'], { BTCUSDT: 'READY' });
    body.data.errors = [{ symbol: 'XRPUSDT', error: 'e'.repeat(5000), trace: '#0 '.repeat(5000) }];
    const report = read(body);
    const text = JSON.stringify(report);
    assert.ok(!text.includes('#0') && !text.includes('the validator dump'), text);
    assert.equal(report.findings.symbol_errors[0]?.length, 200);
    assert.ok(text.length < 1500, `${text.length} bytes`);
  });
});

void describe('readRunProgress: a status read never takes a running run for a finished one', () => {
  const progress = (body: Record<string, unknown>) => readRunProgress(body, 'http://app/api/mtf/runs/r1', 200);

  void test("today's read: top-level success says the read worked; data.run says whether the run ended", () => {
    assert.equal(progress({ status: 'success', data: { run: { run_id: 'r1', status: 'running', finished_at: null } } }), null);
    assert.equal(progress({ status: 'success', data: { run: { run_id: 'r1', status: 'pending' } } }), null);
    const done = progress({ ...todayExample(), status: 'success' });
    assert.equal(done?.outcome, 'succeeded');
    const finishedAt = progress({
      status: 'success',
      data: { run: { run_id: 'r1', finished_at: '2026-08-21 18:15:42', symbols_requested: 0 } },
    });
    assert.equal(finishedAt?.outcome, 'succeeded', 'finished_at alone ends the wait');
  });

  void test("the seed era's read: running, then the finished body", () => {
    assert.equal(progress({ status: 'running' }), null);
    assert.equal(progress({ status: 'ACCEPTED' }), null);
    assert.equal(progress(SEED_EXAMPLE)?.outcome, 'succeeded');
  });
});

void describe('readFinishedRun: what the run found', () => {
  const findingsOf = (symbols: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const body = todayExample({ symbols });
    return read({ ...body, data: { ...body.data, ...extra } }).findings;
  };

  void test('READY, SUCCESS and VALID in any case are signals; INVALID, ERROR and the rest are counted apart; FINAL is none', () => {
    const findings = findingsOf({
      ZUSDT: { status: 'ready', execution_tf: '1m', signal_side: 'short' },
      AUSDT: { status: 'Success', timeframe: '4h' },
      MUSDT: { status: 'VALID', execution_tf: '15m', signal_side: 'LONG' },
      BUSDT: { status: 'INVALID' },
      CUSDT: { status: 'ERROR', error: { message: 'x'.repeat(500) } },
      DUSDT: { status: 'GRACE_WINDOW' },
      FINAL: { status: 'READY' },
    });
    assert.deepEqual(findings.signals, [
      { symbol: 'AUSDT', timeframe: '4h', side: null },
      { symbol: 'MUSDT', timeframe: '15m', side: 'LONG' },
      { symbol: 'ZUSDT', timeframe: '1m', side: 'SHORT' },
    ]);
    assert.deepEqual(findings.contracts, { ready: 3, invalid: 1, error: 1, other: 1 });
    assert.equal(findings.symbol_errors.length, 1);
    assert.equal(findings.symbol_errors[0]?.length, 200, 'an error is cut to 200 characters');
    assert.ok(findings.symbol_errors[0]?.startsWith('CUSDT: xxx'));
  });

  void test('order counts: the app’s where it gives them, else counted from its list; an unprotected order raises the alert even beyond what the count says', () => {
    const orders = [
      { symbol: 'AUSDT', status: 'submitted_protected', exchange_order_id: 11 },
      { symbol: 'BUSDT', status: 'FAILED_UNPROTECTED_CLOSED', exchange_order_id: '12' },
    ];
    const counted = findingsOf({}, { orders_placed: { count: { total: 2 }, orders } });
    assert.deepEqual(counted.orders?.count, { total: 2, submitted: 1, pending: 0, protection_failed: 1, simulated: 0 });
    assert.deepEqual(counted.orders?.list, [
      { symbol: 'BUSDT', status: 'failed_unprotected_closed', exchange_order_id: '12' },
      { symbol: 'AUSDT', status: 'submitted_protected', exchange_order_id: '11' },
    ]);
    assert.equal(counted.protection_alert, true);
    const byCount = findingsOf({}, { orders_placed: { count: { total: 1, protection_failed: 1 }, orders: [] } });
    assert.equal(byCount.protection_alert, true, 'the count alone raises it');
    assert.equal(findingsOf({}).protection_alert, false);
  });

  void test('the seed era’s error list names the symbol when no contract lists its own error', () => {
    const body = {
      ...SEED_EXAMPLE,
      status: 'partial_success',
      data: { ...SEED_EXAMPLE.data, errors: [{ symbol: 'ETHUSDT', error: 'timeout' }] },
    };
    assert.deepEqual(read(body).findings.symbol_errors, ['ETHUSDT: timeout']);
  });

  void test('an unreadable answer hands its findings on in the failure’s details; one that found nothing hands on nothing', () => {
    const failedWith = (orders: unknown) => {
      const body = todayExample({ status: 'exploded' });
      try {
        read({ ...body, data: { ...body.data, orders_placed: orders } });
      } catch (err) {
        return err instanceof ApplicationFailure ? err.details : assert.fail(String(err));
      }
      return assert.fail('no failure');
    };
    const [details] =
      failedWith({ count: { total: 1, protection_failed: 1 }, orders: [{ symbol: 'BTCUSDT', status: 'critical_unprotected_position' }] }) ??
      [];
    assert.equal((details as { findings: { protection_alert: boolean } }).findings.protection_alert, true);
    assert.deepEqual((details as { ui_details: string }).ui_details, 'signals');
    const body = todayExample({ status: 'exploded', symbols: {} });
    assert.throws(
      () => read({ ...body, data: { ...body.data, orders_placed: undefined } }),
      (err: unknown) => err instanceof ApplicationFailure && err.details === undefined,
    );
  });

  void test('a failed run keeps its findings on its report: an unprotected position is flagged whatever the outcome', () => {
    const body = todayExample({ status: 'error', symbols: {}, run: { symbols_processed: 0 } });
    const report = read({ ...body, data: { ...body.data, orders_placed: { count: { total: 1, protection_failed: 1 }, orders: [] } } });
    assert.deepEqual([report.outcome, report.findings.protection_alert], ['failed', true]);
  });
});
