/** Stage 4: many loops on one worker, in steps, each measured over a few intervals. */
import { startSimulator } from '../../src/simulator/server';
import { BenchWorker, cpuSeconds } from '../bench-worker';
import { cycleTimings, percentile } from '../history';
import { HOST, histories, loopId, startKind, terminateAll, type Bench } from '../loops';
import type { ScalePlan } from '../plan';
import type { Row } from '../report';
import type { WorkerStats } from '../worker';
import { MiB, delay, mapLimit, round } from '../tools';

interface ScaleStep {
  loops: number;
  windowS: number;
  cyclesPerS: number;
  expectedPerS: number;
  scheduleToStartP99Ms: number;
  driftP99Ms: number;
  rssMiB: number;
  rssPerLoopMiB: number;
  /** RSS added by this step's new loops, per loop: the one-time costs (V8 context, JIT) fall out. */
  rssPerAddedLoopMiB: number;
  workerCpuShare: number;
  keepsBeat: boolean;
  /** Set when the step could not run to the end (its loops could not even be started in time). */
  note?: string;
}

export interface ScaleRun {
  intervalS: number;
  steps: ScaleStep[];
}

export async function scale(bench: Bench, deadlineAt: number, run: ScalePlan): Promise<ScaleRun> {
  const { steps: scaleSteps, intervalS, windowIntervals: scaleWindowIntervals } = run;
  const intervalMs = intervalS * 1000;
  const sim = await startSimulator({ host: HOST, port: 0, behaviour: { latency_ms: 0 } });
  const taskQueue = loopId(bench, 'scale-tq', '');
  const worker = await BenchWorker.start(bench.address, taskQueue, bench.bundle);
  const ids: string[] = [];
  const windows: { loops: number; from: number; to: number; stats: WorkerStats; before: WorkerStats; note?: string }[] = [];
  try {
    const idle = await worker.stats();
    for (const target of scaleSteps) {
      if (Date.now() + (2 + scaleWindowIntervals) * intervalMs + 5_000 > deadlineAt) {
        windows.push({ loops: target, from: 0, to: 0, stats: idle, before: idle, note: 'not run: the stage ran out of time' });
        break;
      }
      // New loops start spread over one interval, as loops started at random moments would run.
      const fresh = Array.from({ length: target - ids.length }, () => loopId(bench, 'scale', 'ours auto'));
      const rampStart = Date.now();
      await mapLimit(fresh, 50, async (id, i) => {
        const at = rampStart + (i * intervalMs) / fresh.length;
        if (at > Date.now()) await delay(at - Date.now());
        await startKind(bench, 'ours auto', taskQueue, id, sim.runUrl, intervalS);
      });
      ids.push(...fresh);
      const rampMs = Date.now() - rampStart;
      // Warm-up: one interval, so every new loop is in its beat when the window opens.
      await delay(intervalMs);
      const before = await worker.stats();
      const from = Date.now();
      await delay(scaleWindowIntervals * intervalMs);
      const to = Date.now();
      const stats = await worker.stats();
      windows.push({
        loops: target,
        from,
        to,
        stats,
        before,
        ...(rampMs > 2 * intervalMs && { note: `starting ${fresh.length} loops took ${round(rampMs / 1000)} s` }),
      });
    }
    const requests = sim.runRequests();
    const all = await histories(bench.client, ids);
    const timings = all.flatMap((events) => cycleTimings(events, intervalMs));
    const steps = windows.map((w, i): ScaleStep => {
      const previous = windows[i - 1] ?? { loops: 0, stats: idle };
      const windowS = (w.to - w.from) / 1000;
      const cycles = requests.filter((r) => r.received_at >= w.from && r.received_at < w.to).length;
      const inWindow = timings.filter((t) => t.scheduledMs >= w.from && t.scheduledMs < w.to);
      const s2s = percentile(
        inWindow.map((t) => t.scheduleToStartMs),
        99,
      );
      const drift = percentile(
        inWindow.flatMap((t) => (t.driftMs === null ? [] : [t.driftMs])),
        99,
      );
      const cyclesPerS = windowS > 0 ? cycles / windowS : NaN;
      const expectedPerS = w.loops / intervalS;
      return {
        loops: w.loops,
        windowS: round(windowS),
        cyclesPerS: round(cyclesPerS, 2),
        expectedPerS: round(expectedPerS, 2),
        scheduleToStartP99Ms: round(s2s),
        driftP99Ms: round(drift),
        rssMiB: round(w.stats.rssBytes / MiB),
        rssPerLoopMiB: round((w.stats.rssBytes - idle.rssBytes) / MiB / w.loops, 2),
        rssPerAddedLoopMiB: round((w.stats.rssBytes - previous.stats.rssBytes) / MiB / (w.loops - previous.loops), 2),
        workerCpuShare: windowS > 0 ? round((cpuSeconds(w.stats) - cpuSeconds(w.before)) / windowS, 2) : NaN,
        // The beat holds when the cycles come at the expected rate, an activity waits < 200 ms for the
        // worker, and a cycle starts < 1 s late: a production server's timers alone may fire up to 1 s
        // late (history.timerProcessorMaxTimeShift's default; the bench's dev server sets 10 ms).
        keepsBeat: windowS > 0 && cyclesPerS >= 0.95 * expectedPerS && s2s < 200 && drift < 1_000,
        ...(w.note !== undefined && { note: w.note }),
      };
    });
    return { intervalS, steps };
  } finally {
    await worker.stop();
    await terminateAll(bench.client, ids);
    await sim.close();
  }
}

export function scaleRows(run: ScaleRun): Row[] {
  const rows: Row[] = [];
  for (const s of run.steps) {
    rows.push({
      stage: `4 scale, ${run.intervalS} s interval`,
      figure: `${s.loops} loops: cycles/s (expected), s2s p99, drift p99, RSS (per loop), worker CPU`,
      value: s.note?.startsWith('not run')
        ? s.note
        : `${s.cyclesPerS} (${s.expectedPerS}), ${s.scheduleToStartP99Ms} ms, ${s.driftP99Ms} ms, ${s.rssMiB} MiB (${s.rssPerLoopMiB}), ${Math.round(s.workerCpuShare * 100)} %${s.note ? `; ${s.note}` : ''}`,
      target: 'rate ≥ 95 %, s2s p99 < 200 ms, drift p99 < 1 s',
      met: s.note?.startsWith('not run') ? null : s.keepsBeat,
    });
  }
  // Memory per loop from the last two steps of a run: one-time costs (V8 context, JIT) fall out.
  const ran = run.steps.filter((s) => !s.note?.startsWith('not run'));
  const [previous, last] = [ran.at(-2), ran.at(-1)];
  if (previous && last) {
    rows.push({
      stage: `4 scale, ${run.intervalS} s interval`,
      figure: `worker RSS per added loop, ${previous.loops} → ${last.loops} loops`,
      value: `${last.rssPerAddedLoopMiB} MiB`,
      target: '≤ 1.5 MB',
      met: last.rssPerAddedLoopMiB * 1.048576 <= 1.5,
    });
  }
  return rows;
}
