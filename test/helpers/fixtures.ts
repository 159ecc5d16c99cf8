import assert from 'node:assert/strict';
import { cycleRecordSchema, type CycleRecord } from '../../src/shared/cycle-record';
import type { MtfRunRequestBody } from '../../src/shared/mtf';

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
