/** The parent's side of a bench worker process (bench/worker.ts): start, stats, stop, all bounded in time. */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { within } from './tools';
import type { FromWorker, ToWorker, WorkerStats } from './worker';

const WORKER_START_TIMEOUT_MS = 60_000;
const WORKER_STOP_TIMEOUT_MS = 15_000;

export const cpuSeconds = (s: WorkerStats): number => (s.cpuUserUs + s.cpuSystemUs) / 1e6;

export class BenchWorker {
  /** The worker's effective tuning (SDK defaults unless createMtfWorker sets them), for the report. */
  static settingsSeen: Record<string, unknown> | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: Extract<FromWorker, { type: 'ready' }>,
    /** Fork to ready, as the parent saw it. */
    readonly spawnToReadyMs: number,
  ) {}

  static async start(address: string, taskQueue: string, bundle: string): Promise<BenchWorker> {
    const forkedAt = Date.now();
    const child = fork(join(__dirname, 'worker.js'), [], {
      env: { ...process.env, BENCH_ADDRESS: address, BENCH_TASK_QUEUE: taskQueue, BENCH_BUNDLE: bundle },
      // Its stderr is kept, not shown: terminating a stage's loops makes the SDK log a lost task or two.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
    const ready = new Promise<Extract<FromWorker, { type: 'ready' }>>((resolve, reject) => {
      child.on('message', (message: FromWorker) => {
        if (message.type === 'ready') resolve(message);
        if (message.type === 'failed') reject(new Error(`bench worker failed: ${message.message}`));
      });
      child.once('exit', (code) => reject(new Error(`bench worker exited (${code}) before it was ready: ${stderr}`)));
    });
    try {
      const message = await within(ready, WORKER_START_TIMEOUT_MS, 'bench worker start');
      BenchWorker.settingsSeen = message.settings;
      return new BenchWorker(child, message, Date.now() - forkedAt);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  stats(): Promise<WorkerStats> {
    const answer = new Promise<WorkerStats>((resolve) => {
      const onMessage = (message: FromWorker) => {
        if (message.type !== 'stats') return;
        this.child.off('message', onMessage);
        resolve(message);
      };
      this.child.on('message', onMessage);
    });
    this.child.send({ type: 'stats' } satisfies ToWorker);
    return within(answer, 10_000, 'worker stats');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    if (this.child.connected) this.child.send({ type: 'shutdown' } satisfies ToWorker);
    try {
      await within(exited, WORKER_STOP_TIMEOUT_MS, 'bench worker shutdown');
    } catch {
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}
