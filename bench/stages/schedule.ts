/**
 * Stage 6: the loop beside the design the app's own team chose instead: a Temporal Schedule
 * (overlap BUFFER_ONE) that starts a one-shot workflow making one MTF POST on each beat. For N
 * loops, each design alone on the server (so the server's CPU is its own): the Schedule with an
 * interval spec, ours `aligned` on the same beats, ours `interval` with the same period as its pause,
 * and where the plan says so ours aligned with `align_spread` (each loop its own point of a span
 * after the offset); once the Schedule with a cron spec, to show cron behaves as the interval does.
 *
 * Lateness is the POST's arrival at the simulator minus its intended time: the beat (for the
 * Schedule, the time it appended to the workflow ID; for ours aligned, the beat plus the loop's
 * offset). Ours interval has no beat: its lateness is, in 20 sampled loops' histories, each call's
 * ActivityTaskStarted minus (the previous call's completion + the pause).
 * The dev server fires timers within 10 ms here (see run.ts), as the soak sets it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { startLoop } from '../../src/client/loops';
import { nextBeat, spreadMs } from '../../src/shared/cadence';
import { parseLoopConfig } from '../../src/shared/config';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { BenchWorker, cpuSeconds } from '../bench-worker';
import { actionsOf, eventMs, percentile, quietCycleCosts } from '../history';
import { HOST, histories, loopId, terminateAll, type Bench } from '../loops';
import type { ScheduleStep } from '../plan';
import { costText, type Row } from '../report';
import { delay, mapLimit, round, within } from '../tools';
import type { ScheduledRunInput } from '../workflows/scheduled-run';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export const DESIGNS = ['schedule', 'schedule cron', 'ours aligned', 'ours aligned, spread', 'ours interval'] as const;
export type Design = (typeof DESIGNS)[number];

/** Seconds after each boundary every design aims at: the candle has just closed. */
const OFFSET_S = 1;
/** "Unless many Schedules have Actions scheduled at the same time, Actions should generally start within 1 second" (docs.temporal.io/schedule). */
const LATE_MS = 1_000;
/** Histories read per design for the event counts: enough to see every shape, few enough to read fast. */
const SAMPLE = 20;
/** Temporal Cloud bills each Schedule execution "Schedule Start" as two Actions, outside any history (docs.temporal.io/cloud/actions). */
const SCHEDULE_START_ACTIONS = 2;
/** Our loop's continue-as-new, a "Workflow started" Action, every `max_cycles_per_run` cycles (its default here). */
const CYCLES_PER_RUN = parseLoopConfig({}).max_cycles_per_run;
const START_TIMEOUT_MS = 240_000;
const IDLE_SAMPLE_MS = 3_000;

export interface DesignRun {
  design: Design;
  loops: number;
  periodS: number;
  spreadS: number | null;
  windowS: number;
  /** POSTs the simulator received in the window. */
  cycles: number;
  /** Beats due in the window over all loops (aligned designs), or cycles of the sampled loops (interval). */
  due: number;
  latenessMs: { p50: number; p99: number; max: number };
  /** Cycles that started more than 1 s after their intended time. */
  late: number;
  /** Beats in the window that no POST was made for. */
  missed: number;
  /** Beats drained per second when N loops share one boundary (N / the beat's last lateness), median. */
  drainPerS: number | null;
  /** History events per cycle: the loop's or the one-shot's, and the Schedule's own workflow per action. */
  events: number[];
  schedulerEventsPerAction: number | null;
  /** Actions per cycle by Temporal Cloud's rules (see history.ts), and per cycle amortized over a run. */
  actions: number[];
  actionsPerCycle: number;
  /** CPU seconds per 1,000 cycles; null when the designs ran side by side (quick). */
  workerCpuPer1000: number | null;
  serverCpuPer1000: number | null;
  /** The dev server's own CPU while no loop ran (share of one core), taken out of the figure above. */
  serverIdleShare: number | null;
  startLoopsS: number;
  note?: string;
}

interface Spec {
  design: Design;
  spreadS: number | null;
  ids: string[];
}

// ---------------------------------------------------------------------------------------------
// The server's CPU: the dev server is a child process of the bench; Linux's /proc has its time.

