import assert from 'node:assert/strict';
import { parseLoopConfig, type LoopConfigInput } from '../../src/shared/config';
import { cycleRecordSchema, type CycleRecord } from '../../src/shared/cycle-record';
import type { MtfRunRequestBody } from '../../src/shared/mtf';
import { emptyCounters, type LoopStatus } from '../../src/shared/status';

/** What a loop on the seed's defaults POSTs: written out, so a changed default fails a test. */
export const SEED_REQUEST_BODY: MtfRunRequestBody = {
  symbols: ['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT'],
  dry_run: true,
  force_run: false,
  force_timeframe_check: false,
  current_tf: null,
  workers: 1,
};

/** Cycle 7's record as an older release wrote it (no findings), with `extra` on top; the schema fills the defaults. */
export function cycleRecord(extra: Record<string, unknown> = {}): CycleRecord {
  const parsed = cycleRecordSchema.safeParse({
    iteration: 7,
    outcome: 'succeeded',
    mtf_run_id: 'run-7',
    started_at: '2026-12-01T10:00:00.000Z',
    finished_at: '2026-12-01T10:00:01.000Z',
    cycle_seconds: 1,
    mtf_execution_seconds: 0.8,
    symbols_requested: 5,
    symbols_successful: 2,
    success_rate: 40,
    message: null,
    ...extra,
  });
  assert.ok(parsed.success, JSON.stringify(parsed));
  return parsed.data;
}

/** A running loop's get_status answer after 12 succeeded cycles, on `config` (over an app URL), with `extra` on top. */
export function runningStatus(workflowId: string, config: LoopConfigInput = {}, extra: Partial<LoopStatus> = {}): LoopStatus {
  const iteration = 12;
  return {
    is_running: true,
    current_iteration: iteration,
    mtf_completed: true,
    temporal_notified: true,
    workflow_id: workflowId,
    run_id: `${workflowId}-run`,
    first_run_id: `${workflowId}-first`,
    phase: 'pausing',
    config: parseLoopConfig({ mtf_url: 'http://app.test/api/mtf/run', ...config }),
    pending_config: null,
    counters: { ...emptyCounters(), cycles: iteration, succeeded: iteration },
    success_rate: 100,
    last_cycle: cycleRecord({ iteration }),
    last_error: null,
    next_cycle_at: null,
    pause: null,
    stop_requested: false,
    stop_reason: null,
    continue_pending: false,
    started_at: '2026-12-01T09:00:00.000Z',
    recent_cycles: [],
    ...extra,
  };
}
