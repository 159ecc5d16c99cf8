/**
 * The loop's state, and the only code that changes it. Plain deterministic TypeScript: the
 * workflow drives it, the signal handlers set its flags, `get_status` reads it, and
 * continue-as-new carries it to the next run.
 */
import { beatsBetween, loopBeat, nextBeat } from '../shared/cadence';
import { lineageUrl, type LoopConfig } from '../shared/config';
import type { CarriedState, Pause, WorkflowInput } from '../shared/carried-state';
import type { Counters, CyclePoint, CycleRecord } from '../shared/cycle-record';
import { readyCount, type RunFindings } from '../shared/findings';
import type { MtfCompletedNotice, PauseRequest, StopRequest } from '../shared/messages';
import type { LateTrades, LineageRequest, UiDetails } from '../shared/mtf';
import { POINT_TRADES, listedAtMost, withState, type CycleTrades } from '../shared/trades';
import { notificationsStatus, readNotifications, type NotificationsState } from '../shared/notifications';
import type { Outcome } from '../shared/outcomes';
import type { Phase } from '../shared/phases';
import { emptyCounters, successRate, type LoopStatus, type LoopSummary } from '../shared/status';

/** What steps 1 and 2 found out about one cycle. */
export interface CycleResult {
  outcome: Outcome;
  /** The run's own status word as the app gave it (`partial_failure`, `completed` …); null when no answer said. */
  app_status: string | null;
  mtf_run_id: string | null;
  /** The X-Run-Id the cycle's POST carried, as the activity reported it; null when no answer said. */
  x_run_id: string | null;
  message: string | null;
  mtf_execution_seconds: number | null;
  symbols_requested: number | null;
  symbols_successful: number | null;
  /** The app's `success_rate`: today, the share of contracts found READY. */
  success_rate: number | null;
  /** `data.errors`' count, null when no answer said. */
  errors: number | null;
  findings: RunFindings;
  /** What the Temporal UI may show of the findings (the worker that read them says); null: no answer said. */
  uiDetails: UiDetails | null;
  /** The trades the run caused, as far as they were read (shared/trades.ts). */
  trades: CycleTrades;
  /** Earlier cycles' trades, read again after this cycle's answer. */
  late_trades: LateTrades[];
  /** Why the app has no lineage API, when this cycle found that out. */
  lineage_absent: string | null;
}

/** A callback's word on an accepted run. */
export interface CompletionNotice {
  run_id: string;
  failed: boolean;
  message: string | null;
}

/** Callbacks kept for runs not (yet) awaited: an app may call back before its 202 is processed. */
const MAX_KEPT_NOTICES = 10;

/**
 * Finished cycles kept for the dashboard's plots (about 200 bytes each with order counts, 110
 * without). The loop itself is the store, so the plots cannot drift from the counters;
 * continue-as-new carries the window.
 */
export const RECENT_CYCLES_KEPT = 120;

/**
 * Earlier cycles whose `pending` trades a cycle reads again: its predecessor, and those whose own
 * successor failed before it could read them. Older ones are given up (`unknown`).
 */
export const LATE_READS = 3;

export class LoopState {
  phase: Phase = 'starting';
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

