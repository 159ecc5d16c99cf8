/**
 * What the chaos campaign runs on: the production-shaped cluster of test:cluster (cluster.ts), the
 * simulator in this process as the trading app, toxiproxy on the worker ↔ app and worker ↔ frontend
 * links, two worker processes of this project polling one task queue through those links, and the
 * campaign's loops. Every process it starts is recorded (PIDs, when it started, when it was killed
 * or stalled) for the checker, and ended by close().
 */
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loopStatus, startLoop } from '../../src/client/loops';
import type { LoopConfigInput } from '../../src/shared/config';
import type { LoopStatus } from '../../src/shared/status';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { spawnNode, type Followed } from '../../harness/processes';
import { startCluster, type Cluster } from '../cluster/cluster';
import { startToxiproxy, type Toxiproxy } from './toxiproxy';

const WORKER = join(__dirname, '..', '..', 'src', 'worker', 'main.js');
export const TASK_QUEUE = 'chaos';
export const SLOTS = ['w1', 'w2'] as const;
export type Slot = (typeof SLOTS)[number];

/** One worker process, from its start to its end: the checker's record of who sent what, and when it could not read. */
export interface WorkerProcess {
  slot: Slot;
  /** `chaos-<slot>.<generation>`: its WORKER_IDENTITY, and so its requests' User-Agent. */
  identity: string;
  pid: number;
  startedAt: number;
  /** When it was killed (SIGKILL), or stopped at the end; null while it runs. */
  endedAt: number | null;
  /** SIGSTOP … SIGCONT windows. */
  stalls: Array<{ from: number; to: number | null }>;
  followed: Followed;
}

/** The loops of a campaign: what each is for, and its config (the app's URL is the proxy's). */
export interface LoopSpec {
  id: string;
  live: boolean;
  config: LoopConfigInput;
}

/**
 * Short timeouts, so a fault costs seconds, not minutes; a continue-as-new every 15 cycles, so the
 * campaign crosses many; no lineage or notification calls beside the run's.
 */
const COMMON: LoopConfigInput = {
  ping_interval: 1,
  activity_timeout: 8,
  max_execution_time: 40,
  max_attempts: 3,
  retry_initial_interval: 1,
  retry_max_interval: 4,
  poll_interval: 1,
  lineage: false,
  notify: false,
  max_cycles_per_run: 15,
};

export function loopSpecs(appUrl: string): LoopSpec[] {
  const base = { ...COMMON, mtf_url: `${appUrl}/api/mtf/run` };
  return [
    { id: 'chaos-dry-1', live: false, config: base },
    { id: 'chaos-dry-2', live: false, config: { ...base, symbols: ['BTCUSDT', 'ETHUSDT'] } },
    { id: 'chaos-signal', live: false, config: { ...base, continue_mode: 'signal' } },
    { id: 'chaos-aligned', live: false, config: { ...base, cadence: 'aligned', align_every: 10, align_offset: 0 } },
    { id: 'chaos-live', live: true, config: { ...base, dry_run: false, confirm_live: true, symbols: ['BTCUSDT'] } },
  ];
}

export interface World {
  cluster: Cluster;
  sim: Simulator;
  proxy: Toxiproxy;
  /** A client straight to the frontend (not through the proxy): the checker's view. */
  client: Client;
  loops: LoopSpec[];
  /** Every worker process started, in order. */
  processes: WorkerProcess[];
  current(slot: Slot): WorkerProcess | undefined;
  startWorker(slot: Slot): Promise<WorkerProcess>;
  killWorker(slot: Slot): Promise<void>;
  status(id: string): Promise<LoopStatus>;
  /** Every PID the world started and may have left: workers, services, PostgreSQL's postmaster, toxiproxy. */
  pids(): number[];
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const started = await Promise.allSettled([startCluster(), startSimulator({ behaviour: { latency_ms: 300 } }), startToxiproxy()] as const);
  const [clusterStart, simStart, proxyStart] = started;
  if (clusterStart.status === 'rejected' || simStart.status === 'rejected' || proxyStart.status === 'rejected') {
    // What did start is closed before the failure is thrown: nothing is left behind.
    await Promise.all([
      clusterStart.status === 'fulfilled' && clusterStart.value.close(),
      simStart.status === 'fulfilled' && simStart.value.close(),
      proxyStart.status === 'fulfilled' && proxyStart.value.close(),
    ]);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    throw failed?.reason instanceof Error ? failed.reason : new Error(String(failed?.reason));
  }
  const [cluster, sim, proxy] = [clusterStart.value, simStart.value, proxyStart.value];
  const pids = new Set<number>();
  const note = (pid: number | undefined) => pid !== undefined && pids.add(pid);
  note(proxy.process.child.pid);
  const appLink = await proxy.proxy('app', new URL(sim.baseUrl).host);
  const frontendLink = await proxy.proxy('frontend', cluster.address);
  const connection = await Connection.connect({ address: cluster.address });
  const client = new Client({ connection, namespace: cluster.namespace });
  const processes: WorkerProcess[] = [];
  const generations: Record<Slot, number> = { w1: 0, w2: 0 };
  const current = (slot: Slot) => [...processes].reverse().find((p) => p.slot === slot && p.endedAt === null);

  const world: World = {
    cluster,
    sim,
    proxy,
    client,
    loops: loopSpecs(`http://${appLink}`),
    processes,
    current,
    async startWorker(slot) {
      const identity = `chaos-${slot}.${++generations[slot]}`;
      const followed = spawnNode(WORKER, [], {
        TEMPORAL_ADDRESS: frontendLink,
        TEMPORAL_NAMESPACE: cluster.namespace,
        TASK_QUEUE_NAME: TASK_QUEUE,
        WORKER_IDENTITY: identity,
        MTF_NOTIFY_URL: '',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
        METRICS_ADDRESS: 'off',
        HEALTH_ADDRESS: 'off',
      });
      const record: WorkerProcess = {
        slot,
        identity,
        pid: followed.child.pid ?? -1,
        startedAt: Date.now(),
        endedAt: null,
        stalls: [],
        followed,
      };
      note(followed.child.pid);
      processes.push(record);
      void followed.exited.then(() => (record.endedAt ??= Date.now()));
      await followed.waitForLine((l) => l.includes('"worker started"'), `worker ${identity} to start`, 90_000);
      return record;
    },
    async killWorker(slot) {
      const running = current(slot);
      if (!running) return;
      running.endedAt = Date.now();
      await running.followed.stop('SIGKILL');
    },
    status: (id) => loopStatus(client, id),
    pids: () => {
      for (const service of ['frontend', 'history', 'matching', 'worker'] as const) note(cluster.pid(service));
      return [...pids];
    },
    async close() {
      for (const p of processes) if (p.endedAt === null) p.endedAt = Date.now();
      await Promise.all(processes.map((p) => p.followed.stop('SIGKILL')));
      await connection.close();
      await Promise.all([cluster.close(), sim.close(), proxy.close()]);
    },
  };
  try {
    await Promise.all(SLOTS.map((slot) => world.startWorker(slot)));
    for (const loop of world.loops) await startLoop(client, { taskQueue: TASK_QUEUE, workflowId: loop.id, config: loop.config });
  } catch (err) {
    await world.close();
    throw err;
  }
  return world;
}
