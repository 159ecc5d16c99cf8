/**
 * How the loop's state tells its listeners of each change: visibility (metrics, search attributes,
 * the UI's details), the notifier and the log listen; the state (loop-state.ts) alone speaks.
 */
import type { CycleRecord } from '../shared/cycle-record';
import type { LateTrades, UiDetails } from '../shared/mtf';
import type { Outcome } from '../shared/outcomes';

/** An earlier cycle's trades, read after a later answer, with the outcome of their cycle. */
export type LateTradesOfCycle = LateTrades & { outcome: Outcome };

/** What step 3 had before it recorded the cycle: what a transition is measured against. */
export interface RecordedBefore {
  consecutive_failures: number;
  last: CycleRecord | null;
}

/** What a listener may hear, each with the loop (`L`, the loop's state) as it is after the change. */
export interface LoopListener<L> {
  /** The run began: `fresh` for a new loop, false for a run continued as new. */
  started?(loop: L, fresh: boolean): void;
  phaseEntered?(loop: L): void;
  lateTrades?(loop: L, late: LateTradesOfCycle): void;
  lineageAbsent?(loop: L, why: string): void;
  cycleRecorded?(loop: L, record: CycleRecord, before: RecordedBefore, uiDetails: UiDetails | null): void;
  beatsMissed?(loop: L): void;
  paused?(loop: L): void;
  /** An update changed the loop's fleet or group (they apply at once). */
  labelsChanged?(loop: L): void;
  /** `nextCycle`: when the next cycle starts, in words. */
  resumed?(loop: L, nextCycle: string): void;
  cancelled?(loop: L): void;
  stopped?(loop: L): void;
}

/**
 * The listeners, told in the order they were added, so the commands they make (an upsert, a
 * `notify` activity) come in the same order on every replay.
 */
export class LoopEvents<L> {
  private readonly listeners: LoopListener<L>[] = [];

  listen(...listeners: LoopListener<L>[]): void {
    this.listeners.push(...listeners);
  }

  emit<E extends keyof LoopListener<L>>(event: E, ...args: Parameters<NonNullable<LoopListener<L>[E]>>): void {
    for (const listener of this.listeners) (listener[event] as ((...a: typeof args) => void) | undefined)?.apply(listener, args);
  }
}
