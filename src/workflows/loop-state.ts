/**
 * The loop's state, and the only code that changes it. Plain deterministic TypeScript: the
 * workflow drives it, the signal handlers set its flags, `get_status` reads it, and
 * continue-as-new carries it to the next run. What it shows outside (metrics, search attributes,
 * notifications, log lines) is done by its listeners, told of each change.
 */
import { beatsBetween, loopBeat, nextBeat } from '../shared/cadence';
import { LABEL_KEYS, lineageUrl, parseConfigUpdate, type ConfigPatch, type LoopConfig } from '../shared/config';
import type { CarriedState, Pause, WorkflowInput } from '../shared/carried-state';
import type { Counters, CyclePoint, CycleRecord } from '../shared/cycle-record';
import type { MtfCompletedNotice, PauseRequest, StopRequest } from '../shared/messages';
import type { LateTrades, LineageRequest } from '../shared/mtf';
import { tradesFinal } from '../shared/trades';
import { readNotifications, type NotificationsState } from '../shared/notifications';
import { fallsShort, isFailure, isHealthy } from '../shared/outcomes';
import { IN_CYCLE_PHASES, type Phase } from '../shared/phases';
import { emptyCounters } from '../shared/status';
import { cyclePointOf, cycleRecordOf, type CycleResult } from './cycle-result';
import { attachToPoints, giveUpOnPoints, stillPending } from './late-trades';
import { LoopEvents, type LateTradesOfCycle, type LoopListener } from './loop-events';
import { parseNotice, parseStopReason, type CompletionNotice } from './requests';

/** Callbacks kept for runs not (yet) awaited: an app may call back before its 202 is processed. */
const MAX_KEPT_NOTICES = 10;

/**
 * Finished cycles kept for the dashboard's plots (about 200 bytes each with order counts, 110
 * without). The loop itself is the store, so the plots cannot drift from the counters;
 * continue-as-new carries the window.
 */
export const RECENT_CYCLES_KEPT = 120;

export class LoopState {
  iteration: number;
  readonly counters: Counters;
  lastCycle: CycleRecord | null;
  lastError: string | null;
  continuePending: boolean;
  stopRequested = false;
  stopReason: string | null = null;
  mtfCompleted = false;
  temporalNotified = false;
  nextCycleAt: string | null = null;
  readonly startedAt: string;
  /** Set by `update_config`; becomes `config` when the next cycle begins. */
  pendingConfig: LoopConfig | null = null;
  recentCycles: CyclePoint[];
  /** The `pause` asked for or in force; null while the loop runs. */
  pause: Pause | null;
  /** What the loop's notifications did, and those waiting to be sent (src/workflows/notifier.ts). */
  notifications: NotificationsState;
  /** The app answered it has no lineage API: no trade is asked for until the config changes. */
  lineageAbsent: boolean;
  /** Beats missed since the last cycle started: the next cycle's record says how many. */
  private missedBeatsUnrecorded: number;
  private cycleStartedAt = 0;
  private notices: CompletionNotice[] = [];
  private currentPhase: Phase = 'starting';
  private readonly events = new LoopEvents<LoopState>();

  /**
   * @param carried kept whole, so keys a newer release wrote into it go on to the next run.
   * @param unknownConfig config keys this version does not know, likewise handed on.
   */
  constructor(
    public config: LoopConfig,
    readonly ids: { workflowId: string; runId: string; firstRunId: string },
    private readonly carried: CarriedState | undefined,
    now: number,
    private readonly unknownConfig: Record<string, unknown> = {},
  ) {
    this.iteration = carried?.iteration ?? 0;
    this.counters = carried?.counters ?? emptyCounters();
    this.lastCycle = carried?.last_cycle ?? null;
    this.lastError = carried?.last_error ?? null;
    this.continuePending = carried?.continue_pending ?? false;
    this.startedAt = carried?.started_at ?? new Date(now).toISOString();
    this.recentCycles = carried?.recent_cycles ?? [];
    this.pause = carried?.pause ?? null;
    this.missedBeatsUnrecorded = carried?.missed_beats_unrecorded ?? 0;
    this.notifications = readNotifications(carried?.notifications);
    this.lineageAbsent = carried?.lineage_absent ?? false;
  }

