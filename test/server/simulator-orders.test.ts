/** The simulator's answer of today's app on a live run: its refusal; and the orders and READY contracts it deals (order_status, ready_share). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TIMESTAMP, DEFAULT_SYMBOLS, type Json, start, startSeed, postRun, symbolsWith } from '../helpers/simulator-calls';

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call */
// Bodies are read as `any` on purpose: the tests check shapes field by field.

void describe("MTF simulator, today's answer: live-run refusal and orders", () => {
  void test('reject_live refuses a live run with status rejected, executes nothing; a dry run still runs', async (t) => {
    const sim = await start(t, { reject_live: true });
    const refused = await postRun(sim, { symbols: ['BTCUSDT', 'ETHUSDT'], dry_run: false }, { 'X-Run-Id': 'mtf-loop:wf:7' });
    assert.equal(refused.status, 200);
    const message = 'Live run refused: no reliable source of open positions and orders';
    const { timestamp, ...run } = refused.json.data.run;
    assert.match(timestamp, TIMESTAMP);
    assert.deepEqual(refused.json, {
      status: 'rejected',
      message: 'MTF run completed',
      data: {
        run: { ...run, timestamp },
        symbols: {},
        errors: [message],
        workers: 1,
        summary_by_tf: {},
        rejected_by: [],
        last_validated: [],
        performance: {},
        orders_placed: { count: { total: 0, submitted: 0, simulated: 0 }, orders: [] },
      },
    });
    assert.deepEqual(run, {
      run_id: 'mtf-loop:wf:7',
      status: 'rejected',
      reason: 'no_reliable_open_state_source',
      message,
      symbols_requested: 2,
      symbols_processed: 0,
    });
    const [rec] = sim.runRequests();
    assert.equal(rec?.status, 200);
    assert.equal(rec?.executed, false);

    const dry = await postRun(sim, { dry_run: true });
    assert.equal(dry.json.status, 'success');
    assert.equal(sim.runRequests()[1]?.executed, true);

    const seed = await startSeed(t, { reject_live: true });
    assert.equal((await postRun(seed, { dry_run: false })).json.status, 'success', 'the seed-era app never refuses');
  });

  for (const [status, count] of [
    ['critical_unprotected_position', { submitted: 0, pending: 0, protection_failed: 1, simulated: 0 }],
    ['failed_unprotected_closed', { submitted: 0, pending: 0, protection_failed: 1, simulated: 0 }],
    ['entry_submitted', { submitted: 0, pending: 1, protection_failed: 0, simulated: 0 }],
    ['submitted_protected', { submitted: 1, pending: 0, protection_failed: 0, simulated: 0 }],
    ['simulated', { submitted: 0, pending: 0, protection_failed: 0, simulated: 1 }],
  ] as const) {
    void test(`order_status ${status} is every order's status, and the counts follow it`, async (t) => {
      const sim = await start(t, { order_status: status });
      const body = (await postRun(sim, { symbols: DEFAULT_SYMBOLS, dry_run: false })).json;
      const ready = symbolsWith(body, 'READY').length;
      assert.ok(ready >= 1);
      const expected = Object.fromEntries(Object.entries(count).map(([k, v]) => [k, v * ready]));
      assert.deepEqual(body.data.orders_placed.count, { total: ready, ...expected });
      for (const o of body.data.orders_placed.orders) {
        assert.equal(o.status, status);
        assert.equal(body.data.symbols[o.symbol].trading_decision.status, status);
        // Only a simulated order never reached the exchange.
        assert.equal(o.exchange_order_id === null, status === 'simulated');
      }
    });
  }

  void test('order_status applies to a dry run too (an unprotected position is news even then)', async (t) => {
    const sim = await start(t, { order_status: 'critical_unprotected_position' });
    const body = (await postRun(sim, { symbols: DEFAULT_SYMBOLS })).json;
    assert.ok(body.data.orders_placed.orders.every((o: Json) => o.status === 'critical_unprotected_position'));
    assert.equal(body.data.orders_placed.count.simulated, 0);
  });

  void test('an order_status list is dealt to the READY contracts in turn, and the counts follow it', async (t) => {
    const statuses = ['submitted', 'entry_submitted', 'critical_unprotected_position'];
    const sim = await start(t, { order_status: statuses, ready_share: 1 });
    const symbols = ['AUSDT', 'BUSDT', 'CUSDT', 'DUSDT'];
    const body = (await postRun(sim, { symbols, dry_run: false })).json;
    assert.deepEqual(
      body.data.orders_placed.orders.map((o: Json) => `${o.symbol} ${o.status}`),
      ['AUSDT submitted', 'BUSDT entry_submitted', 'CUSDT critical_unprotected_position', 'DUSDT submitted'],
    );
    assert.deepEqual(body.data.orders_placed.count, { total: 4, submitted: 2, pending: 1, protection_failed: 1, simulated: 0 });
  });

  void test('ready_share sets the share of READY contracts: 0 none, 1 all, 0.02 a few of 150 as in production', async (t) => {
    const symbols = Array.from({ length: 150 }, (_, i) => `C${String(i).padStart(3, '0')}USDT`);
    const readyWith = async (share: number) => {
      const sim = await start(t, { ready_share: share });
      return symbolsWith((await postRun(sim, { symbols })).json, 'READY').length;
    };
    assert.equal(await readyWith(0), 0);
    assert.equal(await readyWith(1), 150);
    const few = await readyWith(0.02);
    assert.ok(few >= 1 && few <= 8, `${few} READY of 150 at 0.02`);
  });
});
