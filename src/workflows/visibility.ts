/**
 * What the loop shows outside itself, at no cost in history where it can:
 * - metrics, through the SDK's workflow meter (dropped on replay, so a replayed cycle never
 *   counts twice); the per-loop gauges are set from the counters the loop carries, so they stay
 *   exact across worker restarts and continue-as-new;
 * - the UI's current details (a query answer, no event);
 * - search attributes, upserted only when a value changes: every upsert is an event and a billed
 *   Action, so a quiet cycle (success after success) upserts nothing. They are used only when the
 *   loop was started with them, which the client does when the namespace has them registered: an
 *   upsert of an unregistered attribute would stall the workflow's tasks.
 */
import { metricMeter, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { MetricCounter, MetricGauge, MetricHistogram, MetricTags, SearchAttributeUpdatePair } from '@temporalio/common';
import type { CycleRecord } from '../shared/config';
import { METRICS } from '../shared/metrics';
import { DRY_RUN, LAST_OUTCOME, LOOP_STATE, loopStateOf, loopSummaryText } from '../shared/search-attributes';
import type { Phase } from '../shared/status';
import type { LoopState } from './loop-state';

const COUNTED_OUTCOMES = ['succeeded', 'partial', 'failed', 'skipped', 'timed_out'] as const;
const PHASES: readonly Phase[] = ['starting', 'calling_mtf', 'awaiting_completion', 'awaiting_continue', 'pausing', 'continuing_as_new', 'stopped', 'cancelled'];

export class LoopVisibility {
  private readonly searchAttributes: boolean;
  private shown: { state?: string; outcome?: string; dryRun?: boolean };
  private shownPhase: Phase | null = null;
  private shownDetails = '';
  private readonly gauges: Record<'cycles' | 'iteration' | 'phase' | 'consecutive' | 'successRatio' | 'symbolRatio' | 'live', ChangedGauge>;
  private readonly cyclesFinished: MetricCounter;
  private readonly cycleDuration: MetricHistogram;
  private readonly runDuration: MetricHistogram;

  constructor() {
    const info = workflowInfo();
    const attributes = info.typedSearchAttributes;
    this.searchAttributes = attributes.get(LOOP_STATE) !== undefined;
    this.shown = { state: attributes.get(LOOP_STATE), outcome: attributes.get(LAST_OUTCOME), dryRun: attributes.get(DRY_RUN) };
    this.cyclesFinished = metricMeter.createCounter(METRICS.cyclesFinished, 'cycles', 'cycles finished, by outcome');
    this.cycleDuration = metricMeter.createHistogram(METRICS.cycleDuration, 'float', 's', 'call + wait for completion of one cycle');
    this.runDuration = metricMeter.createHistogram(METRICS.runDuration, 'float', 's', "the app's own execution time of a run");
    const meter = metricMeter.withTags({ workflow_id: info.workflowId });
    const gauge = (...args: Parameters<typeof meter.createGauge>) => new ChangedGauge(meter.createGauge(...args));
    this.gauges = {
      cycles: gauge(METRICS.loopCycles, 'int', 'cycles', 'cycles finished by this loop, by outcome (from its own counters)'),
      iteration: gauge(METRICS.loopIteration, 'int', 'iterations', 'current iteration of the loop'),
      phase: gauge(METRICS.loopPhase, 'int', '', '1 for the phase the loop is in'),
      consecutive: gauge(METRICS.loopConsecutiveFailures, 'int', 'cycles', 'failed or timed-out cycles in a row'),
      successRatio: gauge(METRICS.loopSuccessRatio, 'float', '', 'share of cycles that succeeded, 0..1'),
      symbolRatio: gauge(METRICS.symbolSuccessRatio, 'float', '', 'share of requested symbols analysed successfully, 0..1'),
      live: gauge(METRICS.loopLive, 'int', '', '1 when the loop runs live (dry_run false)'),
    };
  }

  /** A new phase: the phase gauge moves; at a cycle's start the config may have changed too. */
  phase(loop: LoopState): void {
    if (this.shownPhase === loop.phase) return;
    // Every phase, 1 for this one: only the changed ones leave the sandbox, and the first time in a
    // run (or on a new worker) all of them, as the run or the worker before may have left another at 1.
    for (const phase of PHASES) this.gauges.phase.set(phase === loop.phase ? 1 : 0, { phase });
    this.shownPhase = loop.phase;
    this.gauges.iteration.set(loop.iteration);
    if (loop.phase === 'calling_mtf') this.configInForce(loop);
  }

  /** Step 3's announcement: counters and histograms, the per-loop gauges, the last outcome. */
  cycleFinished(loop: LoopState, record: CycleRecord): void {
    const tags = { outcome: record.outcome };
    this.cyclesFinished.add(1, tags);
    this.cycleDuration.record(record.cycle_seconds, tags);
    if (record.mtf_execution_seconds !== null) this.runDuration.record(record.mtf_execution_seconds);
    this.counters(loop);
    this.upsert({ outcome: record.outcome, state: loopStateOf(false, loop.counters.consecutive_failures) });
  }

  stopped(loop: LoopState): void {
    this.phase(loop);
    this.upsert({ state: loopStateOf(true, loop.counters.consecutive_failures) });
  }

  private configInForce(loop: LoopState): void {
    const { config } = loop;
    this.gauges.live.set(config.dry_run ? 0 : 1);
    this.counters(loop);
    const details = loopSummaryText(config);
    if (details !== this.shownDetails) setCurrentDetails(details);
    this.shownDetails = details;
    this.upsert({ dryRun: config.dry_run });
  }

  private counters(loop: LoopState): void {
    const c = loop.counters;
    for (const outcome of COUNTED_OUTCOMES) this.gauges.cycles.set(c[outcome], { outcome });
    this.gauges.consecutive.set(c.consecutive_failures);
    if (c.cycles > 0) this.gauges.successRatio.set((c.succeeded + c.partial) / c.cycles);
    if (c.symbols_requested > 0) this.gauges.symbolRatio.set(c.symbols_successful / c.symbols_requested);
  }

  /** Only the values that changed; nothing at all when none did. */
  private upsert(next: { state?: string; outcome?: string; dryRun?: boolean }): void {
    if (!this.searchAttributes) return;
    const pairs: SearchAttributeUpdatePair[] = [];
    if (next.state !== undefined && next.state !== this.shown.state) pairs.push({ key: LOOP_STATE, value: next.state });
    if (next.outcome !== undefined && next.outcome !== this.shown.outcome) pairs.push({ key: LAST_OUTCOME, value: next.outcome });
    if (next.dryRun !== undefined && next.dryRun !== this.shown.dryRun) pairs.push({ key: DRY_RUN, value: next.dryRun });
    if (pairs.length === 0) return;
    upsertSearchAttributes(pairs);
    this.shown = { ...this.shown, ...next };
  }
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
