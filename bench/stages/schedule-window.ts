/**
 * Stage 6 (see schedule.ts): reading a window of beats, from the simulator's POSTs and the sampled histories.
 */
import type { Simulator } from '../../src/simulator/server';
import { actionsOf, eventMs, quietCycleCosts } from '../../harness/history';
import { histories, type Bench } from '../loops';
import { round } from '../tools';
import { SAMPLE, spreadOffset, type HistoryEvent, type Spec } from './schedule-designs';

/** Temporal Cloud bills each Schedule execution "Schedule Start" as two Actions, outside any history (docs.temporal.io/cloud/actions). */
const SCHEDULE_START_ACTIONS = 2;

export interface Arrival {
  loop: number;
  at: number;
  intended: number;
  key: string;
}

/** Each POST of the spec's loops, with its intended time (aligned designs only). */
export function arrivals(sim: Simulator, spec: Spec, periodS: number): Arrival[] {
  const index = new Map(spec.ids.map((id, i) => [id, i]));
  const periodMs = periodS * 1000;
  return sim.runRequests().flatMap((r) => {
    const [loop, run] = (r.idempotency_key ?? '').split('/');
    const i = index.get(loop ?? '');
    if (i === undefined || run === undefined) return [];
    if (spec.design.startsWith('schedule')) {
      // `<schedule>-2026-12-02T12:00:05Z`: the beat the Schedule started this workflow for.
      const intended = Date.parse(run.slice((loop ?? '').length + 1));
      return [{ loop: i, at: r.received_at, intended, key: run }];
    }
    const offsetMs = spreadOffset(spec, i) * 1000;
    const intended = Math.floor((r.received_at - offsetMs) / periodMs) * periodMs + offsetMs;
    return [{ loop: i, at: r.received_at, intended, key: run }];
  });
}

/** Ours interval: each cycle's start (ActivityTaskStarted of the call) − (the previous call's completion + pause). */
export function intervalLateness(events: HistoryEvent[], from: number, to: number, pauseMs: number): number[] {
  const lateness: number[] = [];
  let completedAt: number | null = null;
  const callIds = new Set<string>();
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'callMtfRun') callIds.add(String(e.eventId));
    const started = e.activityTaskStartedEventAttributes;
    if (started && callIds.has(String(started.scheduledEventId)) && completedAt !== null) {
      const intended = completedAt + pauseMs;
      if (intended >= from && intended < to) lateness.push(eventMs(e) - intended);
    }
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed && callIds.has(String(completed.scheduledEventId))) completedAt = eventMs(e);
  }
  return lateness;
}

/** The scheduler's events in [from, to) over the actions it took for beats in that span, sampled schedules summed. */
export function schedulerEventsPerAction(
  schedulers: (HistoryEvent[] | null)[],
  perSchedule: Arrival[][],
  from: number,
  to: number,
): number | null {
  let events = 0;
  let actions = 0;
  for (const [i, history] of schedulers.entries()) {
    if (!history || history.length === 0) continue;
    // Only the current run is read: after a continue-as-new, the span starts with it.
    const since = Math.max(from, eventMs(history[0] as HistoryEvent));
    events += history.filter((e) => eventMs(e) >= since && eventMs(e) < to).length;
    actions += (perSchedule[i] ?? []).filter((a) => a.intended >= since && a.intended < to).length;
  }
  return actions > 0 ? round(events / actions, 1) : null;
}

/** `loopHistories`: ours, the sampled loops' histories (read once, for lateness too); unused for the Schedule. */
export async function costs(
  bench: Bench,
  spec: Spec,
  inWindow: Arrival[],
  from: number,
  to: number,
  loopHistories: HistoryEvent[][],
): Promise<{ events: number[]; actions: number[] }> {
  if (spec.design.startsWith('schedule')) {
    // Each one-shot's whole history: it is the cycle. Its start is the Schedule's "Workflow started" Action.
    const sample = [...new Set(inWindow.map((a) => a.key))].slice(0, SAMPLE);
    const all = await histories(bench.client, sample);
    return { events: all.map((h) => h.length), actions: all.map((h) => actionsOf(h) + SCHEDULE_START_ACTIONS) };
  }
  const cycles = loopHistories.flatMap((h) => quietCycleCosts(h).filter((c) => c.startedMs >= from && c.startedMs < to));
  return { events: cycles.map((c) => c.events), actions: cycles.map((c) => c.actions) };
}
