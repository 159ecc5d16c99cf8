/** What crosses between the workflow and its activities: plain data, no secrets. */
import type { LoopConfig } from './config';
import { noFindings, type RunFindings } from './findings';
import type { Notification, NotifyResult } from './notifications';
import type { Outcome } from './outcomes';
import { RUN_BODY_KEYS, type RunBodyKey } from './request-body';
import type { CycleTrades } from './trades';

/** The body POSTed to the MTF run endpoint: the seed's fields, and `request_extra`'s beside them. */
export type MtfRunRequestBody = Record<string, unknown> & RunBodyFields;
/** The body keys the config owns, typed as the config types them. */
export type RunBodyFields = Pick<LoopConfig, RunBodyKey>;

/** The run request a config asks for: the seed's body, the same from every loop that POSTs it. */
export function runRequestBody(config: LoopConfig): MtfRunRequestBody {
  // request_extra first, so no extra field can stand in for one the schema owns (the schema refuses those anyway).
  const owned = Object.fromEntries(RUN_BODY_KEYS.map((key) => [key, config[key]])) as RunBodyFields;
  return { ...config.request_extra, ...owned };
}

export interface CallMtfRunInput {
  /** The loop's iteration, for the activity's log lines. */
  iteration?: number;
  url: string;
  body: MtfRunRequestBody;
  /** Where an accepted run's status is read when the 202 gives no status URL; `{run_id}` is replaced. */
  status_url_template: string;
  /**
   * Same for every attempt of one cycle: `<workflow id>/<first run id>/<iteration>`. The activity
   * derives the cycle's `X-Run-Id` from it (src/lib/run-id.ts).
   */
  idempotency_key: string;
  /** A live run the app does not deduplicate: a POST that may have reached the app is never sent again. */
  send_once: boolean;
  /** In `send_once` mode, the activity retries a refused connection itself, this many tries in all. */
  connect_attempts: number;
  /** Backoff between those tries, seconds. */
  connect_backoff: { initial: number; coefficient: number; maximum: number };
  /** Where and how the run's trades are read after its answer; absent or null: they are not (src/activities/lineage.ts). */
  lineage?: LineageRequest | null;
}

/**
 * The trades the activity reads once the app has answered (never before the POST): the cycle's own,
 * waiting up to `wait_seconds` for those of its READY contracts, and once more those of the earlier
 * cycles still `pending`.
 */
export interface LineageRequest {
  /** The lineage API's search URL; the run's X-Run-Id is its `orchestration_run_id`. */
  url: string;
  wait_seconds: number;
  /**
   * Earlier cycles of this loop whose trades are read again (their X-Run-Id follows from the
   * Idempotency-Key), each with its READY contracts (null: its answer did not say).
   */
  earlier: { iteration: number; ready: number | null }[];
  /** The run's X-Run-Id where the caller knows it (an accepted run's wait); the call derives it from its Idempotency-Key. */
  x_run_id?: string;
}

/** An earlier cycle's trades, read again after a later cycle's answer: the workflow attaches them to its record. */
export interface LateTrades {
  iteration: number;
  trades: CycleTrades;
}

/** How a run the app answered went, as the loop counts it. */
export type RunOutcome = Exclude<Outcome, 'timed_out'>;

/**
 * A finished run, read from either answer generation (src/activities/run-answer.ts): what the
 * activity hands the workflow, never the app's whole body.
 */
export interface RunReport {
  outcome: RunOutcome;
  /** The run's own status word as the app gave it, lower-case (`completed`, `partial_success`, `rejected` …). */
  app_status: string;
  run_id: string | null;
  /** Why the run was partial, failed or skipped; for a success, the app's own word where it gave one (a callback's), else null. */
  message: string | null;
  execution_time_seconds: number | null;
  symbols_requested: number | null;
  symbols_processed: number | null;
  symbols_successful: number | null;
  symbols_failed: number | null;
  success_rate: number | null;
  /** `data.errors`' count. */
  errors: number;
  /** What the run found: READY contracts, verdict counts, orders, protection alert. */
  findings: RunFindings;
  /**
   * What the Temporal UI's current details may show of it: `counts` when the worker that read the
   * answer seals payloads (MTF_ENCRYPTION_KEY), so that no symbol reaches anyone who reads the UI.
   */
  ui_details: UiDetails;
  /** The trades the run caused, read after the answer (absent: not read, from an older worker or with the reading off). */
  trades?: CycleTrades;
  /** Why the app has no lineage API, when reading the trades found that out: the loop stops asking. */
  lineage_absent?: string;
}

export type UiDetails = 'signals' | 'counts';

