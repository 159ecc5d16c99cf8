/** Processes the tests start themselves (workers, CLIs), followed line by line, and free ports. */
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

/** Polls `read` until `check` accepts it, yielding between reads, for at most `timeoutMs`. */
export async function waitFor<S>(read: () => Promise<S>, check: (s: S) => boolean, what: string, timeoutMs = 30_000): Promise<S> {
  const deadline = Date.now() + timeoutMs;
  let last: S | undefined;
  let error: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (check(last)) return last;
    } catch (err) {
      error = err;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(last)}${error instanceof Error ? `; last error: ${error.message}` : ''}`,
  );
}

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, killed (SIGKILL) if it outlives `timeoutMs`; a non-zero exit is returned, not thrown. */
export async function runToEnd(command: string, args: string[], options: SpawnOptions & { timeoutMs: number }): Promise<Ran> {
  const { timeoutMs, ...spawnOptions } = options;
  const child = spawn(command, args, {
    ...spawnOptions,
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: AbortSignal.timeout(timeoutMs),
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // An abort (or a missing program) surfaces as an 'error' event before 'close': report it with the output.
  let failure: Error | undefined;
  child.on('error', (err) => (failure = err));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  if (failure && code === null) {
    throw new Error(`${command} ${args.join(' ')}: ${failure.message} (bound ${timeoutMs} ms)\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
  return { code, signal, stdout, stderr };
}

/** A finished command for an assertion message: its exit and its output. */
export function describeRun(ran: Ran, what?: string): string {
  return `${what === undefined ? '' : `${what}: `}exit ${ran.code ?? ran.signal}\nstdout: ${ran.stdout}\nstderr: ${ran.stderr}`;
}
