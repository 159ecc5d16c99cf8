/**
 * What a loop remembers of its cycles: the counters, the last cycle's record and the recent-cycles
 * window. The workflow writes them; `get_status`, the CLI, the dashboard and continue-as-new read
 * them. Imported by workflow code: no Node built-ins.
 */
import { findingsShape, orderCountsSchema } from './findings';
import { OUTCOMES } from './outcomes';
import * as s from './schema';
import { tradesSchema } from './trades';

// What the workflow writes itself (carried state): its own checks, in its own words.
export const count = s.number('must be a number', s.int('must be a whole number'), s.min(0, 'must be at least 0'));
export const text = () => s.string('must be a string');
const anyNumber = () => s.number('must be a number');
const wholeOrNull = () => s.number('must be a number', s.int('must be a whole number')).nullable();
const outcome = () => s.choice(OUTCOMES, `must be one of ${OUTCOMES.join(', ')}`);
/**
 * The workflow writes these itself. Keys this version does not know are kept as they are: they
 * come from a newer release (a worker rolled back, or an older worker beside a newer one), and a
 * newer worker that takes the loop over later must find them again.
 */
export const keep = { unknownKeys: 'keep' } as const;

export const countersSchema = s.object(
  {
    cycles: count,
    succeeded: count,
    partial: count,
    failed: count,
    skipped: count,
    timed_out: count,
    consecutive_failures: count,
    continue_timeouts: count,
    symbols_requested: count,
    symbols_successful: count,
    /** `cadence: aligned`: beats that passed without a cycle starting at them (not while paused). Added after the first release. */
    missed_beats: count.default(0),
  },
  keep,
);
export type Counters = s.Output<typeof countersSchema>;

const iterationNumber = () => s.number('must be a number', s.int('must be a whole number'), s.min(1, 'must be at least 1'));
const seconds = () => s.number('must be a number', s.min(0, 'must be at least 0'));

export const cycleRecordSchema = s.object(
  {
    iteration: iterationNumber(),
    outcome: outcome(),
    mtf_run_id: text().nullable(),
    started_at: text(),
    finished_at: text(),
    /** Wall time of call + wait for completion, seconds (workflow time). */
    cycle_seconds: seconds(),
    /** The run's own `execution_time_seconds`, when the app reported it. */
    mtf_execution_seconds: anyNumber().nullable(),
    symbols_requested: wholeOrNull(),
    symbols_successful: wholeOrNull(),
    /** The app's own `success_rate`, kept under its original name: today it is the ready share (see ready_share). */
    success_rate: anyNumber().nullable(),
    message: text().nullable(),
    // From here on, keys added after the first release: each has the default an older record reads as.
    /**
     * The share of contracts the run found READY, percent: the app's `success_rate`, under a name
     * that does not read as an outage (2 % is a normal day).
     */
    ready_share: anyNumber().nullable().default(null),
    /** `data.errors`' count; null when no answer said. */
    errors: wholeOrNull().default(null),
    /**
     * The `X-Run-Id` the cycle's POST carried (`mtfpp.<h>.<iteration>`, src/lib/run-id.ts); null
     * when the call failed, or was recorded before it was sent. `mtf_run_id` is the app's own id.
     */
    x_run_id: text().nullable().default(null),
    /** `cadence: aligned`: the beats missed since the cycle before this one started. */
    missed_beats: count.default(0),
    /**
     * The run's own status word as the app gave it, lower-case (`success`, `partial_failure`,
     * `completed_with_errors` …): the outcome follows what happened to the contracts, the word is kept.
     */
    app_status: text().nullable().default(null),
    ...findingsShape,
    /** The trades the run caused, from the app's lineage API (shared/trades.ts); null in records written before they were read. */
    trades: tradesSchema.nullable().default(null),
  },
  keep,
);
export type CycleRecord = s.Output<typeof cycleRecordSchema>;

/** One point of the recent-cycles window that the dashboard plots: small, so the window is cheap to carry. */
export const cyclePointSchema = s.object(
  {
    iteration: iterationNumber(),
    outcome: outcome(),
    finished_at: text(),
    cycle_seconds: seconds(),
    /** READY contracts; null when the answer did not say (and in points written before this key). */
    ready: wholeOrNull().default(null),
    orders: orderCountsSchema.nullable().default(null),
    protection_alert: s.boolean('must be true or false').default(false),
    /** The cycle's trades, at most POINT_TRADES of them named; late trades are attached here (shared/trades.ts). */
    trades: tradesSchema.nullable().default(null),
  },
  keep,
);
export type CyclePoint = s.Output<typeof cyclePointSchema>;
