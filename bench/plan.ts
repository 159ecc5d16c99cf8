/** What each stage runs, in the full bench and in the quick one `npm test` runs. */

export interface Plan {
  quick: boolean;
  /** Stage 1: simulator latencies, and quiet cycles measured at each. */
  historyLatencies: { latencyMs: number; quietCycles: number }[];
  /** Stage 2: cycles of each loop at a 1 s interval. */
  overheadCycles: number;
  /** Stage 3: loops per worker, and the cycles over which CPU is measured. */
  cpuLoops: number;
  cpuCycles: number;
  /**
   * Stage 4, one or more runs, each on a fresh worker: loop counts, one step each, at an interval;
   * measured intervals per step, after one interval of ramp and one of warm-up.
   */
  scaleRuns: ScalePlan[];
  /** Stage 6: the loop beside the Schedule the app's team chose. */
  schedule: SchedulePlan;
}

export interface ScalePlan {
  steps: number[];
  intervalS: number;
  windowIntervals: number;
}

export interface ScheduleStep {
  loops: number;
  periodS: number;
  /** Beats measured, after one period of warm-up. */
  windowPeriods: number;
  /** Also measure ours aligned with `align_spread` of this many seconds (each loop its own point of the span). */
  spreadS?: number;
  /** Also run the Schedule with a cron spec instead of an interval, to show it behaves the same. */
  cron?: boolean;
}

export interface SchedulePlan {
  steps: ScheduleStep[];
  /**
   * Each design alone on the server (full: so the server's CPU is its own), or all side by side in
   * one window (quick: structure and event counts only, in a few seconds).
   */
  sideBySide: boolean;
}

export const FULL: Plan = {
  quick: false,
  historyLatencies: [
    { latencyMs: 0, quietCycles: 5 },
    { latencyMs: 5_000, quietCycles: 2 },
    { latencyMs: 60_000, quietCycles: 1 },
  ],
  overheadCycles: 200,
  cpuLoops: 50,
  cpuCycles: 1_000,
  scaleRuns: [
    // 10 s, not 30 s, to fit the run in 20 minutes: N loops at 10 s are the load of 3N loops at 30 s
    // (the server and the worker see N / interval cycles per second), so each step is a harder test
    // than the same count at 30 s. The simulator answers at once in both.
    { steps: [1, 10, 100, 500, 1_000], intervalS: 10, windowIntervals: 3 },
    // Then the target as stated: 1,000 loops at 30 s, on a fresh worker.
    { steps: [1_000], intervalS: 30, windowIntervals: 2 },
  ],
  schedule: {
    // A 5 s period keeps the stage short; 1,000 loops sharing a 5 s boundary would be 200 cycles/s,
    // four times what this machine carries, so that step beats every 30 s (33 cycles/s on average,
    // all at once on the boundary).
    steps: [
      { loops: 1, periodS: 5, windowPeriods: 10 },
      { loops: 10, periodS: 5, windowPeriods: 6, cron: true },
      { loops: 100, periodS: 5, windowPeriods: 4, spreadS: 3 },
      { loops: 1_000, periodS: 30, windowPeriods: 2, spreadS: 25 },
    ],
    sideBySide: false,
  },
};

export const QUICK: Plan = {
  quick: true,
  historyLatencies: [{ latencyMs: 0, quietCycles: 3 }],
  overheadCycles: 3,
  cpuLoops: 5,
  cpuCycles: 10,
  scaleRuns: [{ steps: [1, 5], intervalS: 1, windowIntervals: 2 }],
  schedule: { steps: [{ loops: 2, periodS: 2, windowPeriods: 2, spreadS: 0.5, cron: true }], sideBySide: true },
};
