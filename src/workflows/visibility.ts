/**
 * What the loop shows outside itself, at no cost in history where it can:
 * - metrics, through the SDK's workflow meter (dropped on replay, so a replayed cycle never
 *   counts twice); the per-loop gauges are set from the counters the loop carries, so they stay
 *   exact across worker restarts and continue-as-new;
 * - the UI's current details (a query answer, no event): the config in force and what the last
 *   cycle found (details.ts);
 * - search attributes, upserted only when a value changes: every upsert is an event and a billed
 *   Action, so a quiet cycle (success after success) upserts nothing. They are used only when the
 *   loop was started with them, which the client does when the namespace has them registered: an
 *   upsert of an unregistered attribute would stall the workflow's tasks.
 */
import { metricMeter, patched, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { MetricCounter, MetricGauge, MetricHistogram, MetricTags, SearchAttributeUpdatePair } from '@temporalio/common';
import { expectedPeriodSeconds } from '../shared/cadence';
import type { CycleRecord, CyclePoint } from '../shared/cycle-record';
import type { RunFindings } from '../shared/findings';
import { tradesFinal, type CycleTrades } from '../shared/trades';
import { METRICS } from '../shared/metrics';
import type { UiDetails } from '../shared/mtf';
import { DRY_RUN, FLEET, GROUP, LAST_OUTCOME, LOOP_STATE, LOOP_STATES, loopStateOf, loopSummaryText } from '../shared/search-attributes';
import { OUTCOMES, healthyShare } from '../shared/outcomes';
import { PHASES, type Phase } from '../shared/phases';
import { currentDetailsText } from './details';
import type { LateTradesOfCycle, LoopListener, RecordedBefore } from './loop-events';
import type { LoopState } from './loop-state';

const ORDER_STATUSES = ['submitted', 'pending', 'protection_failed', 'simulated'] as const;

/**
 * Marks the runs that upsert a changed fleet or group. No history before it can hold such a
 * change (the key did not exist, and the old validator refused it), so this only names the
 * command for a reader of the history, and keeps a replay of those runs on older code honest.
 */
export const LABELS_PATCH = 'loop-labels-upsert';

/** The label value of the info gauge for a loop without one. */
const NO_LABEL = 'none';

/** A listener of the loop's state (loop-state.ts): each change it hears is shown here. */
export class LoopVisibility implements LoopListener<LoopState> {
  private readonly searchAttributes: boolean;
  private shown: Shown;
  /** The labels the info gauge shows at 1, to set back to 0 when they change. */
  private shownLabels: { fleet: string; group: string } | null = null;
  private shownPhase: Phase | null = null;
  private shownDetails = '';
  /** What the current details may show of the last cycle: until a report says, counts only. */
  private detailsMode: UiDetails = 'counts';
  private readonly gauges: Record<
    | 'cycles'
    | 'iteration'
    | 'phase'
    | 'consecutive'
    | 'successRatio'
    | 'readyShare'
    | 'live'
    | 'protectionAlert'
    | 'state'
    | 'updated'
    | 'lastCycle'
    | 'expectedPeriod'
    | 'skippedInARow'
    | 'lastOrders'
    | 'info',
    ChangedGauge
  >;
  private readonly cyclesFinished: MetricCounter;
  private readonly cycleDuration: MetricHistogram;
  private readonly runDuration: MetricHistogram;
  private readonly signals: MetricCounter;
  private readonly orders: MetricCounter;
  private readonly protectionAlerts: MetricCounter;
  private readonly trades: MetricCounter;
  private readonly missedBeats: MetricCounter;
  /** The loop's missed-beats counter as last announced: the metric gets the difference. */
  private shownMissedBeats: number;

  /** @param missedBeats the loop's count so far (carried): what this run has no need to announce again. */
  constructor(missedBeats: number) {
    this.shownMissedBeats = missedBeats;
    const info = workflowInfo();
    const attributes = info.typedSearchAttributes;
    this.searchAttributes = attributes.get(LOOP_STATE) !== undefined;
    this.shown = {
      state: attributes.get(LOOP_STATE),
      outcome: attributes.get(LAST_OUTCOME),
      dryRun: attributes.get(DRY_RUN),
      fleet: attributes.get(FLEET) ?? null,
      group: attributes.get(GROUP) ?? null,
    };
    this.cyclesFinished = metricMeter.createCounter(METRICS.cyclesFinished, 'cycles', 'cycles finished, by outcome');
    this.cycleDuration = metricMeter.createHistogram(METRICS.cycleDuration, 'float', 's', 'call + wait for completion of one cycle');
    this.runDuration = metricMeter.createHistogram(METRICS.runDuration, 'float', 's', "the app's own execution time of a run");
    this.signals = metricMeter.createCounter(METRICS.signals, 'contracts', 'READY contracts found, by timeframe and side');
    this.orders = metricMeter.createCounter(METRICS.orders, 'orders', 'orders the runs placed, by status');
    this.trades = metricMeter.createCounter(
      METRICS.trades,
      'trades',
      "trades the runs caused, by order-intent status, from the app's lineage API",
    );
    this.protectionAlerts = metricMeter.createCounter(
      METRICS.protectionAlerts,
      'cycles',
      'cycles that reported an order without its stop-loss protection',
    );
    this.missedBeats = metricMeter.createCounter(
      METRICS.missedBeats,
      'beats',
      'beats of an aligned loop that passed without a cycle starting at them',
    );
    const meter = metricMeter.withTags({ workflow_id: info.workflowId });
    const gauge = (...args: Parameters<typeof meter.createGauge>) => new ChangedGauge(meter.createGauge(...args));
    this.gauges = {
      cycles: gauge(METRICS.loopCycles, 'int', 'cycles', 'cycles finished by this loop, by outcome (from its own counters)'),
      iteration: gauge(METRICS.loopIteration, 'int', 'iterations', 'current iteration of the loop'),
      phase: gauge(METRICS.loopPhase, 'int', '', '1 for the phase the loop is in'),
      consecutive: gauge(METRICS.loopConsecutiveFailures, 'int', 'cycles', 'failed or timed-out cycles in a row'),
      successRatio: gauge(METRICS.loopSuccessRatio, 'float', '', 'share of cycles that succeeded, 0..1'),
      readyShare: gauge(METRICS.loopReadyShare, 'float', '', 'share of requested contracts found READY, 0..1'),
      live: gauge(METRICS.loopLive, 'int', '', '1 when the loop runs live (dry_run false)'),
      protectionAlert: gauge(METRICS.loopProtectionAlert, 'int', '', '1 while the last cycle reported a position without its stop-loss'),
      state: gauge(METRICS.loopState, 'int', '', "1 for the loop's state (running, failing, paused, stopped)"),
      updated: gauge(
        METRICS.loopUpdated,
        'float',
        's',
        'workflow time when this worker last spoke for the loop (run start here, cycle end, pause, resume, stop)',
      ),
      lastCycle: gauge(METRICS.loopLastCycle, 'float', 's', "when the loop's last cycle finished (its start before the first)"),
      expectedPeriod: gauge(METRICS.loopExpectedPeriod, 'float', 's', 'the longest a healthy loop goes between two finished cycles'),
      lastOrders: gauge(METRICS.loopLastOrders, 'int', 'orders', "the last cycle's orders, by the app's count"),
      skippedInARow: gauge(METRICS.loopSkippedInARow, 'int', 'cycles', 'the last cycles in a row the app skipped (kill switch, rejected)'),
      info: gauge(METRICS.loopInfo, 'int', '', "1 for the loop's fleet and group (none: it has none)"),
    };
  }

  /** A new phase: the phase gauge moves; at a cycle's start the config may have changed too. */
  phaseEntered(loop: LoopState): void {
    const first = this.shownPhase === null;
    if (this.shownPhase === loop.phase) return;
    // Every phase, 1 for this one: only the changed ones leave the sandbox, and the first time in a
    // run (or on a new worker) all of them, as the run or the worker before may have left another at 1.
    for (const phase of PHASES) this.gauges.phase.set(phase === loop.phase ? 1 : 0, { phase });
    this.shownPhase = loop.phase;
    this.gauges.iteration.set(loop.iteration);
    // A worker that takes the loop over says so at once, with what the last cycle found: an open
    // position without its stop-loss must not fall silent until the next cycle ends.
    if (first || loop.phase === 'paused' || loop.phase === 'stopped' || loop.phase === 'cancelled') this.forRules(loop);
    // The labels change only through an update (labelsChanged): said once per run on this worker.
    if (first) this.labelsInfo(loop);
    if (loop.phase === 'calling_mtf') this.configInForce(loop);
  }

  /**
   * What the alert rules read, and the freshness mark that says this worker runs the loop now (a
   * worker that lost it keeps exporting its last values). Set when a run starts on a worker, when
   * a cycle ends and when the loop pauses, resumes or stops: a quiet cycle adds two calls out of
   * the sandbox (the mark and the last cycle's time), not one per phase.
   */
  private forRules(loop: LoopState): void {
    this.gauges.updated.set(Date.now() / 1000);
    this.gauges.lastCycle.set(Date.parse(loop.lastCycle?.finished_at ?? loop.startedAt) / 1000);
    this.gauges.expectedPeriod.set(expectedPeriodSeconds(loop.config));
    this.gauges.skippedInARow.set(skippedInARow(loop.recentCycles));
    const stopped = loop.phase === 'stopped' || loop.phase === 'cancelled';
    // MtfLoopState's value, whether or not the loop has search attributes: the failing rule reads it (one threshold).
    const now = loopStateOf(stopped, loop.counters.consecutive_failures, loop.phase === 'paused' && loop.pause !== null);
    for (const state of LOOP_STATES) this.gauges.state.set(state === now ? 1 : 0, { state });
    const cycle = loop.lastCycle;
    if (!cycle) return;
    this.gauges.protectionAlert.set(cycle.protection_alert ? 1 : 0);
    for (const status of ORDER_STATUSES) this.gauges.lastOrders.set(cycle.orders?.count[status] ?? 0, { status });
  }

  /** Step 3's announcement: counters and histograms, the per-loop gauges, the findings, the last outcome. */
  cycleRecorded(loop: LoopState, record: CycleRecord, _before: RecordedBefore, detailsMode: UiDetails | null): void {
    const tags = { outcome: record.outcome };
    this.cyclesFinished.add(1, tags);
    this.cycleDuration.record(record.cycle_seconds, tags);
    if (record.mtf_execution_seconds !== null) this.runDuration.record(record.mtf_execution_seconds);
    this.counters(loop);
    this.forRules(loop);
    this.findings(record);
    if (record.trades) this.countTrades(record.trades);
    // A failure that read no answer cannot say: the last answer's word holds.
    if (detailsMode) this.detailsMode = detailsMode;
    this.details(loop);
    this.upsert({ outcome: record.outcome, state: loopStateOf(false, loop.counters.consecutive_failures) });
  }

  /** Only what a cycle found leaves the sandbox: a cycle with no signal and no order adds no call. */
  private findings(found: RunFindings): void {
    const perSignal = new Map<string, { timeframe: string; side: string; n: number }>();
    for (const { timeframe, side } of found.signals) {
      const tags = { timeframe: timeframe ?? 'none', side: side ?? 'none' };
      const key = `${tags.timeframe} ${tags.side}`;
      perSignal.set(key, { ...tags, n: (perSignal.get(key)?.n ?? 0) + 1 });
    }
    for (const { n, ...tags } of perSignal.values()) this.signals.add(n, tags);
    if (found.signals_unlisted > 0) this.signals.add(found.signals_unlisted, { timeframe: 'unlisted', side: 'unlisted' });
    const count = found.orders?.count;
    for (const status of ORDER_STATUSES) {
      if (count && count[status] > 0) this.orders.add(count[status], { status });
    }
    if (found.protection_alert) this.protectionAlerts.add(1);
  }

  /** An earlier cycle's trades, read after a later answer: counted now. */
  lateTrades(_loop: LoopState, late: LateTradesOfCycle): void {
    this.countTrades(late.trades);
  }

  /** Trades counted once each, when nothing more will be learnt of them (their cycle's read, or the read after the next answer). */
  private countTrades(trades: CycleTrades): void {
    if (!tradesFinal(trades)) return;
    for (const [status, n] of Object.entries(trades.by_status)) this.trades.add(n, { status });
  }

  /** Beats the loop counted missed: the counter gets what it has not been told (replay-safe, as the SDK drops metrics while replaying). */
  beatsMissed(loop: LoopState): void {
    const now = loop.counters.missed_beats;
    if (now > this.shownMissedBeats) this.missedBeats.add(now - this.shownMissedBeats);
    this.shownMissedBeats = now;
  }

  /** The `pause` in force: one upsert on the transition, and PAUSED in the current details. */
  paused(loop: LoopState): void {
    this.phaseEntered(loop);
    this.details(loop);
    this.upsert({ state: loopStateOf(false, loop.counters.consecutive_failures, true) });
  }

  resumed(loop: LoopState): void {
    this.forRules(loop);
    this.details(loop);
    this.upsert({ state: loopStateOf(false, loop.counters.consecutive_failures) });
  }

  /** A changed fleet or group, at once: the info gauge, and (on a loop with search attributes) one upsert. */
  labelsChanged(loop: LoopState): void {
    this.labelsInfo(loop);
    if (!patched(LABELS_PATCH)) return;
    this.upsert({ fleet: loop.config.fleet, group: loop.config.group });
  }

  private labelsInfo(loop: LoopState): void {
    const now = { fleet: loop.config.fleet ?? NO_LABEL, group: loop.config.group ?? NO_LABEL };
    const before = this.shownLabels;
    if (before && (before.fleet !== now.fleet || before.group !== now.group)) this.gauges.info.set(0, before);
    this.gauges.info.set(1, now);
    this.shownLabels = now;
  }

  stopped(loop: LoopState): void {
    this.phaseEntered(loop);
    this.upsert({ state: loopStateOf(true, loop.counters.consecutive_failures) });
  }

  private configInForce(loop: LoopState): void {
    const { config } = loop;
    this.gauges.live.set(config.dry_run ? 0 : 1);
    this.gauges.expectedPeriod.set(expectedPeriodSeconds(config));
    this.counters(loop);
    this.details(loop);
    this.upsert({ dryRun: config.dry_run });
  }

  private details(loop: LoopState): void {
    const held = loop.pause?.since
      ? [`**⏸ PAUSED** since ${loop.pause.since}${loop.pause.reason ? `: ${loop.pause.reason}` : ''} (\`mtf-ping-pong resume\` to go on)`]
      : [];
    const details = currentDetailsText([...held, loopSummaryText(loop.config)].join('\n\n'), loop.lastCycle, this.detailsMode);
    if (details !== this.shownDetails) setCurrentDetails(details);
    this.shownDetails = details;
  }

  private counters(loop: LoopState): void {
    const c = loop.counters;
    for (const outcome of OUTCOMES) this.gauges.cycles.set(c[outcome], { outcome });
    this.gauges.consecutive.set(c.consecutive_failures);
    const healthy = healthyShare(c);
    if (healthy !== null) this.gauges.successRatio.set(healthy);
    if (c.symbols_requested > 0) this.gauges.readyShare.set(c.symbols_successful / c.symbols_requested);
    this.beatsMissed(loop);
  }

  /** Only the values that changed; nothing at all when none did. A label set to null is removed. */
  private upsert(next: Partial<Shown>): void {
    if (!this.searchAttributes) return;
    const pairs: SearchAttributeUpdatePair[] = [];
    if (next.state !== undefined && next.state !== this.shown.state) pairs.push({ key: LOOP_STATE, value: next.state });
    if (next.outcome !== undefined && next.outcome !== this.shown.outcome) pairs.push({ key: LAST_OUTCOME, value: next.outcome });
    if (next.dryRun !== undefined && next.dryRun !== this.shown.dryRun) pairs.push({ key: DRY_RUN, value: next.dryRun });
    for (const [name, key] of [
      ['fleet', FLEET],
      ['group', GROUP],
    ] as const) {
      const value = next[name];
      if (value !== undefined && value !== this.shown[name]) pairs.push({ key, value });
    }
    if (pairs.length === 0) return;
    upsertSearchAttributes(pairs);
    this.shown = { ...this.shown, ...next };
  }
}

/** What the loop's search attributes hold, as this run last set them (or found them at its start). */
interface Shown {
  state?: string;
  outcome?: string;
  dryRun?: boolean;
  fleet?: string | null;
  group?: string | null;
}

/** The trailing run of skipped cycles in the recent-cycles window (at most its 120 points). */
function skippedInARow(points: readonly CyclePoint[]): number {
  let n = 0;
  for (let i = points.length - 1; i >= 0 && points[i]?.outcome === 'skipped'; i--) n++;
  return n;
}

/**
 * A per-loop gauge that leaves the sandbox only when its value changes: a quiet cycle changes few
 * of them, and every set is a call out of the workflow. Nothing counts as shown while replaying
 * (the SDK drops metrics then), so a worker that takes a loop over sets every gauge afresh.
 */
class ChangedGauge {
  private readonly shown = new Map<string, number>();

  constructor(private readonly gauge: MetricGauge) {}

  set(value: number, tags?: MetricTags): void {
    const key = tags ? Object.values(tags).join('\u0000') : '';
    if (this.shown.get(key) === value) return;
    this.gauge.set(value, tags);
    if (!workflowInfo().unsafe.isReplaying) this.shown.set(key, value);
  }
}
