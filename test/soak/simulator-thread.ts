/**
 * The soak's simulator, in a thread of its own. It keeps every request it received for the
 * reconciliation (about 2.7 KiB each, over 6,000 in the full soak): in its own V8 heap, that log
 * does not hide in the heap the soak samples, which is then the worker's (activities, the SDK's
 * JavaScript side, the client). The process's RSS still counts both.
 *
 * This file is both sides: `startSimulatorThread` (the soak's end) starts the thread on this same
 * file, where `parentPort` is set and the simulator runs.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startSimulator, type SimulatorBehaviour } from '../../src/simulator/server';

/** What the reconciliation needs of one run request. */
export interface LoggedRequest {
  seq: number;
  idempotency_key: string | null;
  /** The HTTP status answered; null if it never answered. */
  status: number | null;
  received_at: number;
}

type ToThread = { type: 'log' } | { type: 'close' };
type FromThread =
  | { type: 'ready'; runUrl: string }
  /** The Idempotency-Keys of run requests that arrived since the last such message. */
  | { type: 'keys'; keys: (string | null)[] }
  | { type: 'log'; requests: LoggedRequest[] }
  | { type: 'closed' };

export interface SimulatorThread {
  runUrl: string;
  /** Called with the keys of new run requests, in arrival order, as the simulator answers them. */
  onKeys(listener: (keys: (string | null)[]) => void): void;
  /** The run requests received so far. */
  runRequests(): Promise<LoggedRequest[]>;
  close(): Promise<void>;
}

export function startSimulatorThread(behaviour: Partial<SimulatorBehaviour>): Promise<SimulatorThread> {
  const thread = new Worker(__filename, { workerData: behaviour });
  let listener: (keys: (string | null)[]) => void = () => undefined;
  // The soak asks for the log once and closes once: one pending answer per kind is enough.
  const pending = new Map<FromThread['type'], { resolve: (message: FromThread) => void; reject: (err: Error) => void }>();
  let failure: Error | null = null;
  const ask = <T extends FromThread['type']>(message: ToThread, answer: T) =>
    new Promise<Extract<FromThread, { type: T }>>((resolve, reject) => {
      if (failure) return reject(failure);
      pending.set(answer, { resolve: (m) => resolve(m as Extract<FromThread, { type: T }>), reject });
      thread.postMessage(message);
    });

  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      failure = err;
      reject(err);
      for (const waiter of pending.values()) waiter.reject(err);
      pending.clear();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => {
      if (!failure && code !== 0) fail(new Error(`the simulator thread exited with code ${code}`));
    });
    thread.on('message', (message: FromThread) => {
      if (message.type === 'keys') return listener(message.keys);
      if (message.type === 'ready') {
        return resolve({
          runUrl: message.runUrl,
          onKeys: (l) => (listener = l),
          runRequests: async () => (await ask({ type: 'log' }, 'log')).requests,
          close: async () => {
            await ask({ type: 'close' }, 'closed');
            await thread.terminate();
          },
        });
      }
      pending.get(message.type)?.resolve(message);
      pending.delete(message.type);
    });
  });
}

async function runInThread(port: NonNullable<typeof parentPort>): Promise<void> {
  let cursor = 0;
  const follow: { requests?: () => readonly { path: string; method: string; idempotency_key: string | null }[] } = {};
  const sim = await startSimulator({
    behaviour: workerData as Partial<SimulatorBehaviour>,
    // Its log callback runs once per answer: the new run requests go to the soak from there,
    // without polling. (It is also called once while the simulator starts.)
    log: () => {
      const requests = follow.requests?.() ?? [];
      const keys: (string | null)[] = [];
      for (; cursor < requests.length; cursor++) {
        const r = requests[cursor];
        if (r && r.path === '/api/mtf/run') keys.push(r.idempotency_key);
      }
      if (keys.length > 0) port.postMessage({ type: 'keys', keys } satisfies FromThread);
    },
  });
  follow.requests = () => sim.requests;
  port.on('message', (message: ToThread) => {
    if (message.type === 'log') {
      const requests = sim
        .runRequests()
        .map(({ seq, idempotency_key, status, received_at }) => ({ seq, idempotency_key, status, received_at }));
      port.postMessage({ type: 'log', requests } satisfies FromThread);
    } else {
      void sim.close().then(() => port.postMessage({ type: 'closed' } satisfies FromThread));
    }
  });
  port.postMessage({ type: 'ready', runUrl: sim.runUrl } satisfies FromThread);
}

if (!isMainThread && parentPort) void runInThread(parentPort);
