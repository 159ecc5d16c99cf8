/**
 * Tells a human when the loop changes (the worker's MTF_NOTIFY_URL): one `notify` activity per
 * transition, none on a quiet cycle. Messages go out one at a time, in order (a protection alert
 * before anything not yet sent), beside the loop: the loop never awaits a message, so a slow or
 * dead endpoint cannot delay a cycle or fail it. A run continues as new once no message is being
 * sent (the rest are carried to the next run); before the loop completes it sends them all, within
 * a bound. Loops recorded before notifications existed replay without them (NOTIFY_PATCH).
 */
import { condition, isCancellation, log, metricMeter, patched, proxyActivities } from '@temporalio/workflow';
import type { MetricCounter } from '@temporalio/common';
import type { CycleRecord } from '../shared/cycle-record';
import { METRICS } from '../shared/metrics';
import type { MtfActivities } from '../shared/mtf';
import {
  cycleEvents,
  cycleNotification,
  lateTradesNotification,
  loopNotification,
  startedDetail,
  stoppedDetail,
  type Notification,
} from '../shared/notifications';
import type { LateTradesOfCycle, LoopListener, RecordedBefore } from './loop-events';
import type { LoopState } from './loop-state';

/** The `patched()` ID of notifications: a loop's history before it has no `notify` activity. */
export const NOTIFY_PATCH = 'notify-on-transitions';

/**
 * Each post may take 10 s (the worker gives up on its own after MTF_NOTIFY_TIMEOUT, 5 s by
 * default), three tries 2 s and 4 s apart, 30 s in all: then the message is given up and counted.
 */
const NOTIFY_OPTIONS = {
  startToCloseTimeout: 10_000,
  scheduleToCloseTimeout: 30_000,
  retry: { initialInterval: 2_000, backoffCoefficient: 2, maximumInterval: 10_000, maximumAttempts: 3 },
} as const;

/** How long a stopping loop waits for its last messages (the `stopped` one among them). */
export const STOP_FLUSH_MS = 35_000;

/**
 * At most this many messages wait (an endpoint down for hours must not grow the state): beyond it,
 * the first ones (an alert, the first `failing`) and the newest (where the loop is now) stay, and
 * those between are dropped and counted failed.
 */
const MAX_QUEUED = 20;

/**
 * Cycle boundaries a due continue-as-new may pass while a message is being sent (the loop goes on
 * meanwhile); then it waits for that message, 30 s at most.
 */
export const CARRY_GRACE_CYCLES = 10;

type Result = 'sent' | 'failed';

/** A listener of the loop's state (loop-state.ts): it tells a human of the transitions it hears. */
export class Notifier implements LoopListener<LoopState> {
  private inFlight: Promise<void> | null = null;
  /** Set before continue-as-new: what is not yet being sent waits for the next run. */
  private holding = false;
  private deferredCarries = 0;
  private counter: MetricCounter | null = null;

  constructor(private readonly loop: LoopState) {
    // Messages a previous run could not send before it continued as new go first.
    if (loop.notifications.queued.length > 0 && patched(NOTIFY_PATCH)) this.kick();
  }

  /** A new loop says so; a run continued as new is not news. */
  started(_loop: LoopState, fresh: boolean): void {
    if (!fresh) return;
    this.send([loopNotification('started', this.moment(), null, startedDetail(this.loop.config))]);
  }

  /** After step 3: the cycle's transitions, loudest first; nothing for a quiet cycle. */
  cycleRecorded(_loop: LoopState, record: CycleRecord, before: RecordedBefore): void {
    const { loop } = this;
    const events = cycleEvents(before, record, loop.counters, loop.config);
    if (events.length === 0) return;
    this.send(events.map((event) => cycleNotification(event, this.moment(), record, { before: before.consecutive_failures })));
  }

  /** An earlier cycle's trades, read after a later answer: on a live loop, its sent orders are told now. */
  lateTrades(_loop: LoopState, late: LateTradesOfCycle): void {
    const notification = lateTradesNotification(this.moment(), late, this.loop.config);
    if (notification) this.send([notification]);
  }

  /** The pause in force, said once: a pause carried to the next run is not news there. */
  paused(): void {
    const { pause, notifications } = this.loop;
    if (!pause || notifications.pause_said === pause.requested_at) return;
    notifications.pause_said = pause.requested_at;
    this.send([loopNotification('paused', this.moment(), this.loop.lastCycle, pause.reason ?? '')]);
  }

  resumed(_loop: LoopState, detail: string): void {
    this.send([loopNotification('resumed', this.moment(), this.loop.lastCycle, detail)]);
  }

