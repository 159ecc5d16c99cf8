/**
 * Stage 1: history events and Actions per quiet cycle of ours (auto and signal-gated), the control
 * and the seed's design, at several call latencies, with the heartbeats the server recorded.
 */
import type { Client } from '@temporalio/client';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { continueSignal } from '../../src/shared/messages';
import { BenchWorker } from '../bench-worker';
import { quietCycleCosts, type CycleCost } from '../../harness/history';
import { BENCH_PING_INTERVAL_S, HOST, histories, loopId, startKind, terminateAll, type Bench, type Kind } from '../loops';
import { requestsOf } from '../../harness/requests';
import { costText, type Row } from '../report';
import { delay, round, until } from '../tools';

export interface CostRow {
  kind: Kind;
  latencyMs: number;
  cycles: number;
  events: number[];
  actions: number[];
  /** Distinct heartbeats the server recorded for the measured cycles' calls (see heartbeatWatch). */
  serverHeartbeatsPerCycle: number;
}

/**
 * Heartbeats leave no event. The server keeps the last one's time on the pending activity: the bench
 * reads it (DescribeWorkflowExecution, not an Action) every 500 ms and counts the distinct times per
 * activity. The SDK throttles heartbeats to one per 0.8 × heartbeat timeout (24 s here), so they
 * are far more than 500 ms apart; a heartbeat flushed in the last moments of a call may be missed.
 */
function heartbeatWatch(client: Client, ids: readonly string[]) {
  const seen = new Map<string, Set<string>>(); // `${workflowId}#${activityId}` -> heartbeat times
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      await Promise.all(
        ids.map(async (id) => {
          const description = await client.workflowService
            .describeWorkflowExecution({ namespace: client.options.namespace, execution: { workflowId: id } })
            .catch(() => null);
          for (const activity of description?.pendingActivities ?? []) {
            const time = activity.lastHeartbeatTime;
            if (!time) continue;
            const key = `${id}#${activity.activityId}`;
            const times = seen.get(key) ?? new Set<string>();
            times.add(`${String(time.seconds)}.${time.nanos ?? 0}`);
            seen.set(key, times);
          }
        }),
      );
      await delay(500);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
    },
    count: (workflowId: string, activityIds: string[]) => activityIds.reduce((n, a) => n + (seen.get(`${workflowId}#${a}`)?.size ?? 0), 0),
  };
}

/**
 * `continue_signal` once per cycle, after the cycle's call has completed (the simulator answered
 * and the server has no pending activity left), so each signal lands in the wait it is meant for.
 */
async function signalEachCycle(client: Client, sim: Simulator, workflowId: string, stop: AbortSignal): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  for (let k = 1; !stop.aborted; k++) {
    while (!stop.aborted && (requestsOf(sim, workflowId)[k - 1]?.status ?? null) === null) await delay(20);
    while (!stop.aborted && ((await handle.describe()).raw.pendingActivities?.length ?? 0) > 0) await delay(20);
    if (!stop.aborted) await handle.signal(continueSignal);
  }
}

