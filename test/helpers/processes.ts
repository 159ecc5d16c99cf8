/**
 * Commands the tests run to their end, and waiting for a state. Free ports and processes followed
 * line by line (workers, CLIs), which the bench uses too, are in harness/processes.ts.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

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