  /** The `stopped` message, then every message still to send, within {@link STOP_FLUSH_MS}. */
  async flushAtStop(): Promise<void> {
    const { loop } = this;
    // A stop that came while a continue-as-new waited: what was held goes out here.
    this.holding = false;
    this.kick();
    this.send([loopNotification('stopped', this.moment(), loop.lastCycle, stoppedDetail(loop.stopReason, loop.counters))]);
    if (this.inFlight === null) return;
    if (await condition(() => this.inFlight === null, STOP_FLUSH_MS)) return;
    const left = loop.notifications.queued;
    log.warn('the loop stopped before its last notifications were sent', {
      iteration: loop.iteration,
      events: left.map((n) => n.event),
      in_flight: 1,
    });
    this.giveUp(left);
  }

  /**
   * Whether a due continue-as-new may happen now: no message is being sent, so none is sent twice
   * (those waiting are carried). While one is, the loop goes on for up to {@link CARRY_GRACE_CYCLES}
   * cycle boundaries rather than wait; then it waits for that one (`settle`).
   */
  readyToCarry(): boolean {
    if (this.inFlight === null) return true;
    this.deferredCarries += 1;
    return this.deferredCarries > CARRY_GRACE_CYCLES;
  }

  /** Before continue-as-new: the message being sent finishes (within its own timeout); the rest are carried. */
  async settle(): Promise<void> {
    this.holding = true;
    await this.inFlight;
  }

  /** Who and when: the loop, its labels now (an update applies them at once), its iteration, workflow time. */
  private moment() {
    const { workflowId, config, iteration } = this.loop;
    return { loop: workflowId, fleet: config.fleet, group: config.group, iteration, at: new Date(Date.now()).toISOString() };
  }

  private send(notifications: Notification[]): void {
    if (!this.loop.config.notify || !patched(NOTIFY_PATCH)) return;
    const state = this.loop.notifications;
    const loud = (n: Notification) => n.severity === 'critical';
    // Alerts go before everything not yet sent, after the alerts already waiting.
    const waitingLoud = state.queued.filter(loud);
    const queued = [
      ...waitingLoud,
      ...notifications.filter(loud),
      ...state.queued.filter((n) => !loud(n)),
      ...notifications.filter((n) => !loud(n)),
    ];
    if (queued.length > MAX_QUEUED) {
      const dropped = queued.slice(MAX_QUEUED - 1, -1);
      log.warn('notifications dropped: too many waiting for the endpoint', {
        dropped: dropped.length,
        events: dropped.map((n) => n.event),
      });
      this.giveUp(dropped);
      state.queued = [...queued.slice(0, MAX_QUEUED - 1), ...queued.slice(-1)];
    } else {
      state.queued = queued;
    }
    this.kick();
  }

  private kick(): void {
    const state = this.loop.notifications;
    // `notify` turned off by an update: what still waits is withdrawn, not sent.
    if (!this.loop.config.notify) state.queued = [];
    // Only with something to take, so drain() awaits a post before it clears inFlight.
    if (this.inFlight === null && !this.holding && state.queued.length > 0) this.inFlight = this.drain();
  }

  private async drain(): Promise<void> {
    for (let next = this.take(); next; next = this.take()) await this.post(next);
    this.inFlight = null;
  }

  private take(): Notification | undefined {
    const state = this.loop.notifications;
    if (!this.loop.config.notify) state.queued = [];
    if (this.holding) return undefined;
    const [next, ...rest] = state.queued;
    state.queued = rest;
    return next;
  }

  private async post(notification: Notification): Promise<void> {
    const state = this.loop.notifications;
    const { notify } = proxyActivities<Pick<MtfActivities, 'notify'>>({ ...NOTIFY_OPTIONS, summary: `notify: ${notification.event}` });
    try {
      const result = await notify(notification);
      if (!result.sent) {
        state.no_endpoint += 1;
        return;
      }
      state.sent += 1;
      this.count(notification, 'sent');
    } catch (err) {
      if (isCancellation(err)) return;
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      state.last_failure = `${notification.event}, iteration ${notification.iteration}: ${cause instanceof Error ? cause.message : String(cause)}`;
      this.giveUp([notification]);
      log.warn('notification not sent; the loop goes on', {
        iteration: this.loop.iteration,
        event: notification.event,
        error: state.last_failure,
      });
    }
  }

  /** Messages given up (failed, dropped, or left when the loop stopped): counted in state and in the metric. */
  private giveUp(notifications: Notification[]): void {
    this.loop.notifications.failed += notifications.length;
    for (const n of notifications) this.count(n, 'failed');
  }

  private count(notification: Notification, result: Result): void {
    this.counter ??= metricMeter.createCounter(METRICS.notifications, 'messages', 'notifications sent, or given up after their retries');
    this.counter.add(1, { event: notification.event, result });
  }
}
