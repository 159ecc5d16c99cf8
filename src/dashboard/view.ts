/**
 * What GET /api/loops answers: the server writes it (snapshot.ts), the page's browser code reads it
 * (browser/). Types only, with no Node import, so that both sides compile against the same shape.
 */
import type { LoopStatus } from '../shared/status';
import type { FindingsView } from './findings-view';

/** One loop (one workflow ID) as the page renders it; snake_case like the rest of the wire names. */
export interface DashboardLoop {
  workflow_id: string;
  run_id: string;
  /** `mtfpp.<h>`: what every X-Run-Id of this loop starts with; null when the listing did not give its first run. */
  run_id_prefix: string | null;
  /** running, stopped (completed on stop_signal), cancelled, terminated, failed or timed_out. */
  state: string;
  start_time: string;
  close_time: string | null;
  /** The running loop's `get_status` answer; null for a closed loop or one that did not answer. */
  status: LoopStatus | null;
  /** Why `status` is null for a running loop (no worker polling, query failed). */
  error: string | null;
  /** `status.last_cycle`'s findings in the texts every view uses; null without a finished cycle. */
  findings: FindingsView | null;
  /** The symbols the loop asks for, as every view says them ("all active contracts" for `symbols: []`); null without a status. */
  symbols_text: string | null;
  /** When cycles start, as every view says it ("every 30 s", "every 1m at :02"); null without a status. */
  cadence_text: string | null;
  /** What `status` warns about the loop's clock (a cycle budget longer than its period); [] when nothing or no status. */
  cadence_warnings: string[];
  /**
   * The fleet file that manages the loop (config key `fleet`): the running loop's own config when it
   * answered (a label applies at once there; its search attribute follows), else its MtfFleet search
   * attribute (a closed loop, or one that did not answer); null when it has none.
   */
  fleet: string | null;
  /** The loop's group (config key `group`), by which the page sections its cards: from the same sources as `fleet`. */
  group: string | null;
  /**
   * FAILING_AFTER or more failed cycles in a row (`status.counters.consecutive_failures`): the
   * `failing` of MtfLoopState, by the same threshold, whether or not the loop is paused; false without a status.
   */
  failing: boolean;
}

export interface DashboardSnapshot {
  namespace: string;
  generated_at: string;
  loops: DashboardLoop[];
}