  /** Adds listeners, told of every change from now on, in this order. */
  listen(...listeners: LoopListener<LoopState>[]): void {
    this.events.listen(...listeners);
  }

  /** The run begins: its listeners hear whether the loop is new or continued. */
  start(): void {
    this.events.emit('started', this, this.carried === undefined);
  }

  get phase(): Phase {
    return this.currentPhase;
  }

  /** Every change of phase comes through here, and its listeners hear of it. */
  enter(phase: Phase): void {
    this.currentPhase = phase;
    this.events.emit('phaseEntered', this);
  }

  get workflowId(): string {
    return this.ids.workflowId;
  }

  /** `cadence: aligned`: this loop's beats, its share of `align_spread` included. */
  get beat(): { align_every: number; align_offset: number } {
    return loopBeat(this.config, this.ids.workflowId);
  }

  /** A new loop in `aligned` cadence waits for its first beat before its first cycle. */
  get startsOnABeat(): boolean {
    return this.carried === undefined && this.config.cadence === 'aligned';
  }

  /** True from a cycle's start until it is recorded. */
  get inCycle(): boolean {
    return IN_CYCLE_PHASES.includes(this.phase);
  }

  beginCycle(now: number): void {
    if (this.pendingConfig) {
      this.config = this.pendingConfig;
      this.pendingConfig = null;
      // A changed config may point at another app, or the same one upgraded: ask it again.
      this.lineageAbsent = false;
    }
    this.iteration += 1;
    this.cycleStartedAt = now;
    this.mtfCompleted = false;
    this.temporalNotified = false;
    this.nextCycleAt = null;
    this.enter('calling_mtf');
  }

  /**
   * Step 3: the cycle's outcome is recorded and announced. First the earlier cycles' trades this
   * cycle read (those still short of their READY contracts are kept, and told once all are there),
   * then an app found to lack the lineage API (asked no more until the config changes), then the
   * cycle itself.
   */
  finishCycle(result: CycleResult, now: number): CycleRecord {
    for (const late of [...this.attachLateTrades(result.late_trades), ...this.giveUpLateTrades()]) {
      if (tradesFinal(late.trades)) this.events.emit('lateTrades', this, late);
    }
    if (result.lineage_absent !== null && !this.lineageAbsent) {
      this.lineageAbsent = true;
      this.events.emit('lineageAbsent', this, result.lineage_absent);
    }
    const before = { consecutive_failures: this.counters.consecutive_failures, last: this.lastCycle };
    const record = this.recordCycle(result, now);
    this.events.emit('cycleRecorded', this, record, before, result.uiDetails);
    return record;
  }

  /** The end of the current cycle's budget (call + wait for completion), workflow time. */
  cycleDeadline(): number {
    return this.cycleStartedAt + this.config.max_execution_time * 1000;
  }

  /** The loop reads its trades: `lineage` on, and the app not known to lack the API. */
  get readsTrades(): boolean {
    return this.config.lineage && !this.lineageAbsent;
  }

  /**
   * Where this cycle's activities read trades, and which earlier cycles' they read again; null
   * when the loop does not read them (`lineage: false`, or an app without the API).
   */
  lineageRequest(): LineageRequest | null {
    if (!this.readsTrades) return null;
    return {
      url: lineageUrl(this.config),
      wait_seconds: this.config.lineage_wait,
      earlier: stillPending(this.recentCycles, this.iteration),
    };
  }

  /**
   * Earlier cycles' trades read again: each goes onto that cycle's point (and onto the last-cycle
   * record while it is that cycle's), `known` or still `pending`. Returns those attached, with the
   * outcome of their cycle.
   */
  attachLateTrades(late: readonly LateTrades[]): LateTradesOfCycle[] {
    const attached = attachToPoints(this.recentCycles, late);
    const last = this.lastCycle && attached.filter((a) => a.iteration === this.lastCycle?.iteration).at(-1);
    if (this.lastCycle && last) this.lastCycle = { ...this.lastCycle, trades: last.trades };
    return attached;
  }

