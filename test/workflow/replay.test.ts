/**
 * Recorded histories of real runs (one per mode, `npm run record-histories`) replay against the
 * workflow code as built: a change that would break running loops fails here, before a deploy.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { LoopSummary } from '../../src/shared/status';
import { LABELS_PATCH } from '../../src/workflows/visibility';
import { workflowSource } from '../../src/worker/worker';
import { installTestRuntime, isPatchBookkeeping, notifiedEvents } from '../helpers/temporal';
import { HISTORIES_DIR } from '../replay/record-histories';

installTestRuntime();

const histories = readdirSync(HISTORIES_DIR)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({
    name: file.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8'))),
  }));

const { EventType } = temporal.api.enums.v1;

describe('replay of recorded histories', () => {
  test('the recorded modes are all there', () => {
    assert.deepEqual(histories.map((h) => h.name).sort(), [
      'accepted-run-polling',
      'aligned-pause-resume',
      'auto-mode',
      'continue-as-new',
      'fleet-labels',
      'notifications',
      'retries-then-success',
      'search-attributes',
      'signal-mode',
      'today-accepted-run-polling',
      'today-answer',
      'today-findings-protection-alert',
      'today-late-trades',
      'today-sequential-partial',
      'today-unreadable-answer',
    ]);
  });

  for (const { name, history } of histories) {
    test(`${name} replays cleanly on the current workflow`, async () => {
      await Worker.runReplayHistory({ ...workflowSource(), replayName: name }, history, `replay-${name}`);
    });
  }

  test('the notifications history holds one notify activity per transition, in order, behind the patch marker', () => {
    const { history } = histories.find((h) => h.name === 'notifications') ?? assert.fail('notifications history missing');
    const events = history.events ?? [];
    assert.deepEqual(notifiedEvents(events), ['started', 'paused', 'resumed', 'failing', 'recovered', 'stopped']);
    const marker = events.findIndex((e) => isPatchBookkeeping(e));
    const firstNotify = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notify');
    assert.ok(marker >= 0 && marker < firstNotify, 'the patch marker comes before the first message');
    // Recorded after them: their loops notified as any loop does now.
    const newer = ['notifications', 'today-sequential-partial', 'today-late-trades', 'fleet-labels'];
    for (const { name, history: older } of histories.filter((h) => !newer.includes(h.name))) {
      assert.deepEqual(
        notifiedEvents(older.events ?? []),
        [],
        `${name}, recorded before notifications, has none: it replays with patched() false`,
      );
    }
  });

  test('a changed group is upserted at once, in the update, behind the labels patch marker, and only the group', () => {
    const { history } = histories.find((h) => h.name === 'fleet-labels') ?? assert.fail('fleet-labels history missing');
    const events = history.events ?? [];
    const marker = events.findIndex((e) =>
      Buffer.from(e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data ?? [])
        .toString('utf8')
        .includes(LABELS_PATCH),
    );
    const accepted = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
    const labelUpserts = events.filter((e) => {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
      return 'MtfGroup' in fields || 'MtfFleet' in fields;
    });
    assert.ok(accepted >= 0 && marker > accepted, 'the marker is written by the update');
    assert.equal(labelUpserts.length, 1, 'one upsert for the change; none at the start (the client set the labels)');
    const fields = labelUpserts[0]?.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
    assert.deepEqual(Object.keys(fields), ['MtfGroup']);
    assert.equal(Buffer.from(fields.MtfGroup?.data ?? []).toString('utf8'), '"recorded-group-b"');
    const nextActivity = events.findIndex((e, i) => i > accepted && e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    assert.ok(events.indexOf(labelUpserts[0] as (typeof events)[number]) < nextActivity, 'before the next cycle starts');
  });

  test("the sequential path: a cycle in which a contract threw beside READY ones is recorded partial, with the app's word", () => {
    const { history } =
      histories.find((h) => h.name === 'today-sequential-partial') ?? assert.fail('today-sequential-partial history missing');
    const completed = (history.events ?? []).find(
      (e) => e.workflowExecutionCompletedEventAttributes,
    )?.workflowExecutionCompletedEventAttributes;
    const payload = completed?.result?.payloads?.[0]?.data ?? assert.fail('no result');
    const summary = JSON.parse(Buffer.from(payload).toString('utf8')) as LoopSummary;
    assert.deepEqual(
      [summary.counters.partial, summary.counters.failed, summary.counters.consecutive_failures, summary.counters.symbols_requested],
      [2, 0, 0, 10],
    );
    assert.equal(summary.last_cycle?.app_status, 'partial_failure');
    assert.deepEqual(summary.last_cycle?.contracts, { ready: 2, invalid: 2, error: 1, other: 0 });
  });

  test("trades read after a later answer: each cycle's come with the next cycle's answer", () => {
    const { history } = histories.find((h) => h.name === 'today-late-trades') ?? assert.fail('today-late-trades history missing');
    const results = (history.events ?? [])
      .map((e) => e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data)
      .filter((data): data is Uint8Array => data !== undefined && data !== null)
      .map(
        (data) =>
          JSON.parse(Buffer.from(data).toString('utf8')) as {
            kind?: string;
            report?: { trades?: { state: string } };
            late_trades?: { iteration: number; trades: { state: string; by_status: Record<string, number> } }[];
          },
      )
      // The calls' results; the notify activities' (started, stopped) say nothing of trades.
      .filter((r) => r.kind === 'completed');
    assert.deepEqual(
      results.map((r) => r.report?.trades?.state),
      ['pending', 'pending', 'pending'],
      "no wait: each cycle's own trades were not there yet",
    );
    assert.deepEqual(
      results.map((r) => r.late_trades?.map((l) => [l.iteration, l.trades.state, l.trades.by_status])),
      [undefined, [[1, 'known', { SENT: 1, FAILED: 1 }]], [[2, 'known', { SENT: 1, FAILED: 1 }]]],
    );
  });

  test('a deliberately changed workflow fails replay with a non-determinism error', async () => {
    const { history } = histories.find((h) => h.name === 'auto-mode') ?? assert.fail('auto-mode history missing');
    await assert.rejects(
      Worker.runReplayHistory(
        { workflowsPath: require.resolve('../replay/changed-workflow'), replayName: 'changed' },
        history,
        'replay-auto-mode',
      ),
      DeterminismViolationError,
    );
  });
});
