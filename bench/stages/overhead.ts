/** Stage 2: what the loop adds to a bare loop's beat, both on one worker at a 1 s interval. */
import { startSimulator } from '../../src/simulator/server';
import { BenchWorker } from '../bench-worker';
import { cycleTimings, percentile } from '../history';
import { BENCH_PING_INTERVAL_S, HOST, histories, loopId, startKind, terminateAll, type Bench } from '../loops';
import { requestsOf } from '../../harness/requests';
import type { Row } from '../report';
import { round, until } from '../tools';

export interface OverheadResult {
  cycles: Record<'ours' | 'control', number>;
  p50Ms: Record<'ours' | 'control', number>;
  p99Ms: Record<'ours' | 'control', number>;
}

export async function loopOverhead(bench: Bench): Promise<OverheadResult> {
  const cycles = bench.plan.overheadCycles;
  const sim = await startSimulator({ host: HOST, port: 0, behaviour: { latency_ms: 0 } });
  const taskQueue = loopId(bench, 'overhead-tq', '');
  // Both loops on one worker, at the same time: the same conditions, down to the machine's load.
  const worker = await BenchWorker.start(bench.address, taskQueue, bench.bundle);
  const kinds = ['ours auto', 'control'] as const;
  const ids = kinds.map((kind) => loopId(bench, 'overhead', kind));
  try {
    await Promise.all(kinds.map((kind, i) => startKind(bench, kind, taskQueue, ids[i] as string, sim.runUrl, BENCH_PING_INTERVAL_S)));
    await until(
      () => ids.every((id) => requestsOf(sim, id).length >= cycles + 2),
      (cycles + 2) * 3_000 + 30_000,
      `stage 2: ${cycles} cycles of each loop`,
      200,
    );
    await terminateAll(bench.client, ids);
    const [ours, control] = (await histories(bench.client, ids)).map((events) =>
      cycleTimings(events, BENCH_PING_INTERVAL_S * 1000)
        // The first cycle also starts the workflow and announces the first outcome.
        .slice(1, cycles + 1)
        .flatMap((t) => (t.driftMs === null ? [] : [t.driftMs])),
    );
    const pick = (values: number[] | undefined, p: number) => round(percentile(values ?? [], p));
    return {
      cycles: { ours: ours?.length ?? 0, control: control?.length ?? 0 },
      p50Ms: { ours: pick(ours, 50), control: pick(control, 50) },
      p99Ms: { ours: pick(ours, 99), control: pick(control, 99) },
    };
  } finally {
    await terminateAll(bench.client, ids);
    await worker.stop();
    await sim.close();
  }
}

export function overheadRows(o: OverheadResult): Row[] {
  const rows: Row[] = [];
  const p50 = o.p50Ms.ours / o.p50Ms.control;
  const p99 = o.p99Ms.ours / o.p99Ms.control;
  rows.push({
    stage: '2 loop overhead',
    figure: `p50 ms ours / control (${o.cycles.ours} cycles)`,
    value: `${o.p50Ms.ours} / ${o.p50Ms.control} = ${round(p50, 2)}×`,
    target: '≤ 1.2×',
    met: p50 <= 1.2,
  });
  rows.push({
    stage: '2 loop overhead',
    figure: 'p99 ms ours / control',
    value: `${o.p99Ms.ours} / ${o.p99Ms.control} = ${round(p99, 2)}×`,
    target: '≤ 1.5×',
    met: p99 <= 1.5,
  });
  return rows;
}
