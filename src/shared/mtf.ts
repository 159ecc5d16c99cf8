/** What crosses between the workflow and its activities: plain data, no secrets. */
import type { LoopConfig } from './config';

/** The body POSTed to the MTF run endpoint. */
export interface MtfRunRequestBody {
  symbols: string[];
  dry_run: boolean;
  force_run: boolean;
  force_timeframe_check: boolean;
  current_tf: string | null;
  workers: number;
}

/** The run request a config asks for: the seed's body, the same from every loop that POSTs it. */
export function runRequestBody(config: LoopConfig): MtfRunRequestBody {
  return {
    symbols: config.symbols,
    dry_run: config.dry_run,
    force_run: config.force_run,
    force_timeframe_check: config.force_timeframe_check,
    current_tf: config.current_tf,
    workers: config.workers,
  };
}

export interface CallMtfRunInput {
  /** The loop's iteration, for the activity's log lines. */
  iteration?: number;
  url: string;
  body: MtfRunRequestBody;
  /** Where an accepted run's status is read when the 202 gives no status URL; `{run_id}` is replaced. */
  status_url_template: string;
  /** Same for every attempt of one cycle: `<workflow id>/<first run id>/<iteration>`. */
  idempotency_key: string;
  /** A live run the app does not deduplicate: a POST that may have reached the app is never sent again. */
  send_once: boolean;
  /** In `send_once` mode, the activity retries a refused connection itself, this many tries in all. */
  connect_attempts: number;
  /** Backoff between those tries, seconds. */
  connect_backoff: { initial: number; coefficient: number; maximum: number };
}

/** The figures of a finished run, from the app's `data.summary`. */
export interface MtfRunSummary {
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

export type CallMtfRunResult =
  | { kind: 'completed'; summary: MtfRunSummary }
  | { kind: 'accepted'; run_id: string; status_url: string };

export interface AwaitMtfRunInput {
  /** The loop's iteration, for the activity's log lines. */
  iteration?: number;
  run_id: string;
  status_url: string;
  /** The run URL: the API token is sent to a status URL only on the same origin. */
  mtf_url: string;
  /** Seconds between two reads of the run's status. */
  poll_interval: number;
}

export interface HealthCheckResult {
  healthy: boolean;
  http_status: number | null;
  message: string;
}

/** The activities the workflow calls; `createActivities` in src/activities builds them. */
export interface MtfActivities {
  callMtfRun(input: CallMtfRunInput): Promise<CallMtfRunResult>;
  awaitMtfRun(input: AwaitMtfRunInput): Promise<MtfRunSummary>;
  health_check_activity(input: { mtf_url: string }): Promise<HealthCheckResult>;
}