/** Linux's USER_HZ, the unit of the times in /proc/<pid>/stat: 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** The dev server's PID: the bench's child process that runs `temporal server start-dev`. */
export function devServerPid(): number | null {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes('start-dev')) return Number(entry);
    }
  } catch {
    // No /proc (not Linux): the server's CPU is reported as unknown.
  }
  return null;
}

function processCpuSeconds(pid: number | null): number {
  if (pid === null) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// Starting and ending each design's loops.

/** A loop's offset after each boundary, seconds: its share of `align_spread` included (the loop's own rule, cadence.ts). */
function spreadOffset(spec: Spec, i: number): number {
  return OFFSET_S + (spec.spreadS === null ? 0 : spreadMs(spec.ids[i] ?? '', spec.spreadS) / 1000);
}

/** Starts the spec's loops; once `stopped()` says so (a start that overran its bound), starts no more. */
async function startDesign(bench: Bench, spec: Spec, step: ScheduleStep, taskQueue: string, mtfUrl: string, stopped: () => boolean): Promise<void> {
  const { periodS } = step;
  await mapLimit(spec.ids, 50, async (id) => {
    if (stopped()) return;
    if (spec.design === 'schedule' || spec.design === 'schedule cron') {
      const args: [ScheduledRunInput] = [{ mtf_url: mtfUrl, ping_interval: periodS, schedule: id }];
      // The cron string has a seconds field (7 fields: second … year), so it can beat every few
      // seconds; `1/P` in the seconds field is the interval's grid when P divides 60, as here.
      const spec_ =
        spec.design === 'schedule' ? { intervals: [{ every: `${periodS}s`, offset: `${OFFSET_S}s` }] } : { cronExpressions: [`${OFFSET_S}/${periodS} * * * * * *`] };
      await bench.client.schedule.create({
        scheduleId: id,
        spec: spec_,
        action: { type: 'startWorkflow', workflowType: 'BenchScheduledRunWorkflow', workflowId: id, taskQueue, args },
        policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE },
      });
      return;
    }
    const config =
      spec.design === 'ours interval'
        ? { mtf_url: mtfUrl, ping_interval: periodS }
        : { mtf_url: mtfUrl, cadence: 'aligned', align_every: periodS, align_offset: OFFSET_S, ...(spec.spreadS !== null && { align_spread: spec.spreadS }) };
    await startLoop(bench.client, { taskQueue, workflowId: id, config });
  });
}

async function endDesign(bench: Bench, spec: Spec): Promise<void> {
  if (spec.design.startsWith('schedule')) await mapLimit(spec.ids, 50, (id) => bench.client.schedule.getHandle(id).delete().catch(() => undefined));
  else await terminateAll(bench.client, spec.ids);
}