  /** Step 3: the cycle's outcome goes into the counters and the last-cycle record. */
  recordCycle(result: CycleResult, now: number): CycleRecord {
    const c = this.counters;
    const missedBefore = this.missedBeatsUnrecorded;
    this.missedBeatsUnrecorded = 0;
    // The beats that passed while this cycle ran: none started a cycle, and none is queued.
    if (this.config.cadence === 'aligned') this.countMissedBeats(beatsBetween(this.beat, this.cycleStartedAt, now));
    c.cycles += 1;
    c[result.outcome] += 1;
    if (isHealthy(result.outcome)) c.consecutive_failures = 0;
    if (isFailure(result.outcome)) c.consecutive_failures += 1;
    c.symbols_requested += result.symbols_requested ?? 0;
    c.symbols_successful += result.symbols_successful ?? 0;
    if (fallsShort(result.outcome) && result.message) this.lastError = `iteration ${this.iteration}: ${result.message}`;
    this.lastCycle = cycleRecordOf(result, { iteration: this.iteration, startedAt: this.cycleStartedAt, now, missedBeats: missedBefore });
    const point = cyclePointOf(this.lastCycle, result);
    this.recentCycles = [...this.recentCycles, point].slice(-RECENT_CYCLES_KEPT);
    this.mtfCompleted = true;
    this.temporalNotified = true;
    return this.lastCycle;
  }

  /**
   * Pending trades too old to be read again become `unknown`, with what was read of them. Returns
   * them, so they are counted once like any other trades that are final.
   */
  giveUpLateTrades(): LateTradesOfCycle[] {
    return giveUpOnPoints(this.recentCycles, this.iteration);
  }

  /** Beats that passed without a cycle starting at them: counted now, shown in the next cycle's record. */
  countMissedBeats(n: number): void {
    this.counters.missed_beats += n;
    this.missedBeatsUnrecorded += n;
    this.events.emit('beatsMissed', this);
  }

  /** Step 5 waits until `ms` (workflow time) for the next cycle. */
  waitUntil(ms: number): void {
    this.nextCycleAt = new Date(ms).toISOString();
  }

  /** Step 4 waited `continue_timeout` in vain: the loop goes on, and counts it. */
  countContinueTimeout(): void {
    this.counters.continue_timeouts += 1;
  }

  /** Why a `pause` is refused (nothing is written to history then), or null. */
  pauseRefusal(request: PauseRequest | undefined): string | null {
    if (parseStopReason(request) === undefined) return 'pause takes nothing, a reason string, or { "reason": "…" }';
    if (this.stopRequested) return 'the loop is stopping: there is nothing to pause';
    return null;
  }

  /** The `pause` update: held at once between cycles, after the running cycle is recorded otherwise. */
  requestPause(request: PauseRequest | undefined, now: number): string {
    if (this.pause)
      return this.pause.since ? `already paused since ${this.pause.since}` : `already pausing: pauses after iteration ${this.iteration}`;
    const at = new Date(now).toISOString();
    this.pause = { reason: parseStopReason(request) ?? null, requested_at: at, since: this.inCycle ? null : at };
    this.wake();
    return this.pause.since ? 'paused' : `pauses after iteration ${this.iteration}`;
  }

  /** The pause in force (the cycle it waited for is recorded): no next cycle is planned until `resume`. */
  holdPause(now: number): Pause | null {
    if (this.pause && !this.pause.since) this.pause = { ...this.pause, since: new Date(now).toISOString() };
    this.nextCycleAt = null;
    this.enter('paused');
    this.events.emit('paused', this);
    return this.pause;
  }

  /** The hold ends: `resume` came (the listeners hear when the next cycle starts). */
  endHold(now: number): void {
    this.events.emit('resumed', this, this.nextCycleAfterResume(now));
  }

