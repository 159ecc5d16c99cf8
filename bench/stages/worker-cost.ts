/** Stage 3: worker CPU per 1,000 cycles and RSS per loop, each kind in a fresh worker process. */
import { startSimulator } from '../../src/simulator/server';
import { BenchWorker, cpuSeconds } from '../bench-worker';
import { BENCH_PING_INTERVAL_S, HOST, loopId, startKind, terminateAll, type Bench } from '../loops';
import type { Row } from '../report';
import { MiB, mapLimit, round, until } from '../tools';

export interface CpuResult {
  loops: number;
  cycles: number;
  cpuSecondsPer1000: number;
  rssPerLoopMiB: number;
  rssMiB: number;
}

export async function workerCost(bench: Bench, kind: 'ours auto' | 'control'): Promise<CpuResult> {
  const { cpuLoops: loops, cpuCycles } = bench.plan;
  const sim = await startSimulator({ host: HOST, port: 0, behaviour: { latency_ms: 0 } });
  const taskQueue = loopId(bench, 'cpu-tq', kind);
  const worker = await BenchWorker.start(bench.address, taskQueue, bench.bundle);
  const ids = Array.from({ length: loops }, () => loopId(bench, 'cpu', kind));
  try {
    const idle = await worker.stats();
    await mapLimit(ids, 20, (id) => startKind(bench, kind, taskQueue, id, sim.runUrl, BENCH_PING_INTERVAL_S));
    const count = () => sim.runRequests().length;
    // Warm-up: every loop has run a cycle or two, so the cache holds them all.
    await until(() => count() >= loops * 2, 120_000, 'stage 3 warm-up', 100);
    const [from, fromCount] = [await worker.stats(), count()];
    await until(() => count() >= fromCount + cpuCycles, 600_000, `stage 3: ${cpuCycles} cycles`, 100);
    const [to, toCount] = [await worker.stats(), count()];
    return {
      loops,
      cycles: toCount - fromCount,
      cpuSecondsPer1000: round(((cpuSeconds(to) - cpuSeconds(from)) / (toCount - fromCount)) * 1000, 2),
      rssPerLoopMiB: round((to.rssBytes - idle.rssBytes) / MiB / loops, 2),
      rssMiB: round(to.rssBytes / MiB),
    };
  } finally {
    await terminateAll(bench.client, ids);
    await worker.stop();
    await sim.close();
  }
}

export function workerCostRows(c: Record<'ours' | 'control', CpuResult>): Row[] {
  const rows: Row[] = [];
  const ratio = c.ours.cpuSecondsPer1000 / c.control.cpuSecondsPer1000;
  rows.push({
    stage: '3 worker',
    figure: `CPU s per 1,000 cycles ours / control (${c.ours.loops} loops)`,
    value: `${c.ours.cpuSecondsPer1000} / ${c.control.cpuSecondsPer1000} = ${round(ratio, 2)}×`,
    target: '≤ 1.3×',
    met: ratio <= 1.3,
  });
  // Above the idle worker, over few loops: one-time costs (the workflow V8 context, JIT) dominate; stage 4 has the per-loop figure.
  rows.push({
    stage: '3 worker',
    figure: `RSS above idle per loop, MiB ours / control (${c.ours.loops} loops)`,
    value: `${c.ours.rssPerLoopMiB} / ${c.control.rssPerLoopMiB}`,
    target: '(see stage 4)',
    met: null,
  });
  return rows;
}
