/**
 * Today's app lists the trades each run caused on its lineage API
 * (`GET /api/lineage/v1/search?orchestration_run_id=<X-Run-Id>`), a while after the run: the
 * simulator serves it so that a loop can read them. One trade per READY contract, filed under the
 * run's X-Run-Id, listed `lineage_delay` seconds after the answer; the app's 400s and 404s; the
 * route absent on an older release (`lineage: 'absent'`) and on the seed-era app.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import { LINEAGE_PATH, startSimulator, type Simulator, type SimulatorBehaviour } from '../../src/simulator/server';

const FIVE = ['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT'];

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return */
// Bodies are read as `any` on purpose: the tests check shapes field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Found {
  status: number;
  type: string | null;
  body: Json;
  text: string;
}

async function start(t: TestContext, behaviour: Partial<SimulatorBehaviour> = {}): Promise<Simulator> {
  const sim = await startSimulator({ behaviour });
  t.after(() => sim.close());
  return sim;
}

/** A run as the loop sends it: its X-Run-Id and Idempotency-Key headers (none when xRunId is null). */
async function run(sim: Simulator, xRunId: string | null, body: Record<string, unknown> = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (xRunId !== null) Object.assign(headers, { 'x-run-id': xRunId, 'idempotency-key': `key-${xRunId}` });
  const res = await fetch(sim.runUrl, { method: 'POST', headers, body: JSON.stringify({ symbols: FIVE, ...body }) });
  await res.arrayBuffer();
  return res;
}

async function search(sim: Simulator, query: string): Promise<Found> {
  const res = await fetch(`${sim.baseUrl}${LINEAGE_PATH}${query === '' ? '' : `?${query}`}`);
  const text = await res.text();
  const type = res.headers.get('content-type');
  return { status: res.status, type, text, body: type?.startsWith('application/json') ? JSON.parse(text) : null };
}

const byRun = (xRunId: string, extra = ''): string => `orchestration_run_id=${encodeURIComponent(xRunId)}${extra}`;

function assertNotFound(found: Found): void {
  assert.equal(found.status, 404);
  assert.equal(found.type, 'application/json');
  assert.deepEqual(found.body, { error: { code: 'lineage_not_found', message: 'No lineage was found for the requested identifier.' } });
}