  /** The `resume` update: says when the next cycle starts. */
  requestResume(now: number): string {
    const pending = this.pause !== null && this.pause.since === null;
    this.pause = null;
    this.wake();
    if (pending) return `resumed: the pause asked for after iteration ${this.iteration} is withdrawn`;
    return `resumed: ${this.nextCycleAfterResume(now)}`;
  }

  /** When a resumed loop starts its next cycle, in words. */
  nextCycleAfterResume(now: number): string {
    if (this.config.continue_mode === 'signal')
      return `the next cycle starts on continue_signal${this.config.cadence === 'aligned' ? ', at the beat after it' : ''}`;
    if (this.config.cadence === 'aligned')
      return `the next cycle starts at the next beat, ${new Date(nextBeat(this.beat, now)).toISOString()}`;
    return 'the next cycle starts now';
  }

  /** The loop was cancelled: the error it ends with says during which iteration. */
  cancel(): void {
    this.lastError = `cancelled during iteration ${this.iteration}`;
    this.enter('cancelled');
    this.events.emit('cancelled', this);
  }

  /** The loop stops (a stop was asked for). */
  stop(): void {
    this.enter('stopped');
    this.events.emit('stopped', this);
  }

  /**
   * An accepted `update_config`: checked against the config the next cycle would have, applied
   * when it begins; its labels (fleet, group) at once, as they change nothing a cycle does and a
   * paused loop must be found under its new group.
   */
  updateConfig(patch: ConfigPatch): LoopConfig {
    const next = parseConfigUpdate(this.nextConfig(), patch);
    this.pendingConfig = next;
    if (LABEL_KEYS.some((key) => next[key] !== this.config[key])) {
      this.config = { ...this.config, fleet: next.fleet, group: next.group };
      this.events.emit('labelsChanged', this);
    }
    return next;
  }

  requestStop(request: StopRequest | undefined): boolean {
    const reason = parseStopReason(request);
    if (reason === undefined) return false;
    this.stopRequested = true;
    this.stopReason = reason;
    this.wake();
    return true;
  }

  requestContinue(): void {
    this.continuePending = true;
    this.wake();
  }

  /** True when a continue, a stop or a `pause` is waiting: the wait between cycles ends, or does not begin. */
  get wakePending(): boolean {
    return this.continuePending || this.stopRequested || this.pause !== null;
  }

  /** Resolves at the next continue, stop or `pause`: what cuts the wait short. */
  nextWake(): Promise<true> {
    return new Promise((resolve) => (this.wake = () => resolve(true)));
  }

  private wake: () => void = () => undefined;

  /** Takes the pending continue, if any. */
  takeContinue(): boolean {
    const pending = this.continuePending;
    this.continuePending = false;
    return pending;
  }

  addNotice(notice: MtfCompletedNotice): CompletionNotice | null {
    const parsed = parseNotice(notice);
    if (!parsed) return null;
    this.notices = [...this.notices.filter((n) => n.run_id !== parsed.run_id), parsed].slice(-MAX_KEPT_NOTICES);
    return parsed;
  }

  noticeFor(runId: string): CompletionNotice | undefined {
    return this.notices.find((n) => n.run_id === runId);
  }

  /** The config the next run of the loop starts with (a pending update included). */
  nextConfig(): LoopConfig {
    return this.pendingConfig ?? this.config;
  }

  carry(): CarriedState {
    return {
      ...this.carried,
      iteration: this.iteration,
      counters: { ...this.counters },
      last_cycle: this.lastCycle,
      last_error: this.lastError,
      continue_pending: this.continuePending,
      started_at: this.startedAt,
      recent_cycles: this.recentCycles,
      pause: this.pause,
      missed_beats_unrecorded: this.missedBeatsUnrecorded,
      notifications: this.notifications,
      lineage_absent: this.lineageAbsent,
    };
  }

  /** The next run's argument at continue-as-new: the config (and the keys this version does not know) plus the state. */
  nextInput(): WorkflowInput {
    return { ...this.unknownConfig, ...this.nextConfig(), carried_state: this.carry() };
  }
}