/** A report as the previous release recorded it: no findings yet. */
export type FindingsLessReport = Omit<RunReport, 'findings' | 'ui_details'> & Partial<Pick<RunReport, 'findings' | 'ui_details'>>;

/**
 * What activities of earlier releases returned for a finished run (seed-era answers only). Their
 * results stay in the histories of running loops, so the workflow still reads them.
 */
export interface LegacyRunSummary {
  status: 'success' | 'partial_success';
  run_id: string | null;
  message: string | null;
  execution_time_seconds: number | null;
  symbols_requested: number | null;
  symbols_successful: number | null;
  symbols_failed: number | null;
  success_rate: number | null;
  errors: number;
}

/** A finished run's report, from this release's activities or an earlier release's (replayed from history). */
export function reportOf(finished: RunReport | FindingsLessReport | LegacyRunSummary): RunReport {
  if ('outcome' in finished)
    return { ...finished, findings: finished.findings ?? noFindings(), ui_details: finished.ui_details ?? 'signals' };
  const partial = finished.status === 'partial_success';
  return {
    outcome: partial ? 'partial' : 'succeeded',
    app_status: finished.status,
    run_id: finished.run_id,
    message: partial ? `partial success: ${finished.errors} error(s)` : null,
    execution_time_seconds: finished.execution_time_seconds,
    symbols_requested: finished.symbols_requested,
    symbols_processed: null,
    symbols_successful: finished.symbols_successful,
    symbols_failed: finished.symbols_failed,
    success_rate: finished.success_rate,
    errors: finished.errors,
    findings: noFindings(),
    ui_details: 'signals',
  };
}

/** What the app's answer to the POST said: a finished run, or an accepted one to wait for. */
export type SentCallResult = { kind: 'completed'; report: RunReport } | { kind: 'accepted'; run_id: string; status_url: string };

/**
 * The answer, the `X-Run-Id` the POST carried (src/lib/run-id.ts: the workflow cannot hash it
 * itself), and the earlier cycles' trades read again after it.
 */
export type CallMtfRunResult = SentCallResult & { x_run_id: string; late_trades?: LateTrades[]; lineage_absent?: string };

/** `CallMtfRunResult` as earlier releases recorded it in history: without `x_run_id` before it was sent. */
export type RecordedCallMtfRunResult = (
  | Exclude<SentCallResult, { kind: 'completed' }>
  | { kind: 'completed'; report: RunReport | FindingsLessReport }
  | { kind: 'completed'; summary: LegacyRunSummary }
) & { x_run_id?: string; late_trades?: LateTrades[]; lineage_absent?: string };

/** The finished run of a call's result, whichever release recorded it. */
export function finishedReport(result: Extract<RecordedCallMtfRunResult, { kind: 'completed' }>): RunReport {
  return reportOf('report' in result ? result.report : result.summary);
}

export interface AwaitMtfRunInput {
  /** The loop's iteration, for the activity's log lines. */
  iteration?: number;
  run_id: string;
  status_url: string;
  /** The run URL: the API token is sent to a status URL only on the same origin. */
  mtf_url: string;
  /** Seconds between two reads of the run's status. */
  poll_interval: number;
  /** Where the run's trades are read once it has finished (`earlier` is read by the call, not here). */
  lineage?: LineageRequest | null;
}

/** Where the app's health is asked: `health_url` when set, else the run URL's origin (src/activities/app-health.ts). */
export interface HealthCheckInput {
  mtf_url: string;
  health_url?: string | null;
}

export interface HealthCheckResult {
  healthy: boolean;
  http_status: number | null;
  message: string;
  /** The URL whose answer this is (a result of an older worker has none). */
  url?: string;
}

/** The activities the workflow calls; `createActivities` in src/activities builds them. */
export interface MtfActivities {
  callMtfRun(input: CallMtfRunInput): Promise<CallMtfRunResult>;
  awaitMtfRun(input: AwaitMtfRunInput): Promise<RunReport>;
  health_check_activity(input: HealthCheckInput): Promise<HealthCheckResult>;
  /** Posts one notification to the worker's MTF_NOTIFY_URL (src/activities/notify.ts). */
  notify(notification: Notification): Promise<NotifyResult>;
}

/**
 * The same activities as the workflow sees their results: a replay hands it what the release
 * that ran them recorded, so earlier releases' shapes stay readable.
 */
export interface RecordedMtfActivities extends Omit<MtfActivities, 'callMtfRun' | 'awaitMtfRun'> {
  callMtfRun(input: CallMtfRunInput): Promise<RecordedCallMtfRunResult>;
  awaitMtfRun(input: AwaitMtfRunInput): Promise<RunReport | FindingsLessReport | LegacyRunSummary>;
}
