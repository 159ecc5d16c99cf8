/**
 * Free ports and processes followed line by line (workers, CLIs, servers): what the tests and the
 * bench both start. harness/ is neutral ground: it imports neither test/ nor bench/.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * Ports for a process to listen on later are picked below Linux's ephemeral range (32768–60999):
 * a port the kernel hands out for `listen(0)` or for an outgoing connection can be taken again by
 * any process between our check and the real listen (seen once in a full run: a worker's health
 * port, picked that way, was in use a few seconds later). Random in 10000–31000 (so its +1000
 * neighbour is below the range too), checked free, tried again when not.
 */
const PICK_FROM = 10_000;
const PICK_TO = 31_000;

async function listensOn(port: number): Promise<boolean> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (bound) await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}

/** A loopback port free now (`port`, when given, or one picked as above). */
export async function freePort(port = 0): Promise<number> {
  if (port !== 0) {
    if (await listensOn(port)) return port;
    throw new Error(`port ${port} is in use`);
  }
  for (let tries = 0; tries < 200; tries++) {
    const candidate = PICK_FROM + Math.floor(Math.random() * (PICK_TO - PICK_FROM));
    if (await listensOn(candidate)) return candidate;
  }
  throw new Error(`no free port found in ${PICK_FROM}–${PICK_TO}`);
}

/** A free port whose +1000 neighbour is free too: `start-dev` puts its Web UI there. */
export async function freePortPair(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = await freePort();
    if (
      port + 1000 < 65536 &&
      (await freePort(port + 1000).then(
        () => true,
        () => false,
      ))
    )
      return port;
  }
  throw new Error('no free port pair found');
}

/**
 * An `npm start` (dist/src/cli/dev.js) of its own: its dev server, simulator, metrics, health and
 * dashboard each on a free loopback port (`ports`), its state in `dataDir`, as its `env` says.
 */
export async function devStackEnv(
  dataDir: string,
): Promise<{ ports: Record<DevPort, number>; env: Record<string, string> & { TEMPORAL_ADDRESS: string } }> {
  const ports = {
    temporal: await freePortPair(),
    simulator: await freePort(),
    metrics: await freePort(),
    health: await freePort(),
    dashboard: await freePort(),
  };
  const env = {
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    MTF_DATA_DIR: dataDir,
    MTF_SIMULATOR_PORT: String(ports.simulator),
    METRICS_ADDRESS: `127.0.0.1:${ports.metrics}`,
    HEALTH_ADDRESS: `127.0.0.1:${ports.health}`,
    DASHBOARD_ADDRESS: `127.0.0.1:${ports.dashboard}`,
    TASK_QUEUE_NAME: 'mtf-ping-pong-queue',
  };
  return { ports, env };
}

type DevPort = 'temporal' | 'simulator' | 'metrics' | 'health' | 'dashboard';

export interface Followed {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /**
   * Resolves with the first line of `stream` (stdout by default) that `match` accepts; rejects when
   * the process ends or `timeoutMs` passes first.
   */
  waitForLine(match: (line: string) => boolean, what: string, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<string>;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `node script` with `env` on top of this process's environment, and follows its output. */
export function spawnNode(script: string, args: string[], env: NodeJS.ProcessEnv): Followed {
  return spawnFollowed(process.execPath, [script, ...args], env);
}

/**
 * Starts `command` (any program: Prometheus, Alertmanager, PostgreSQL) with `env` on top of this
 * process's environment, and follows its output; `options` can set its cwd, uid and gid.
 */
export function spawnFollowed(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: Pick<SpawnOptions, 'cwd' | 'uid' | 'gid'> = {},
): Followed {
  const child = spawn(command, args, { ...options, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    waitForLine(match, what, timeoutMs = 30_000, stream = 'stdout') {
      const source = stream === 'stdout' ? child.stdout : child.stderr;
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = (stream === 'stdout' ? out : err).split('\n').find((l) => l !== '' && match(l));
          if (line === undefined) return;
          done();
          resolve(line);
        };
        const fail = (why: string) => {
          done();
          reject(new Error(`${why} waiting for ${what}\nstdout: ${out}\nstderr: ${err}`));
        };
        const onExit = () => fail('the process exited');
        // A deadline, not a sleep: it only bounds how long a broken process can keep the test waiting.
        const deadline = AbortSignal.timeout(timeoutMs);
        const onDeadline = () => fail(`${timeoutMs} ms passed`);
        deadline.addEventListener('abort', onDeadline);
        const done = () => {
          deadline.removeEventListener('abort', onDeadline);
          source?.off('data', check);
          child.off('exit', onExit);
        };
        source?.on('data', check);
        child.on('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
