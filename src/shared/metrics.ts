/**
 * The service's metric names, in one place: the workflow and the activities emit them, the
 * Grafana dashboard (deploy/grafana) and the tests read them. With the Prometheus exporter's
 * settings (src/observability/runtime.ts), a counter is scraped with a `_total` suffix.
 */
export const METRICS = {
  /** Counter {outcome}: cycles finished on this worker (replay-safe: a replay never adds). */
  cyclesFinished: 'mtf_cycles_finished',
  /** Histogram {outcome}, seconds: call + wait for completion of one cycle. */
  cycleDuration: 'mtf_cycle_duration_seconds',
  /** Histogram, seconds: the app's own execution time of a finished run, when it reports one. */
  runDuration: 'mtf_run_duration_seconds',
  /** Counter {status_class}: HTTP answers of the MTF API (2xx, 4xx, 5xx, network). */
  httpResponses: 'mtf_http_responses',
  /** Counter {activity}: attempts after the first, by Temporal or, for a live run, inside the activity. */
  retries: 'mtf_call_retries',
  // Gauges per workflow_id, set from the counters the loop carries: exact across restarts and continue-as-new.
  /** Gauge {workflow_id, outcome}: the loop's own cycle counters. */
  loopCycles: 'mtf_loop_cycles',
  /** Gauge {workflow_id}: the current iteration. */
  loopIteration: 'mtf_loop_iteration',
  /** Gauge {workflow_id, phase}: 1 for the phase the loop is in, 0 for the phase it left. */
  loopPhase: 'mtf_loop_phase',
  /** Gauge {workflow_id}: failed or timed-out cycles in a row. */
  loopConsecutiveFailures: 'mtf_loop_consecutive_failures',
  /** Gauge {workflow_id}: share of cycles that succeeded (fully or partly), 0..1. */
  loopSuccessRatio: 'mtf_loop_success_ratio',
  /**
   * Gauge {workflow_id}: share of requested contracts the app found READY over the loop's cycles,
   * 0..1 (the app's `success_rate`; 2 % is a normal day, not an outage).
   */
  loopReadyShare: 'mtf_loop_ready_share',
  /** Gauge {workflow_id}: 1 while the last cycle reported a position without its stop-loss protection. */
  loopProtectionAlert: 'mtf_loop_protection_alert',
  // What the runs found: no per-symbol label, so the series stay few whatever the app trades.
  /** Counter {timeframe, side}: READY contracts found (`unlisted` beyond the 50 a cycle lists). */
  signals: 'mtf_signals',
  /** Counter {status}: orders the runs placed, by the app's count (submitted, pending, protection_failed, simulated). */
  orders: 'mtf_orders',
  /**
   * Counter {status}: the trades the runs caused, read from the app's lineage API, by order-intent
   * status (`none`: no order intent); each counted once, in its status at the last read.
   */
  trades: 'mtf_trades',
  /** Counter: cycles whose run reported an order without its stop-loss protection. */
  protectionAlerts: 'mtf_protection_alerts',
  /** Counter: beats of an aligned loop that passed without a cycle starting at them (a long cycle, a worker down). */
  missedBeats: 'mtf_missed_beats',
  // What the alert rules (deploy/prometheus/alerts.yml) read beside the gauges above.
  /** Gauge {workflow_id, state}: 1 for the loop's state (running, failing, paused, stopped: MtfLoopState's, one threshold), 0 for the others. */
  loopState: 'mtf_loop_state',
  /**
   * Gauge {workflow_id}: workflow time, seconds, when this worker last spoke for the loop (its first
   * phase on the worker, each cycle's end, a pause, resume or stop). A worker that lost the loop
   * keeps exporting its last values: the rules read, per loop, only the worker whose mark is the newest.
   */
  loopUpdated: 'mtf_loop_updated_timestamp_seconds',
  /** Gauge {workflow_id}: when the last cycle finished (the loop's start before its first), seconds since the epoch. */
  loopLastCycle: 'mtf_loop_last_cycle_timestamp_seconds',
  /** Gauge {workflow_id}: the longest a healthy loop goes between two finished cycles: its wait plus its cycle budget, seconds. */
  loopExpectedPeriod: 'mtf_loop_expected_period_seconds',
  /** Gauge {workflow_id, status}: the last cycle's orders by the app's count (submitted, pending, protection_failed, simulated). */
  loopLastOrders: 'mtf_loop_last_cycle_orders',
  /** Gauge {workflow_id}: the last cycles in a row that the app skipped (kill switch, rejected). */
  loopSkippedInARow: 'mtf_loop_skipped_in_a_row',
  /** Gauge {workflow_id}: 1 when the loop runs live (dry_run false), 0 in dry-run. */
  loopLive: 'mtf_loop_live',
  /**
   * Gauge {workflow_id, fleet, group}: 1 for the loop's labels (`none` where it has none), 0 for
   * labels it had before. Rules and notifications join on it to carry the group:
   * `... * on(workflow_id) group_left(fleet, group) (mtf_loop_info == 1)`.
   */
  loopInfo: 'mtf_loop_info',
  // Notifications (MTF_NOTIFY_URL): a failure never fails a cycle, so it is counted here.
  /** Counter {event, result}: notifications the loops sent (`sent`) or gave up on after their retries (`failed`). */
  notifications: 'mtf_notifications',
  /** Counter: posts to the notification endpoint that failed, each retry counted (activity side). */
  notifyAttemptFailures: 'mtf_notification_attempt_failures',
} as const;

const SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 240, 420];

/** Seconds-scale buckets for the service's histograms (the exporter's defaults suit milliseconds). */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [METRICS.cycleDuration]: SECONDS_BUCKETS,
  [METRICS.runDuration]: SECONDS_BUCKETS,
};