void describe("a run's trades on the lineage API", () => {
  void test('listed lineage_delay after the answer (404 lineage_not_found before): one per READY contract, its symbol and side', async (t) => {
    const sim = await start(t, { lineage_delay: 0.5, trade_statuses: ['SENT'] });
    // The simulator lists trades by its clock: the test moves that clock instead of sleeping.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const res = await run(sim, 'mtfpp.cafe.1');
    assert.equal(res.status, 200);
    assertNotFound(await search(sim, byRun('mtfpp.cafe.1')));
    t.mock.timers.tick(499);
    assertNotFound(await search(sim, byRun('mtfpp.cafe.1')));
    t.mock.timers.tick(1);

    const found = await search(sim, byRun('mtfpp.cafe.1'));
    assert.equal(found.status, 200);
    assert.equal(found.type, 'application/json');
    const { body } = found;
    assert.deepEqual(Object.keys(body), ['pagination', 'data', 'filters']);
    assert.deepEqual(body.pagination, { limit: 100, offset: 0, total: 2, has_more: false });
    assert.deepEqual(body.filters, { identifier: 'orchestration_run_id', value: 'mtfpp.cafe.1', exchange: null, market_type: null });
    // The default seed: BTCUSDT READY SHORT and ADAUSDT READY LONG, in the order the run took them.
    assert.deepEqual(
      body.data.map((item: Json) => [item.lineage.symbol, item.lineage.side]),
      [
        ['BTCUSDT', 'SHORT'],
        ['ADAUSDT', 'LONG'],
      ],
    );

    const [item] = body.data;
    assert.deepEqual(Object.keys(item), [
      'completeness_status',
      'lineage_classification',
      'quality_flags',
      'lineage',
      'order_intent',
      'lifecycle_events',
      'lifecycle_events_pagination',
    ]);
    assert.equal(item.lineage_classification, 'canonical');
    const { lineage, order_intent: intent, lifecycle_events: events } = item;
    assert.equal(lineage.orchestration_run_id, 'mtfpp.cafe.1');
    assert.equal(lineage.correlation_run_id, 'mtfpp.cafe.1', 'a short plain X-Run-Id is its own canonical form');
    assert.deepEqual([lineage.exchange, lineage.market_type, lineage.profile, lineage.origin], ['bitmart', 'perpetual', 'scalper', 'mtf']);
    assert.match(lineage.internal_trade_id, /^T-\d+-BTCUSDT$/);
    assert.equal(lineage.order_intent_id, intent.id);
    assert.equal(lineage.decision_key, 'mtfpp.cafe.1:BTCUSDT:1m:SHORT');
    assert.ok(!Number.isNaN(Date.parse(lineage.created_at)), lineage.created_at);

    assert.equal(intent.status, 'SENT');
    assert.deepEqual(
      [intent.symbol, intent.side, intent.internal_trade_id, intent.orchestration_run_id],
      ['BTCUSDT', 'SHORT', lineage.internal_trade_id, 'mtfpp.cafe.1'],
    );
    assert.match(intent.exchange_order_id, /^\d+$/, "a dry run gets the fake exchange's order id");
    assert.equal(intent.client_order_id, lineage.client_order_id);
    assert.ok(intent.sent_at !== null);

    assert.deepEqual(
      events.map((e: Json) => e.event_type),
      ['order_submitted', 'position_opened'],
    );
    assert.ok(Date.parse(events[0].happened_at) <= Date.parse(events[1].happened_at), 'ascending by happened_at');
    for (const event of events) {
      assert.deepEqual(
        [event.symbol, event.internal_trade_id, event.orchestration_run_id, event.side, event.reason_code],
        ['BTCUSDT', lineage.internal_trade_id, 'mtfpp.cafe.1', 'SHORT', null],
      );
    }
    assert.deepEqual(item.lifecycle_events_pagination, { limit: 100, offset: 0, total: 2, has_more: false });

    assert.deepEqual((await search(sim, byRun('mtfpp.cafe.1'))).body, body, 'a second read lists the same items, the same ids');
    const one = await search(sim, `internal_trade_id=${lineage.internal_trade_id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.data, [item], 'found by its trade id too');
    assert.equal(one.body.filters.identifier, 'internal_trade_id');
  });

  void test('trade_statuses in turn: FAILED is a skipped entry; none an unmatched item that names its trade only in its event', async (t) => {
    const sim = await start(t, { lineage_delay: 0, ready_share: 1, trade_statuses: ['SENT', 'FAILED', 'none'] });
    assert.equal((await run(sim, 'mtfpp.beef.7', { dry_run: false })).status, 200);
    const { body } = await search(sim, byRun('mtfpp.beef.7'));
    assert.equal(body.pagination.total, 5);
    const statusOf = (item: Json) => item.order_intent?.status ?? 'none';
    assert.deepEqual(body.data.map(statusOf), ['SENT', 'FAILED', 'none', 'SENT', 'FAILED'], 'the list repeated over the READY contracts');
    assert.match(body.data[0].order_intent.exchange_order_id, /^\d+$/, 'a live run: the order reached the exchange');

    const failed = body.data[1];
    assert.equal(failed.lineage.symbol, 'ETHUSDT');
    assert.equal(failed.order_intent.exchange_order_id, null);
    assert.equal(failed.order_intent.sent_at, null);
    assert.deepEqual(
      failed.lifecycle_events.map((e: Json) => [e.event_type, e.reason_code]),
      [['symbol_skipped', 'skipped_out_of_zone']],
    );

    const unmatched = body.data[2];
    assert.deepEqual(
      [unmatched.completeness_status, unmatched.quality_flags, unmatched.lineage, unmatched.order_intent],
      ['unmatched', ['unmatched'], null, null],
    );
    assert.equal(unmatched.lifecycle_events.length, 1);
    const [event] = unmatched.lifecycle_events;
    assert.deepEqual(
      [event.event_type, event.reason_code, event.symbol, event.orchestration_run_id],
      ['symbol_skipped', 'skipped_out_of_zone', 'ADAUSDT', 'mtfpp.beef.7'],
    );
    assert.match(event.internal_trade_id, /^T-\d+-ADAUSDT$/);
    assert.equal(
      (await search(sim, `internal_trade_id=${event.internal_trade_id}`)).body.data[0].lifecycle_events[0].id,
      event.id,
      'found by the trade id its event carries',
    );
  });

  void test('drawn from the seed by default: trade_failed_share 0 all SENT, 1 none; the same seed the same trades; ids never repeat', async (t) => {
    const symbols = Array.from({ length: 30 }, (_, i) => `T${i}USDT`);
    const statuses = async (sim: Simulator, xRunId: string): Promise<string[]> => {
      await run(sim, xRunId, { symbols });
      return ((await search(sim, byRun(xRunId))).body.data as Json[]).map((item) => item.order_intent?.status ?? 'none');
    };
    const a = await start(t, { lineage_delay: 0, ready_share: 1, trade_failed_share: 0.5, seed: 5 });
    const b = await start(t, { lineage_delay: 0, ready_share: 1, trade_failed_share: 0.5, seed: 5 });
    const drawn = await statuses(a, 'a1');
    assert.deepEqual(new Set(drawn), new Set(['SENT', 'FAILED', 'none']), drawn.join(','));
    assert.deepEqual(await statuses(b, 'b1'), drawn, 'another simulator with the same seed');

    a.setBehaviour({ trade_failed_share: 0 });
    assert.ok((await statuses(a, 'a2')).every((s) => s === 'SENT'));
    a.setBehaviour({ trade_failed_share: 1 });
    assert.ok((await statuses(a, 'a3')).every((s) => s !== 'SENT'));

    // Setting the seed again restarts the run ordinals: the trade ids must not restart with them.
    a.setBehaviour({ seed: 5, trade_failed_share: 0.5 });
    assert.deepEqual(await statuses(a, 'a4'), drawn, 'the seed set again replays its draws');
    const ids = async (xRunId: string): Promise<string[]> =>
      ((await search(a, byRun(xRunId))).body.data as Json[]).map(
        (item) => item.lifecycle_events[0]?.internal_trade_id ?? item.lineage.internal_trade_id,
      );
    const all = [...(await ids('a1')), ...(await ids('a2')), ...(await ids('a3')), ...(await ids('a4'))];
    assert.equal(new Set(all).size, all.length, 'every trade its own id');
  });

  void test('an accepted run: listed once it has completed and the delay is past', async (t) => {
    const sim = await start(t, { mode: 'async', latency_ms: 60_000, lineage_delay: 0, trade_statuses: ['SENT'] });
    const res = await run(sim, 'mtfpp.async.1');
    assert.equal(res.status, 202);
    assertNotFound(await search(sim, byRun('mtfpp.async.1')));
    sim.completeRun('mtfpp.async.1');
    const found = await search(sim, byRun('mtfpp.async.1'));
    assert.equal(found.status, 200);
    assert.equal(found.body.pagination.total, 2);
  });

  void test('404 lineage_not_found: an unknown id, a run without READY contracts, a failed run, a run without X-Run-Id', async (t) => {
    const sim = await start(t, { lineage_delay: 0 });
    assertNotFound(await search(sim, byRun('nobody')));
    assertNotFound(await search(sim, 'client_order_id=MTF0000'));

    sim.setBehaviour({ ready_share: 0 });
    assert.equal((await run(sim, 'none-ready')).status, 200);
    assertNotFound(await search(sim, byRun('none-ready')));

    sim.setBehaviour({ ready_share: 1, run_result: 'error' });
    assert.equal((await run(sim, 'failed')).status, 500);
    assertNotFound(await search(sim, byRun('failed')));

    sim.setBehaviour({ run_result: 'success', fault: 'html504_after_run', fault_count: 1 });
    assert.equal((await run(sim, 'faulted')).status, 504);
    assertNotFound(await search(sim, byRun('faulted')));

    assert.equal((await run(sim, null)).status, 200);
    assert.equal((await run(sim, 'traded')).status, 200);
    assert.equal((await search(sim, byRun('traded'))).body.pagination.total, 5, 'only the run that named itself is filed');
  });

  void test('400: no identifier (an empty one counts as absent), or more than one', async (t) => {
    const sim = await start(t);
    const missing = { error: { code: 'missing_identifier', message: 'Provide exactly one lineage identifier query parameter.' } };
    for (const query of ['', 'limit=5', 'orchestration_run_id=%20%20', 'exchange=bitmart']) {
      const found = await search(sim, query);
      assert.deepEqual([found.status, found.type, found.body], [400, 'application/json', missing], query);
    }
    const multiple = await search(sim, 'orchestration_run_id=a&internal_trade_id=b');
    assert.deepEqual(
      [multiple.status, multiple.body],
      [400, { error: { code: 'multiple_identifiers', message: 'Provide only one lineage identifier query parameter per request.' } }],
    );
    assert.equal((await search(sim, 'orchestration_run_id=a&internal_trade_id=')).status, 404, 'the empty one does not count');
  });

  void test('limit and offset page the items (limit 1..100), has_more says whether more follow', async (t) => {
    const sim = await start(t, { lineage_delay: 0, ready_share: 1 });
    await run(sim, 'paged');
    const all = (await search(sim, byRun('paged'))).body;
    assert.equal(all.data.length, 5);
    const page = async (extra: string) => (await search(sim, byRun('paged', extra))).body;

    const first = await page('&limit=2');
    assert.deepEqual(first.pagination, { limit: 2, offset: 0, total: 5, has_more: true });
    assert.deepEqual(first.data, all.data.slice(0, 2));
    const last = await page('&limit=2&offset=4');
    assert.deepEqual(last.pagination, { limit: 2, offset: 4, total: 5, has_more: false });
    assert.deepEqual(last.data, all.data.slice(4));
    assert.deepEqual((await page('&offset=9')).data, []);
    assert.equal((await page('&limit=500')).pagination.limit, 100);
    assert.equal((await page('&limit=0')).pagination.limit, 1);
  });

  void test('lineage requests are logged like any other, their query as the body', async (t) => {
    const sim = await start(t);
    await search(sim, byRun('logged', '&limit=3'));
    await search(sim, '');
    const logged = sim.lineageRequests();
    assert.deepEqual(
      logged.map((r) => [r.method, r.path, r.status, r.body]),
      [
        ['GET', LINEAGE_PATH, 404, { orchestration_run_id: 'logged', limit: '3' }],
        ['GET', LINEAGE_PATH, 400, {}],
      ],
    );
    assert.deepEqual(sim.runRequests(), [], 'not a run request');
  });
});

void describe('where the lineage API is not served', () => {
  void test("lineage 'absent': an older release, nginx's HTML 404; set back on, the route answers again", async (t) => {
    const sim = await start(t, { lineage: 'absent', lineage_delay: 0 });
    await run(sim, 'old');
    const found = await search(sim, byRun('old'));
    assert.equal(found.status, 404);
    assert.equal(found.type, 'text/html');
    assert.match(found.text, /<title>404 Not Found<\/title>/);
    sim.setBehaviour({ lineage: 'on' });
    assert.equal((await search(sim, byRun('old'))).status, 200);
  });

  void test('the seed-era app has no lineage API: the path is unknown like any other', async (t) => {
    const sim = await start(t, { answer: 'seed', lineage_delay: 0 });
    await run(sim, 'seed-run');
    const found = await search(sim, byRun('seed-run'));
    assert.deepEqual([found.status, found.body], [404, { status: 'error', message: 'Not found' }]);
  });

  void test('a bad lineage, lineage_delay, trade_failed_share or trade_statuses is refused naming the field', async (t) => {
    const sim = await start(t);
    const refusals: [Partial<SimulatorBehaviour>, RegExp][] = [
      [{ lineage: 'off' as never }, /invalid lineage: "off" \(expected 'on' or 'absent'\)/],
      [{ lineage_delay: -1 }, /invalid lineage_delay: -1 \(expected seconds, 0 or more\)/],
      [{ lineage_delay: Number.NaN }, /invalid lineage_delay/],
      [{ trade_failed_share: 1.5 }, /invalid trade_failed_share: 1\.5 \(expected 0\.\.1\)/],
      [
        { trade_statuses: [] },
        /invalid trade_statuses: \[\] \(expected a non-empty list of DRAFT, VALIDATED, READY_TO_SEND, SENT, FAILED, CANCELLED, none, or null\)/,
      ],
      [{ trade_statuses: ['FILLED' as never] }, /invalid trade_statuses: \["FILLED"\]/],
    ];
    for (const [patch, message] of refusals) {
      assert.throws(() => sim.setBehaviour(patch), message);
      await assert.rejects(startSimulator({ behaviour: patch }), message);
    }
    assert.equal(sim.behaviour().lineage_delay, 0, 'a refused patch leaves the behaviour as it was');
  });
});
