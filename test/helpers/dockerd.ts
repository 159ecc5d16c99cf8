/**
 * A Docker engine of the test's own: Debian's dockerd (scripts/docker-engine.mjs installs it) on a
 * private socket, its data root and exec root in a temporary folder, no iptables and no bridge
 * (containers use the host's network), ended by its PID. A system Docker, if any, is never touched.
 * Its client is the one the same package installs (/usr/bin/docker): it has BuildKit built in,
 * where a newer client found elsewhere on PATH has no buildx and refuses to build with BuildKit.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runToEnd, waitFor, type Ran } from './processes';

export const DOCKERD = '/usr/sbin/dockerd';
export const DOCKER = '/usr/bin/docker';

export interface Dockerd {
  /** `unix:///…/docker.sock`, for DOCKER_HOST. */
  host: string;
  /** Runs the package's client against this engine (BuildKit on), to its end. */
  docker(args: string[], options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<Ran>;
  /** SIGTERM to dockerd, its end awaited, its mounts gone, its folder removed. */
  stop(): Promise<void>;
}

export async function startDockerd(): Promise<Dockerd> {
  const dir = mkdtempSync(join(tmpdir(), 'mtf-dockerd-'));
  const socket = join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const child: ChildProcess = spawn(
    DOCKERD,
    [
      '--iptables=false',
      '--bridge=none',
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${join(dir, 'docker.pid')}`,
      `-H`,
      host,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const docker: Dockerd['docker'] = (args, options = {}) =>
    runToEnd(DOCKER, ['-H', host, ...args], {
      env: { ...process.env, DOCKER_BUILDKIT: '1', ...options.env },
      timeoutMs: options.timeoutMs ?? 60_000,
    });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    // What dockerd leaves mounted under its exec root (the default network namespace).
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((path) => path.startsWith(dir))
      .reverse();
    for (const path of mounts) spawnSync('umount', [path]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      () => docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 5_000 }),
      (ran) => ran.code === 0 || child.exitCode !== null,
      'dockerd to answer on its socket',
      60_000,
    );
    if (child.exitCode !== null) throw new Error(`dockerd exited (${child.exitCode}): ${log.trim().split('\n').at(-1) ?? ''}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, docker, stop };
}