/** The Schedule's own workflow (Temporal's scheduler, one per Schedule), as far as the server shows it. */
async function schedulerHistory(bench: Bench, id: string): Promise<HistoryEvent[] | null> {
  try {
    return (await bench.client.workflow.getHandle(`temporal-sys-scheduler:${id}`).fetchHistory()).events ?? [];
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a window.

interface Arrival {
  loop: number;
  at: number;
  intended: number;
  key: string;
}

/** Each POST of the spec's loops, with its intended time (aligned designs only). */
function arrivals(sim: Simulator, spec: Spec, periodS: number): Arrival[] {
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
function intervalLateness(events: HistoryEvent[], from: number, to: number, pauseMs: number): number[] {
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
function schedulerEventsPerAction(schedulers: (HistoryEvent[] | null)[], perSchedule: Arrival[][], from: number, to: number): number | null {
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
async function costs(bench: Bench, spec: Spec, inWindow: Arrival[], from: number, to: number, loopHistories: HistoryEvent[][]): Promise<{ events: number[]; actions: number[] }> {
  if (spec.design.startsWith('schedule')) {
    // Each one-shot's whole history: it is the cycle. Its start is the Schedule's "Workflow started" Action.
    const sample = [...new Set(inWindow.map((a) => a.key))].slice(0, SAMPLE);
    const all = await histories(bench.client, sample);
    return { events: all.map((h) => h.length), actions: all.map((h) => actionsOf(h) + SCHEDULE_START_ACTIONS) };
  }
  const cycles = loopHistories.flatMap((h) => quietCycleCosts(h).filter((c) => c.startedMs >= from && c.startedMs < to));
  return { events: cycles.map((c) => c.events), actions: cycles.map((c) => c.actions) };
}

// ---------------------------------------------------------------------------------------------

export interface ScheduleStage {
  step: ScheduleStep;
  runs: DesignRun[];
}

/**
 * Runs `designs` together on one worker over one window of beats (one design: its CPU is its own),
 * then reads what they did.
 */
async function measure(bench: Bench, sim: Simulator, serverPid: number | null, step: ScheduleStep, designs: { design: Design; spreadS: number | null }[]): Promise<DesignRun[]> {
  const { loops, periodS, windowPeriods } = step;
  const periodMs = periodS * 1000;
  const taskQueue = loopId(bench, 'schedule-tq', `${loops}`);
  const worker = await BenchWorker.start(bench.address, taskQueue, bench.bundle);
  const specs: Spec[] = designs.map((d) => ({ ...d, ids: Array.from({ length: loops }, () => loopId(bench, `s${loops}`, d.design.replace(/,/g, ''))) }));
  try {
    // The dev server burns CPU with nothing to do (its own timers, queues and pollers): measured
    // before this design starts, it is taken out, so few loops are not charged the server's idling.
    // Side by side (quick), the CPU is not the design's own anyway: no sample.
    const alone = specs.length === 1;
    const idleFrom = [Date.now(), processCpuSeconds(serverPid)] as const;
    if (alone) await delay(IDLE_SAMPLE_MS);
    const idleShare = alone ? (processCpuSeconds(serverPid) - idleFrom[1]) / ((Date.now() - idleFrom[0]) / 1000) : NaN;
    const startedAt = Date.now();
    let overran = false;
    const starting = Promise.all(specs.map((spec) => startDesign(bench, spec, step, taskQueue, sim.runUrl, () => overran)));
    try {
      await within(starting, START_TIMEOUT_MS, `starting ${loops} × ${designs.map((d) => d.design).join(', ')}`);
    } catch (err) {
      // No start may land after the clean-up below: it would beat on for the rest of the stage.
      overran = true;
      await starting.catch(() => undefined);
      throw err;
    }
    const startLoopsS = (Date.now() - startedAt) / 1000;
    // One whole period of warm-up, then the window, on the beats' grid.
    const from = nextBeat({ align_every: periodS, align_offset: OFFSET_S }, Date.now() + periodMs) - 1;
    const to = from + windowPeriods * periodMs;
    await delay(from - Date.now());
    const [workerFrom, serverFrom] = [await worker.stats(), processCpuSeconds(serverPid)];
    await delay(to - Date.now());
    const [workerTo, serverTo] = [await worker.stats(), processCpuSeconds(serverPid)];
    // A late beat of the window still arrives: one more period, then the Schedules' own histories.
    await delay(periodMs);
    const schedulers = await Promise.all(
      specs.map((spec) => Promise.all((spec.design.startsWith('schedule') ? spec.ids.slice(0, 5) : []).map((id) => schedulerHistory(bench, id)))),
    );
    await Promise.all(specs.map((spec) => endDesign(bench, spec)));
    return await Promise.all(
      specs.map(async (spec, s): Promise<DesignRun> => {
        const all = arrivals(sim, spec, periodS);
        const cycles = all.filter((a) => a.at >= from && a.at < to).length;
        const inWindow = all.filter((a) => a.intended >= from && a.intended < to);
        let lateness: number[];
        let due: number;
        let missed = 0;
        let drainPerS: number | null = null;
        const sample = spec.design.startsWith('schedule') ? [] : await histories(bench.client, spec.ids.slice(0, SAMPLE));
        if (spec.design === 'ours interval') {
          lateness = sample.flatMap((h) => intervalLateness(h, from, to, periodMs));
          due = lateness.length;
        } else {
          lateness = inWindow.map((a) => a.at - a.intended);
          due = loops * windowPeriods;
          missed = due - new Set(inWindow.map((a) => `${a.loop}@${a.intended}`)).size;
          const lastPerBeat = new Map<number, number>();
          for (const a of inWindow) {
            const beat = a.intended - (spreadOffset(spec, a.loop) - OFFSET_S) * 1000;
            lastPerBeat.set(beat, Math.max(lastPerBeat.get(beat) ?? 0, a.at - beat));
          }
          const drains = [...lastPerBeat.values()].map((ms) => loops / Math.max(ms / 1000, 0.001));
          // Spread loops do not share the boundary: their last start is the spread, not a queue.
          drainPerS = loops >= 10 && spec.spreadS === null && drains.length > 0 ? round(percentile(drains, 50), 1) : null;
        }
        const { events, actions } = await costs(bench, spec, inWindow, from, to, sample);
        const perSchedule = spec.ids.slice(0, 5).map((_id, i) => all.filter((a) => a.loop === i));
        const actionsMedian = actions.length ? percentile(actions, 50) : NaN;
        return {
          design: spec.design,
          loops,
          periodS,
          spreadS: spec.spreadS,
          windowS: round((to - from) / 1000),
          cycles,
          due,
          latenessMs: { p50: round(percentile(lateness, 50)), p99: round(percentile(lateness, 99)), max: round(Math.max(...lateness)) },
          late: lateness.filter((ms) => ms > LATE_MS).length,
          missed,
          drainPerS,
          events,
          schedulerEventsPerAction: spec.design.startsWith('schedule') ? schedulerEventsPerAction(schedulers[s] ?? [], perSchedule, from, to) : null,
          actions,
          actionsPerCycle: round(spec.design.startsWith('schedule') ? actionsMedian : actionsMedian + 1 / CYCLES_PER_RUN, 3),
          workerCpuPer1000: alone && cycles > 0 ? round(((cpuSeconds(workerTo) - cpuSeconds(workerFrom)) / cycles) * 1000, 2) : null,
          serverCpuPer1000: alone && cycles > 0 && serverPid !== null ? round(((serverTo - serverFrom - idleShare * ((to - from) / 1000)) / cycles) * 1000, 2) : null,
          serverIdleShare: alone && serverPid !== null ? round(idleShare, 3) : null,
          startLoopsS: round(startLoopsS),
        };
      }),
    );
  } finally {
    await Promise.all(specs.map((spec) => endDesign(bench, spec)));
    await worker.stop();
  }
}

/** Every step of the plan, each design in turn (or side by side), bounded by `deadlineAt`. */
export async function scheduleStage(bench: Bench, deadlineAt: number, log: (line: string) => void): Promise<ScheduleStage[]> {
  const plan = bench.plan.schedule;
  const sim = await startSimulator({ host: HOST, port: 0, behaviour: { latency_ms: 0 } });
  const serverPid = devServerPid();
  const stages: ScheduleStage[] = [];
  try {
    for (const step of plan.steps) {
      const designs: { design: Design; spreadS: number | null }[] = [
        { design: 'schedule', spreadS: null },
        ...(step.cron ? [{ design: 'schedule cron' as const, spreadS: null }] : []),
        { design: 'ours aligned', spreadS: null },
        { design: 'ours interval', spreadS: null },
        ...(step.spreadS !== undefined ? [{ design: 'ours aligned, spread' as const, spreadS: step.spreadS }] : []),
      ];
      const runs: DesignRun[] = [];
      for (const group of plan.sideBySide ? [designs] : designs.map((d) => [d])) {
        // Start-up, warm-up, window, the late beats' period and the reading: a step that would end past the deadline is not run.
        const needMs = (step.windowPeriods + 3) * step.periodS * 1000 + step.loops * 40 + 5_000;
        const names = group.map((d) => d.design).join(', ');
        if (Date.now() + needMs > deadlineAt) {
          for (const d of group) runs.push(notRun(d.design, step, d.spreadS, 'not run: the stage ran out of time'));
          continue;
        }
        log(`6 schedule: ${step.loops} × ${names}, every ${step.periodS} s`);
        try {
          runs.push(...(await measure(bench, sim, serverPid, step, group)));
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          for (const d of group) runs.push(notRun(d.design, step, d.spreadS, `stopped here: ${message.split('\n')[0] ?? ''}`));
        }
      }
      stages.push({ step, runs });
    }
    return stages;
  } finally {
    await sim.close();
  }
}

function notRun(design: Design, step: ScheduleStep, spreadS: number | null, note: string): DesignRun {
  const none = { p50: NaN, p99: NaN, max: NaN };
  return {
    design,
    loops: step.loops,
    periodS: step.periodS,
    spreadS,
    windowS: 0,
    cycles: 0,
    due: 0,
    latenessMs: none,
    late: 0,
    missed: 0,
    drainPerS: null,
    events: [],
    schedulerEventsPerAction: null,
    actions: [],
    actionsPerCycle: NaN,
    workerCpuPer1000: null,
    serverCpuPer1000: null,
    serverIdleShare: null,
    startLoopsS: 0,
    note,
  };
}

// ---------------------------------------------------------------------------------------------
// The table.

const cpuText = (value: number | null) => (value === null ? 'n/a' : `${value}`);
const msText = (value: number) => (Number.isFinite(value) ? `${value}` : 'n/a');

export function scheduleRows(stages: ScheduleStage[]): Row[] {
  const rows: Row[] = [];
  for (const { step, runs } of stages) {
    const stage = `6 vs Schedule, ${step.loops} loop${step.loops === 1 ? '' : 's'}, every ${step.periodS} s`;
    for (const r of runs) {
      const name = r.spreadS === null ? r.design : `${r.design} over ${r.spreadS} s`;
      if (r.note?.startsWith('not run') || r.note?.startsWith('stopped')) {
        rows.push({ stage, figure: name, value: r.note, target: '', met: null });
        continue;
      }
      const scheduler = r.design.startsWith('schedule') ? ` + ${r.schedulerEventsPerAction ?? 'n/a'} scheduler` : '';
      const events = `${costText(r.events)}${scheduler}`;
      const missed = r.design === 'ours interval' ? `no beats (${Math.min(SAMPLE, r.loops)} sampled loops)` : `${r.missed} missed`;
      const lateness = [r.latenessMs.p50, r.latenessMs.p99, r.latenessMs.max].map(msText).join(' / ');
      rows.push({
        stage,
        figure: `${name}: events / Actions per cycle; lateness p50 / p99 / max; late (> 1 s) / missed of due; CPU s per 1,000 cycles worker / server above its idle`,
        value: `${events} / ${r.actionsPerCycle}; ${lateness} ms; ${r.late} late / ${missed} of ${r.due}${r.drainPerS === null ? '' : ` (a boundary drains at ${r.drainPerS} cycles/s)`}; ${cpuText(r.workerCpuPer1000)} / ${cpuText(r.serverCpuPer1000)}`,
        target: r.design === 'ours aligned' ? '≤ 2 Actions per quiet cycle' : '(reported)',
        met: r.design === 'ours aligned' ? r.actions.length > 0 && r.actions.every((a) => a <= 2) : null,
      });
    }
    const schedule = runs.find((r) => r.design === 'schedule' && r.note === undefined);
    for (const ours of runs.filter((r) => (r.design === 'ours aligned' || r.design === 'ours aligned, spread') && r.note === undefined)) {
      if (!schedule) break;
      // A missed beat adds no lateness: a design must not win on p99 by skipping beats.
      const fewer = ours.actionsPerCycle < schedule.actionsPerCycle;
      const sooner = ours.latenessMs.p99 <= schedule.latenessMs.p99;
      const kept = ours.missed <= schedule.missed;
      rows.push({
        stage,
        figure: `${ours.spreadS === null ? 'ours aligned' : `ours aligned over ${ours.spreadS} s`} vs the Schedule: Actions per cycle; lateness p99; missed beats`,
        value: `${ours.actionsPerCycle} vs ${schedule.actionsPerCycle}; ${msText(ours.latenessMs.p99)} vs ${msText(schedule.latenessMs.p99)} ms; ${ours.missed} vs ${schedule.missed}`,
        target: 'fewer Actions; p99 and missed no worse',
        met: fewer && sooner && kept,
      });
    }
  }
  return rows;
}