export async function historyCostAt(
  bench: Bench,
  latencyMs: number,
  quietCycles: number,
): Promise<{ rows: CostRow[]; heartbeatCalls: number }> {
  // The loops read their trades (lineage on, the default) and the app answers lineage_not_found:
  // the reads are inside the cycle's one activity, so they add no event and no Action.
  const sim = await startSimulator({ host: HOST, port: 0, behaviour: { latency_ms: latencyMs, lineage_delay: 86_400 } });
  const taskQueue = loopId(bench, 'cost-tq', String(latencyMs));
  const worker = await BenchWorker.start(bench.address, taskQueue, bench.bundle);
  const kinds: Kind[] = ['ours auto', 'ours signal', 'control', 'seed-shaped'];
  const ids = kinds.map((kind) => loopId(bench, `cost${latencyMs}`, kind));
  const stopSignalling = new AbortController();
  const watch = heartbeatWatch(bench.client, ids);
  try {
    await Promise.all(kinds.map((kind, i) => startKind(bench, kind, taskQueue, ids[i] as string, sim.runUrl, BENCH_PING_INTERVAL_S)));
    const signalling = signalEachCycle(bench.client, sim, ids[1] as string, stopSignalling.signal).catch((err: unknown) => err);
    // The first cycle, the quiet ones, and the start of the next (which closes the last quiet one).
    const needed = quietCycles + 2;
    const timeoutMs = needed * (latencyMs + BENCH_PING_INTERVAL_S * 1000 + 2_000) + 30_000;
    await until(
      () => ids.every((id) => requestsOf(sim, id).length >= needed),
      timeoutMs,
      `stage 1 at ${latencyMs} ms: ${needed} cycles of each loop`,
      100,
    );
    stopSignalling.abort();
    await watch.stop();
    await terminateAll(bench.client, ids);
    const stats = await worker.stats();
    const signalError = await signalling;
    if (signalError instanceof Error) throw signalError;
    const all = await histories(bench.client, ids);
    const rows = kinds.map((kind, i): CostRow => {
      const events = all[i] ?? [];
      const costs: CycleCost[] = quietCycleCosts(events).slice(0, quietCycles);
      // The calls of the measured cycles: the 2nd to the (quietCycles + 1)-th callMtfRun.
      const callIds = events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callMtfRun')
        .slice(1, quietCycles + 1)
        .map((e) => e.activityTaskScheduledEventAttributes?.activityId ?? '');
      return {
        kind,
        latencyMs,
        cycles: costs.length,
        events: costs.map((c) => c.events),
        actions: costs.map((c) => c.actions),
        serverHeartbeatsPerCycle: costs.length ? watch.count(ids[i] as string, callIds) / costs.length : NaN,
      };
    });
    return { rows, heartbeatCalls: stats.heartbeatCalls };
  } finally {
    stopSignalling.abort();
    await watch.stop();
    await terminateAll(bench.client, ids);
    await worker.stop();
    await sim.close();
  }
}

export function historyCostRows(cost: CostRow[], heartbeatCalls: Record<string, number>): Row[] {
  const rows: Row[] = [];
  for (const latencyMs of [...new Set(cost.map((r) => r.latencyMs))]) {
    const at = cost.filter((r) => r.latencyMs === latencyMs);
    const ours = at.find((r) => r.kind === 'ours auto');
    const control = at.find((r) => r.kind === 'control');
    for (const r of at) {
      const quietFloor = r.kind === 'ours auto' || r.kind === 'control';
      const met = quietFloor ? r.events.length > 0 && r.events.every((e) => e === 11) && r.actions.every((a) => a === 2) : null;
      rows.push({
        stage: `1 history, call ${latencyMs / 1000} s`,
        figure: `${r.kind}: events / Actions per quiet cycle (+ heartbeats)`,
        value: `${costText(r.events)} / ${costText(r.actions)} (+ ${round(r.serverHeartbeatsPerCycle, 2)} hb) over ${r.cycles} cycles`,
        target: quietFloor ? '11 / 2' : r.kind === 'ours signal' ? '(reported)' : '(reference)',
        met,
      });
    }
    rows.push({
      stage: `1 history, call ${latencyMs / 1000} s`,
      figure: "heartbeat() calls in the worker (all 4 loops' calls; the SDK throttles what is sent)",
      value: String(heartbeatCalls[String(latencyMs)] ?? 'n/a'),
      target: '(reported)',
      met: null,
    });
    if (ours && control) {
      const same =
        JSON.stringify(ours.events) === JSON.stringify(control.events) && JSON.stringify(ours.actions) === JSON.stringify(control.actions);
      rows.push({
        stage: `1 history, call ${latencyMs / 1000} s`,
        figure: 'ours auto == control',
        value: same ? 'equal' : 'differ',
        target: 'equal',
        met: same,
      });
    }
  }
  return rows;
}
