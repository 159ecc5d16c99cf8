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
import { nextBeat } from '../../src/shared/cadence';
import { parseLoopConfig } from '../../src/shared/config';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { BenchWorker, cpuSeconds } from '../bench-worker';
import { percentile } from '../history';
import { HOST, histories, loopId, type Bench } from '../loops';
import type { ScheduleStep } from '../plan';
import { devServerPid, processCpuSeconds } from '../server-cpu';
import { delay, round, within } from '../tools';
import { OFFSET_S, SAMPLE, endDesign, schedulerHistory, spreadOffset, startDesign } from './schedule-designs';
import type { Design, DesignRun, ScheduleStage, Spec } from './schedule-designs';
import { arrivals, costs, intervalLateness, schedulerEventsPerAction } from './schedule-window';

export { scheduleRows } from './schedule-rows';
export type { ScheduleStage } from './schedule-designs';

/** "Unless many Schedules have Actions scheduled at the same time, Actions should generally start within 1 second" (docs.temporal.io/schedule). */
const LATE_MS = 1_000;
/** Our loop's continue-as-new, a "Workflow started" Action, every `max_cycles_per_run` cycles (its default here). */
const CYCLES_PER_RUN = parseLoopConfig({}).max_cycles_per_run;
const START_TIMEOUT_MS = 240_000;
const IDLE_SAMPLE_MS = 3_000;

/**
 * Runs `designs` together on one worker over one window of beats (one design: its CPU is its own),
 * then reads what they did.
 */
async function measure(
  bench: Bench,
  sim: Simulator,
  serverPid: number | null,
  step: ScheduleStep,
  designs: { design: Design; spreadS: number | null }[],
): Promise<DesignRun[]> {
  const { loops, periodS, windowPeriods } = step;
  const periodMs = periodS * 1000;
  const taskQueue = loopId(bench, 'schedule-tq', `${loops}`);
  const worker = await BenchWorker.start(bench.address, taskQueue, bench.bundle);
  const specs: Spec[] = designs.map((d) => ({
    ...d,
    ids: Array.from({ length: loops }, () => loopId(bench, `s${loops}`, d.design.replace(/,/g, ''))),
  }));
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
      specs.map((spec) =>
        Promise.all((spec.design.startsWith('schedule') ? spec.ids.slice(0, 5) : []).map((id) => schedulerHistory(bench, id))),
      ),
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
          schedulerEventsPerAction: spec.design.startsWith('schedule')
            ? schedulerEventsPerAction(schedulers[s] ?? [], perSchedule, from, to)
            : null,
          actions,
          actionsPerCycle: round(spec.design.startsWith('schedule') ? actionsMedian : actionsMedian + 1 / CYCLES_PER_RUN, 3),
          workerCpuPer1000: alone && cycles > 0 ? round(((cpuSeconds(workerTo) - cpuSeconds(workerFrom)) / cycles) * 1000, 2) : null,
          serverCpuPer1000:
            alone && cycles > 0 && serverPid !== null
              ? round(((serverTo - serverFrom - idleShare * ((to - from) / 1000)) / cycles) * 1000, 2)
              : null,
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
