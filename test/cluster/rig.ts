/**
 * What every cluster test drives: the cluster (cluster.ts), the MTF simulator in this process, the
 * project's worker as processes (dist/src/worker/main.js, as a container runs it), the CLI as
 * processes, a client of our own for histories, and the reconciliation of a loop's counters with
 * the Idempotency-Keys the simulator received.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loopStatus } from '../../src/client/loops';
import type { LoopStatus } from '../../src/shared/status';
import { startSimulator, type Simulator, type SimulatorBehaviour } from '../../src/simulator/server';
import { requestsOf } from '../../harness/requests';
import { spawnNode, type Followed } from '../../harness/processes';
import { runToEnd, type Ran } from '../helpers/processes';
import { startCluster, type Cluster } from './cluster';

const DIST = join(__dirname, '..', '..');
export const CLI = join(DIST, 'src', 'cli', 'main.js');
const WORKER = join(DIST, 'src', 'worker', 'main.js');
/** Bounds one CLI run: a Node start and a few calls. */
const CLI_TIMEOUT_MS = 60_000;

export interface Rig {
  cluster: Cluster;
  sim: Simulator;
  client: Client;
  taskQueue: string;
  /** The env every worker and CLI process gets: the cluster's address, namespace and task queue. */
  env: NodeJS.ProcessEnv;
  /** Starts a worker process with this identity; resolves once it polls. */
  startWorker(identity: string): Promise<Followed>;
  /** Runs the CLI to its end. */
  cli(...args: string[]): Promise<Ran>;
  status(workflowId: string): Promise<LoopStatus>;
  close(): Promise<void>;
}

export async function startRig(options: { taskQueue: string; behaviour?: Partial<SimulatorBehaviour> }): Promise<Rig> {
  const [cluster, sim] = await Promise.all([startCluster(), startSimulator({ behaviour: options.behaviour ?? {} })]);
  const connection = await Connection.connect({ address: cluster.address });
  const client = new Client({ connection, namespace: cluster.namespace });
  const workers: Followed[] = [];
  const env: NodeJS.ProcessEnv = {
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: cluster.namespace,
    TASK_QUEUE_NAME: options.taskQueue,
    MTF_NOTIFY_URL: '',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    NO_COLOR: '1',
  };
  return {
    cluster,
    sim,
    client,
    taskQueue: options.taskQueue,
    env,
    async startWorker(identity) {
      const worker = spawnNode(WORKER, [], { ...env, WORKER_IDENTITY: identity, METRICS_ADDRESS: 'off', HEALTH_ADDRESS: 'off' });
      workers.push(worker);
      await worker.waitForLine((l) => l.includes('"worker started"'), `worker ${identity} to start`, 60_000);
      return worker;
    },
    cli: (...args) => runToEnd(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeoutMs: CLI_TIMEOUT_MS }),
    status: (workflowId) => loopStatus(client, workflowId),
    async close() {
      await Promise.all(workers.map((w) => w.stop('SIGKILL')));
      await connection.close();
      await Promise.all([cluster.close(), sim.close()]);
    },
  };
}

/** `<workflow id>/<first run id>/<iteration>` -> iteration. */
export function iterationOf(key: string): number {
  return Number(key.slice(key.lastIndexOf('/') + 1));
}

export interface Reconciled {
  /** Distinct iterations that reached the app. */
  iterations: number;
  /** Requests received, retries of one key included. */
  requests: number;
  /** Keys the app answered 2xx more than once: a cycle run twice. */
  duplicated: string[];
  /** Iterations missing between 1 and the last one seen: a cycle lost. */
  lost: number[];
}

/** What the simulator's log says of one loop's cycles. */
export function reconcile(sim: Simulator, workflowId: string): Reconciled {
  const sent = requestsOf(sim, workflowId);
  const answered = new Map<string, number>();
  for (const r of sent)
    if (r.status !== null && r.status < 300) answered.set(r.idempotency_key ?? '', (answered.get(r.idempotency_key ?? '') ?? 0) + 1);
  const seen = new Set(sent.map((r) => iterationOf(r.idempotency_key ?? '')));
  const last = Math.max(0, ...seen);
  const lost = Array.from({ length: last }, (_, i) => i + 1).filter((i) => !seen.has(i));
  return { iterations: seen.size, requests: sent.length, duplicated: [...answered].filter(([, n]) => n > 1).map(([k]) => k), lost };
}

/**
 * The loop's counters against the simulator's log: no cycle lost or run twice, one request per
 * cycle (no retry was needed), and every cycle the loop recorded is one the app answered.
 */
export function assertExact(status: LoopStatus, r: Reconciled, what: string): void {
  assert.deepEqual(r.duplicated, [], `${what}: no key answered twice`);
  assert.deepEqual(r.lost, [], `${what}: no iteration missing`);
  const c = status.counters;
  assert.equal(c.failed + c.timed_out, 0, `${what}: no cycle failed (${JSON.stringify(c)})`);
  assert.equal(c.succeeded, c.cycles, `${what}: every recorded cycle succeeded`);
  // The cycle in flight may have reached the app and not be recorded yet: at most one more.
  assert.ok(
    r.iterations === c.cycles || r.iterations === c.cycles + 1,
    `${what}: ${r.iterations} iterations reached the app, the loop recorded ${c.cycles}`,
  );
  assert.equal(r.requests, r.iterations, `${what}: one request per cycle, no retry`);
}