  /**
   * @param carried kept whole, so keys a newer release wrote into it go on to the next run.
   * @param unknownConfig config keys this version does not know, likewise handed on.
   */
  constructor(
    public config: LoopConfig,
    private readonly ids: { workflowId: string; runId: string; firstRunId: string },
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

  get workflowId(): string {
    return this.ids.workflowId;
  }

  /** `cadence: aligned`: this loop's beats, its share of `align_spread` included. */
  get beat(): { align_every: number; align_offset: number } {
    return loopBeat(this.config, this.ids.workflowId);
  }

  /** True from a cycle's start until it is recorded. */
  get inCycle(): boolean {
    return this.phase === 'calling_mtf' || this.phase === 'awaiting_completion';
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
    this.phase = 'calling_mtf';
    this.mtfCompleted = false;
    this.temporalNotified = false;
    this.nextCycleAt = null;
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
    const earlier = this.recentCycles
      .filter((p) => p.trades?.state === 'pending' && p.iteration >= this.iteration - LATE_READS)
      .map((p) => ({ iteration: p.iteration, ready: p.ready }));
    return { url: lineageUrl(this.config), wait_seconds: this.config.lineage_wait, earlier };
  }

  /**
   * Earlier cycles' trades read again: each goes onto that cycle's point (and onto the last-cycle
   * record while it is that cycle's), `known` or still `pending`. Returns those attached, with the
   * outcome of their cycle.
   */
  attachLateTrades(late: readonly LateTrades[]): (LateTrades & { outcome: Outcome })[] {
    const attached: (LateTrades & { outcome: Outcome })[] = [];
    for (const { iteration, trades } of late) {
      const point = this.recentCycles.find((p) => p.iteration === iteration);
      // Only trades still waited for: a read an older worker asked for may come after they were given up.
      if (!point || point.trades?.state !== 'pending') continue;
      point.trades = listedAtMost(trades, POINT_TRADES);
      if (this.lastCycle?.iteration === iteration) this.lastCycle = { ...this.lastCycle, trades };
      attached.push({ iteration, trades, outcome: point.outcome });
    }
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
    if (result.outcome === 'succeeded' || result.outcome === 'partial') c.consecutive_failures = 0;
    if (result.outcome === 'failed' || result.outcome === 'timed_out') c.consecutive_failures += 1;
    c.symbols_requested += result.symbols_requested ?? 0;
    c.symbols_successful += result.symbols_successful ?? 0;
    if (result.outcome !== 'succeeded' && result.message) this.lastError = `iteration ${this.iteration}: ${result.message}`;
    this.lastCycle = {
      iteration: this.iteration,
      outcome: result.outcome,
      mtf_run_id: result.mtf_run_id,
      started_at: new Date(this.cycleStartedAt).toISOString(),
      finished_at: new Date(now).toISOString(),
      cycle_seconds: (now - this.cycleStartedAt) / 1000,
      mtf_execution_seconds: result.mtf_execution_seconds,
      symbols_requested: result.symbols_requested,
      symbols_successful: result.symbols_successful,
      success_rate: result.success_rate,
      message: result.message,
      ready_share: result.success_rate,
      errors: result.errors,
      x_run_id: result.x_run_id,
      missed_beats: missedBefore,
      app_status: result.app_status,
      ...result.findings,
      trades: result.trades,
    };
    const { iteration, outcome, finished_at, cycle_seconds } = this.lastCycle;
    const { findings } = result;
    const point = {
      iteration,
      outcome,
      finished_at,
      cycle_seconds,
      ready: readyCount(findings),
      orders: findings.orders ? { ...findings.orders.count } : null,
      protection_alert: findings.protection_alert,
      trades: listedAtMost(result.trades, POINT_TRADES),
    };
    this.recentCycles = [...this.recentCycles, point].slice(-RECENT_CYCLES_KEPT);
    this.mtfCompleted = true;
    this.temporalNotified = true;
    return this.lastCycle;
  }

  /**
   * Pending trades too old to be read again become `unknown`, with what was read of them. Returns
   * them, so they are counted once like any other trades that are final.
   */
  giveUpLateTrades(): (LateTrades & { outcome: Outcome })[] {
    const given: (LateTrades & { outcome: Outcome })[] = [];
    for (const point of this.recentCycles) {
      if (point.trades?.state !== 'pending' || point.iteration >= this.iteration - LATE_READS) continue;
      point.trades = withState(point.trades, 'unknown');
      given.push({ iteration: point.iteration, trades: point.trades, outcome: point.outcome });
    }
    return given;
  }

  /** Beats that passed without a cycle starting at them: counted now, shown in the next cycle's record. */
  countMissedBeats(n: number): void {
    this.counters.missed_beats += n;
    this.missedBeatsUnrecorded += n;
  }

  /** Why a `pause` is refused (nothing is written to history then), or null. */
  pauseRefusal(request: PauseRequest | undefined): string | null {
    if (parseStopReason(request) === undefined) return 'pause takes nothing, a reason string, or { "reason": "…" }';
    if (this.stopRequested) return 'the loop is stopping: there is nothing to pause';
    return null;
  }

  /** The `pause` update: held at once between cycles, after the running cycle is recorded otherwise. */
  requestPause(request: PauseRequest | undefined, now: number): string {
    if (this.pause) return this.pause.since ? `already paused since ${this.pause.since}` : `already pausing: pauses after iteration ${this.iteration}`;
    const at = new Date(now).toISOString();
    this.pause = { reason: parseStopReason(request) ?? null, requested_at: at, since: this.inCycle ? null : at };
    this.wake();
    return this.pause.since ? 'paused' : `pauses after iteration ${this.iteration}`;
  }

  /** Marks the pause in force (the cycle it waited for is recorded). */
  holdPause(now: number): Pause | null {
    if (this.pause && !this.pause.since) this.pause = { ...this.pause, since: new Date(now).toISOString() };
    return this.pause;
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
    if (this.config.continue_mode === 'signal') return `the next cycle starts on continue_signal${this.config.cadence === 'aligned' ? ', at the beat after it' : ''}`;
    if (this.config.cadence === 'aligned') return `the next cycle starts at the next beat, ${new Date(nextBeat(this.beat, now)).toISOString()}`;
    return 'the next cycle starts now';
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

  status(): LoopStatus {
    const running = this.phase !== 'stopped' && this.phase !== 'cancelled';
    return {
      is_running: running,
      current_iteration: this.iteration,
      mtf_completed: this.mtfCompleted,
      temporal_notified: this.temporalNotified,
      workflow_id: this.ids.workflowId,
      run_id: this.ids.runId,
      first_run_id: this.ids.firstRunId,
      phase: this.phase,
      config: this.config,
      pending_config: this.pendingConfig,
      counters: { ...this.counters },
      success_rate: successRate(this.counters),
      last_cycle: this.lastCycle,
      last_error: this.lastError,
      next_cycle_at: this.nextCycleAt,
      stop_requested: this.stopRequested,
      stop_reason: this.stopReason,
      continue_pending: this.continuePending,
      started_at: this.startedAt,
      recent_cycles: this.recentCycles,
      pause: this.pause,
      notifications: notificationsStatus(this.notifications),
    };
  }

  summary(now: number): LoopSummary {
    return {
      workflow_id: this.ids.workflowId,
      stop_reason: this.stopReason,
      iterations: this.iteration,
      counters: { ...this.counters },
      success_rate: successRate(this.counters),
      last_cycle: this.lastCycle,
      last_error: this.lastError,
      started_at: this.startedAt,
      stopped_at: new Date(now).toISOString(),
    };
  }
}

/** The reason of a `stop_signal` (null when none was given); undefined when the payload is malformed. */
function parseStopReason(request: unknown): string | null | undefined {
  if (request === undefined || request === null) return null;
  if (typeof request === 'string') return request.trim() || null;
  if (typeof request === 'object' && !Array.isArray(request)) {
    const reason = (request as { reason?: unknown }).reason;
    if (reason === undefined || reason === null) return null;
    if (typeof reason === 'string') return reason.trim() || null;
  }
  return undefined;
}

function parseNotice(notice: unknown): CompletionNotice | null {
  if (typeof notice === 'string' && notice !== '') return { run_id: notice, failed: false, message: null };
  if (typeof notice !== 'object' || notice === null) return null;
  const { run_id, status, message } = notice as { run_id?: unknown; status?: unknown; message?: unknown };
  if (typeof run_id !== 'string' || run_id === '') return null;
  return {
    run_id,
    failed: status === 'error' || status === 'failed',
    message: typeof message === 'string' ? message : null,
  };
}
