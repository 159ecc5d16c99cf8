/**
 * Stage 6's designs (see schedule.ts): what each one is, what a measured run of it reports, and
 * starting and ending each design's loops.
 */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { startLoop } from '../../src/client/loops';
import { spreadMs } from '../../src/shared/cadence';
import { terminateAll, type Bench } from '../loops';
import type { ScheduleStep } from '../plan';
import { mapLimit } from '../tools';
import type { ScheduledRunInput } from '../workflows/scheduled-run';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export const DESIGNS = ['schedule', 'schedule cron', 'ours aligned', 'ours aligned, spread', 'ours interval'] as const;
export type Design = (typeof DESIGNS)[number];

/** Seconds after each boundary every design aims at: the candle has just closed. */
export const OFFSET_S = 1;
/** Histories read per design for the event counts: enough to see every shape, few enough to read fast. */
export const SAMPLE = 20;

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

export interface ScheduleStage {
  step: ScheduleStep;
  runs: DesignRun[];
}

export interface Spec {
  design: Design;
  spreadS: number | null;
  ids: string[];
}

/** A loop's offset after each boundary, seconds: its share of `align_spread` included (the loop's own rule, cadence.ts). */
export function spreadOffset(spec: Spec, i: number): number {
  return OFFSET_S + (spec.spreadS === null ? 0 : spreadMs(spec.ids[i] ?? '', spec.spreadS) / 1000);
}

/** Starts the spec's loops; once `stopped()` says so (a start that overran its bound), starts no more. */
export async function startDesign(
  bench: Bench,
  spec: Spec,
  step: ScheduleStep,
  taskQueue: string,
  mtfUrl: string,
  stopped: () => boolean,
): Promise<void> {
  const { periodS } = step;
  await mapLimit(spec.ids, 50, async (id) => {
    if (stopped()) return;
    if (spec.design === 'schedule' || spec.design === 'schedule cron') {
      const args: [ScheduledRunInput] = [{ mtf_url: mtfUrl, ping_interval: periodS, schedule: id }];
      // The cron string has a seconds field (7 fields: second … year), so it can beat every few
      // seconds; `1/P` in the seconds field is the interval's grid when P divides 60, as here.
      const spec_ =
        spec.design === 'schedule'
          ? { intervals: [{ every: `${periodS}s`, offset: `${OFFSET_S}s` }] }
          : { cronExpressions: [`${OFFSET_S}/${periodS} * * * * * *`] };
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
        : {
            mtf_url: mtfUrl,
            cadence: 'aligned',
            align_every: periodS,
            align_offset: OFFSET_S,
            ...(spec.spreadS !== null && { align_spread: spec.spreadS }),
          };
    await startLoop(bench.client, { taskQueue, workflowId: id, config });
  });
}

export async function endDesign(bench: Bench, spec: Spec): Promise<void> {
  if (spec.design.startsWith('schedule'))
    await mapLimit(spec.ids, 50, (id) =>
      bench.client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined),
    );
  else await terminateAll(bench.client, spec.ids);
}

/** The Schedule's own workflow (Temporal's scheduler, one per Schedule), as far as the server shows it. */
export async function schedulerHistory(bench: Bench, id: string): Promise<HistoryEvent[] | null> {
  try {
    return (await bench.client.workflow.getHandle(`temporal-sys-scheduler:${id}`).fetchHistory()).events ?? [];
  } catch {
    return null;
  }
}
