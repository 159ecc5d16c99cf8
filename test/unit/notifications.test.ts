/**
 * Notifications without a Temporal server: which cycles are transitions, what each message says,
 * the two wire formats, the worker's MTF_NOTIFY_* settings, and the `notify` activity against a
 * real HTTP receiver on loopback (in the SDK's MockActivityEnvironment), whose failures never name the URL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { createNotify } from '../../src/activities/notify';
import type { CycleRecord } from '../../src/shared/cycle-record';
import {
  cycleEvents,
  cycleNotification,
  lateTradesNotification,
  loopNotification,
  notificationBody,
  readNotifications,
  startedDetail,
  stoppedDetail,
  type Notification,
} from '../../src/shared/notifications';
import { parseLoopConfig } from '../../src/shared/config';
import type { JsonValue } from '../../src/shared/schema';
import { notifySettings } from '../../src/worker/main';
import { cycleRecord } from '../helpers/fixtures';
import { freePort } from '../../harness/processes';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const DRY = { dry_run: true };
const LIVE = { dry_run: false };
const orders = (submitted: number, alert: string | null = null) => ({
  count: { total: submitted + (alert ? 1 : 0), submitted, pending: 0, protection_failed: alert ? 1 : 0, simulated: 0 },
  list: [
    ...Array.from({ length: submitted }, (_, i) => ({ symbol: `S${i}USDT`, status: 'submitted', exchange_order_id: `${i}` })),
    ...(alert ? [{ symbol: 'BTCUSDT', status: 'critical_unprotected_position', exchange_order_id: alert }] : []),
  ],
  unlisted: 0,
});
const alerted = (id: string) => cycleRecord({ protection_alert: true, orders: orders(0, id) });

void describe('which cycles are transitions', () => {
  const ok = cycleRecord();
  const failed = cycleRecord({ outcome: 'failed', message: 'MTF API answered HTTP 500' });
  const skipped = cycleRecord({ outcome: 'skipped' });
  const events = (before: { consecutive_failures: number; last: CycleRecord | null }, record: CycleRecord, after: number, config = DRY) =>
    cycleEvents(before, record, { consecutive_failures: after }, config);

  void test('a quiet cycle, a first or second failure, a skipped cycle after a skipped one: none', () => {
    assert.deepEqual(events({ consecutive_failures: 0, last: ok }, ok, 0), []);
    assert.deepEqual(events({ consecutive_failures: 0, last: ok }, failed, 1), []);
    assert.deepEqual(events({ consecutive_failures: 1, last: failed }, failed, 2), []);
    assert.deepEqual(events({ consecutive_failures: 3, last: failed }, failed, 4), [], 'failing is said once, at the threshold');
    assert.deepEqual(events({ consecutive_failures: 0, last: skipped }, skipped, 0), []);
    assert.deepEqual(
      events({ consecutive_failures: 0, last: ok }, cycleRecord({ orders: orders(2) }), 0, DRY),
      [],
      'a dry run places no live order',
    );
    assert.deepEqual(
      events({ consecutive_failures: 0, last: ok }, cycleRecord({ orders: orders(0) }), 0, LIVE),
      [],
      'a live cycle that submitted nothing',
    );
  });

  void test('the threshold, the recovery, the first skip, live orders', () => {
    assert.deepEqual(events({ consecutive_failures: 2, last: failed }, failed, 3), ['failing']);
    assert.deepEqual(events({ consecutive_failures: 4, last: failed }, ok, 0), ['recovered']);
    assert.deepEqual(
      events({ consecutive_failures: 2, last: failed }, ok, 0),
      [],
      'no recovery from below the threshold: failing was never said',
    );
    assert.deepEqual(events({ consecutive_failures: 0, last: ok }, skipped, 0), ['skipped']);
    assert.deepEqual(events({ consecutive_failures: 0, last: null }, skipped, 0), ['skipped'], 'the first cycle too');
    assert.deepEqual(events({ consecutive_failures: 0, last: ok }, cycleRecord({ orders: orders(2) }), 0, LIVE), ['live_orders']);
  });

  void test('a protection alert comes first, once per set of orders, and stands for the live orders of its cycle', () => {
    const failing = cycleRecord({ outcome: 'failed', message: 'x', protection_alert: true, orders: orders(1, 'A') });
    assert.deepEqual(events({ consecutive_failures: 2, last: failed }, failing, 3, LIVE), ['protection_alert', 'failing']);
    assert.deepEqual(
      events({ consecutive_failures: 0, last: alerted('A') }, alerted('A'), 0),
      [],
      'the same unprotected order again: already said',
    );
    assert.deepEqual(
      events({ consecutive_failures: 0, last: alerted('A') }, alerted('B'), 0),
      ['protection_alert'],
      'a new unprotected order is news',
    );
    assert.deepEqual(events({ consecutive_failures: 0, last: ok }, alerted('A'), 0), ['protection_alert']);
    const countOnly = (n: number) =>
      cycleRecord({ protection_alert: true, orders: { ...orders(0), count: { ...orders(0).count, protection_failed: n } } });
    assert.deepEqual(
      events({ consecutive_failures: 0, last: countOnly(1) }, countOnly(1), 0),
      [],
      'an alert that lists no order: the same count again is already said',
    );
    assert.deepEqual(
      events({ consecutive_failures: 0, last: countOnly(1) }, countOnly(3), 0),
      ['protection_alert'],
      'a larger count is news',
    );
  });
});

void describe('what each message says', () => {
  const moment = { loop: 'mtf-ping-pong', fleet: null, group: null, iteration: 12, at: '2026-12-02T10:00:00.000Z' };

  void test('loop events: started (mode, beat, contracts), paused with its reason, stopped with its record', () => {
    const config = parseLoopConfig({ cadence: 'aligned', align_every: 300 });
    const started = loopNotification('started', { ...moment, iteration: 0 }, null, startedDetail(config));
    assert.equal(
      started.message,
      '▶️ mtf-ping-pong: started before its first cycle: dry run, every 5m at :00:02, BTCUSDT, ETHUSDT, ADAUSDT, SOLUSDT, DOTUSDT',
    );
    assert.deepEqual(
      [started.event, started.severity, started.outcome, started.signals, started.orders],
      ['started', 'info', null, [], null],
    );
    const all = startedDetail(parseLoopConfig({ symbols: [], dry_run: false, confirm_live: true, confirm_all_symbols: true }));
    assert.equal(all, 'LIVE, every 30 s, every active contract of the app');
    assert.equal(
      loopNotification('paused', moment, cycleRecord(), 'exchange\nmaintenance').message,
      '⏸️ mtf-ping-pong: paused after iteration 12: exchange maintenance',
    );
    const counters = { cycles: 12, succeeded: 10, partial: 0, failed: 2, skipped: 0, timed_out: 0 };
    assert.equal(
      loopNotification('stopped', moment, cycleRecord(), stoppedDetail('deploy', counters)).message,
      '⏹️ mtf-ping-pong: stopped after iteration 12: deploy; 12 cycles (10 succeeded, 2 failed)',
    );
    assert.equal(stoppedDetail(null, { ...counters, cycles: 1, succeeded: 1, failed: 0 }), '1 cycle (1 succeeded)');
  });

  void test('cycle events: the outcome and the error, or the contracts and the orders', () => {
    const failed = cycleRecord({ iteration: 12, outcome: 'failed', message: 'MTF API answered HTTP 503 (after 3 attempts)' });
    assert.equal(
      cycleNotification('failing', moment, failed, { before: 2 }).message,
      '🔴 mtf-ping-pong: FAILING: 3 cycles in a row failed, iteration 12 failed: MTF API answered HTTP 503 (after 3 attempts)',
    );
    const ready = cycleRecord({ iteration: 12, signals: [{ symbol: 'BTCUSDT', timeframe: '5m', side: 'LONG' }], orders: orders(4) });
    assert.equal(
      cycleNotification('recovered', moment, ready, { before: 5 }).message,
      '✅ mtf-ping-pong: recovered: iteration 12 succeeded after 5 failed cycles; ready BTCUSDT 5m LONG; orders 4 submitted',
    );
    const live = cycleNotification('live_orders', moment, ready, { before: 0 });
    assert.equal(
      live.message,
      '💸 mtf-ping-pong: LIVE orders placed, iteration 12: 4 submitted (S0USDT submitted (exchange order 0), S1USDT submitted (exchange order 1), S2USDT submitted (exchange order 2) and 1 more); ready BTCUSDT 5m LONG',
    );
    assert.deepEqual(live.signals, ready.signals);
    assert.deepEqual(live.orders, ready.orders);
    const alert = cycleNotification('protection_alert', moment, { ...alerted('77'), iteration: 12 }, { before: 0 });
    assert.equal(
      alert.message,
      '🚨 mtf-ping-pong: PROTECTION ALERT: a position may be open without its stop-loss: BTCUSDT critical_unprotected_position (exchange order 77) (iteration 12, succeeded; orders 0 submitted · 1 PROTECTION FAILED)',
    );
    assert.equal(alert.severity, 'critical');
    const long = cycleRecord({ outcome: 'skipped', message: 'x'.repeat(1000) });
    assert.ok(cycleNotification('skipped', moment, long, { before: 0 }).message.length < 400, 'a long error is cut: one short line');
  });

  void test('Slack gets {text}, the alert mentioning the channel; json gets the message itself', () => {
    const config = parseLoopConfig({});
    const info = loopNotification('started', moment, null, startedDetail(config));
    assert.deepEqual(JSON.parse(notificationBody(info, 'slack')), { text: info.message });
    const alert = cycleNotification('protection_alert', moment, alerted('1'), { before: 0 });
    assert.deepEqual(JSON.parse(notificationBody(alert, 'slack')), { text: `<!channel> ${alert.message}` });
    assert.deepEqual(JSON.parse(notificationBody(alert, 'json')), alert);
    assert.deepEqual([alert.fleet, alert.group], [null, null], 'a loop without labels: both fields, null');
  });

  void test("a labelled loop's messages name its group, then its fleet, before the loop; the JSON format carries both", () => {
    const grouped = { ...moment, loop: 'bitmart-scalper', group: 'bitmart' };
    const both = { ...grouped, fleet: 'bitmart-prod' };
    const failed = cycleRecord({ iteration: 12, outcome: 'failed', message: 'MTF API answered HTTP 503' });
    assert.equal(
      cycleNotification('failing', grouped, failed, { before: 2 }).message,
      '🔴 [bitmart] bitmart-scalper: FAILING: 3 cycles in a row failed, iteration 12 failed: MTF API answered HTTP 503',
    );
    const alert = cycleNotification('protection_alert', both, { ...alerted('77'), iteration: 12 }, { before: 0 });
    assert.match(alert.message, /^🚨 \[bitmart, fleet bitmart-prod\] bitmart-scalper: PROTECTION ALERT: /);
    assert.deepEqual(JSON.parse(notificationBody(alert, 'slack')), { text: `<!channel> ${alert.message}` });
    const json = JSON.parse(notificationBody(alert, 'json')) as Notification;
    assert.deepEqual([json.loop, json.fleet, json.group], ['bitmart-scalper', 'bitmart-prod', 'bitmart']);
    assert.equal(
      loopNotification('stopped', { ...moment, fleet: 'bitmart-prod' }, null, 'deploy').message,
      '⏹️ [fleet bitmart-prod] mtf-ping-pong: stopped after iteration 12: deploy',
      'a fleet without a group is named as a fleet',
    );
    const late = lateTradesNotification(
      both,
      { iteration: 11, outcome: 'succeeded', trades: { state: 'known', by_status: { SENT: 1 }, list: [], unlisted: 0 } },
      LIVE,
    );
    assert.match(late?.message ?? '', /^💸 \[bitmart, fleet bitmart-prod\] bitmart-scalper: LIVE orders placed, iteration 11: 1 SENT/);
    assert.deepEqual([late?.fleet, late?.group], ['bitmart-prod', 'bitmart']);
  });
});

void describe('messages carried across continue-as-new', () => {
  void test('are read one by one: one this release cannot read (a newer event) is dropped and counted failed, not a failed loop', () => {
    const message = loopNotification(
      'paused',
      { loop: 'l', fleet: null, group: null, iteration: 3, at: '2026-12-02T10:00:00.000Z' },
      null,
      'x',
    );
    // Carried by a release before the labels: no fleet or group, read as none.
    const unlabelled: Record<string, JsonValue> = { ...message, at: '2026-12-02T09:00:00.000Z' };
    delete unlabelled.fleet;
    delete unlabelled.group;
    const queued: Record<string, JsonValue>[] = [message, { ...message, event: 'a_future_event' }, { nonsense: true }, unlabelled];
    const read = readNotifications({ sent: 4, failed: 1, no_endpoint: 0, last_failure: null, pause_said: null, queued });
    assert.deepEqual(read.queued, [message, { ...unlabelled, fleet: null, group: null }]);
    assert.equal(read.failed, 3);
    assert.equal(read.sent, 4);
    assert.deepEqual(readNotifications(undefined), {
      sent: 0,
      failed: 0,
      no_endpoint: 0,
      last_failure: null,
      pause_said: null,
      queued: [],
    });
  });
});

void describe('the worker settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtf-notify-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const SECRET = 'https://hooks.slack.test/services/T0/B0/SECRETKEY';

  void test('off without a URL; the URL from env or a file; the format and the timeout', () => {
    assert.deepEqual(notifySettings({}), { url: null, format: 'slack', timeoutMs: 5000 });
    assert.deepEqual(notifySettings({ MTF_NOTIFY_URL: SECRET, MTF_NOTIFY_FORMAT: 'JSON', MTF_NOTIFY_TIMEOUT: '2.5' }), {
      url: SECRET,
      format: 'json',
      timeoutMs: 2500,
    });
    assert.equal(notifySettings({ MTF_NOTIFY_URL_FILE: file('url', `${SECRET}\n`) }).url, SECRET);
  });

  void test('a bad setting is one clear line that never repeats the URL', () => {
    const refused = (env: NodeJS.ProcessEnv, pattern: RegExp) =>
      assert.throws(
        () => notifySettings(env),
        (err: Error) => pattern.test(err.message) && !err.message.includes('SECRETKEY'),
      );
    refused({ MTF_NOTIFY_URL: 'hooks.slack.test/services/SECRETKEY' }, /^MTF_NOTIFY_URL: must be an http:\/\/ or https:\/\/ URL/);
    refused({ MTF_NOTIFY_URL: SECRET, MTF_NOTIFY_URL_FILE: file('both', SECRET) }, /^set MTF_NOTIFY_URL or MTF_NOTIFY_URL_FILE, not both$/);
    refused({ MTF_NOTIFY_URL_FILE: file('two', 'a\nb\n') }, /must hold the URL on one line/);
    refused({ MTF_NOTIFY_FORMAT: 'xml' }, /^MTF_NOTIFY_FORMAT: must be slack or json, not "xml"$/);
    refused({ MTF_NOTIFY_TIMEOUT: '30' }, /^MTF_NOTIFY_TIMEOUT: must be seconds, more than 0 and at most 9/);
  });
});

void describe('the notify activity against a real receiver', () => {
  let receiver: WebhookReceiver;
  let answer: number | 'hang' = 200;
  const message: Notification = loopNotification(
    'started',
    { loop: 'l', fleet: null, group: null, iteration: 0, at: '2026-12-02T10:00:00.000Z' },
    null,
    'dry run',
  );
  const logs: LogEntry[] = [];
  const logger = new DefaultLogger('INFO', (entry) => logs.push(entry));
  const run = (url: string | null, timeoutMs = 2000) =>
    new MockActivityEnvironment({ startToCloseTimeoutMs: 10_000 }, { logger }).run(createNotify({ url, timeoutMs }), message);
  /** The failure a post ends in: its message, and whether Temporal may retry it. */
  const failure = async (pending: Promise<unknown>) => {
    const err = await pending.then(
      () => assert.fail('the post should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.ok(!err.message.includes('SECRET') && !err.message.includes('127.0.0.1'), `the failure names no address: ${err.message}`);
    return { message: err.message, retryable: !err.nonRetryable };
  };

  before(async () => {
    receiver = await WebhookReceiver.start(() => answer, '/hook/SECRET');
  });
  after(() => receiver.close());

  void test('a 2xx is sent, as Slack JSON on the webhook path; no URL: nothing is posted, and it says so', async () => {
    answer = 204;
    assert.deepEqual(await run(receiver.url), { sent: true, http_status: 204 });
    assert.deepEqual(receiver.posts.at(-1)?.path, '/hook/SECRET');
    assert.deepEqual(JSON.parse(receiver.posts.at(-1)?.body ?? ''), { text: message.message });
    const before = receiver.posts.length;
    assert.deepEqual(await run(null), { sent: false, http_status: null });
    assert.equal(receiver.posts.length, before);
  });

  void test('a 5xx, a 429 or no answer may be retried; a revoked webhook (404) or a redirect is not retried', async () => {
    for (const [status, retryable] of [
      [500, true],
      [429, true],
      [404, false],
      [302, false],
    ] as const) {
      answer = status;
      const redirect = status === 302 ? ' (a redirect, not followed)' : '';
      assert.deepEqual(await failure(run(receiver.url)), {
        message: `notification endpoint answered HTTP ${status}${redirect}`,
        retryable,
      });
    }
    answer = 'hang';
    assert.deepEqual(await failure(run(receiver.url, 200)), {
      message: 'notification endpoint did not answer within 0.2 s',
      retryable: true,
    });
    const closed = `http://127.0.0.1:${await freePort()}/hook/SECRET`;
    assert.deepEqual(await failure(run(closed)), { message: 'notification endpoint unreachable (ECONNREFUSED)', retryable: true });
    const warned = logs.filter(
      (l) => l.message === 'notification failed; Temporal retries it' || l.message === 'notification refused; not retried',
    );
    assert.equal(warned.length, 6, 'one line per failed post');
    assert.ok(
      !logs.some((l) =>
        `${l.message} ${JSON.stringify(l.meta ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`.includes('SECRET'),
      ),
      'the logs name no URL',
    );
  });
});
