/**
 * `npm start` itself (dist/src/cli/dev.js): from a clean data folder it reaches finished cycles,
 * Ctrl-C leaves no process behind, and a second start resumes the same loop and its numbering.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

const devScript = join(__dirname, '..', 'src', 'cli', 'dev.js');
const dataDir = mkdtempSync(join(tmpdir(), 'mtf-dev-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** A free loopback port whose +1000 neighbour (the Web UI) is free too. */
async function freePortPair(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = await listenOnce(0);
    if (port + 1000 < 65536 && (await listenOnce(port + 1000).then(() => true, () => false))) return port;
  }
  throw new Error('no free port pair found');
}

async function listenOnce(port: number): Promise<number> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const { port: bound } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return bound;
}

interface DevRun {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the output once `pattern` has appeared in it `count` times. */
  waitFor(pattern: RegExp, count: number): Promise<string>;
}

function startDev(env: NodeJS.ProcessEnv): DevRun {
  const child = spawn(process.execPath, [devScript], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters: (() => void)[] = [];
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    waiters.forEach((w) => w());
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    child,
    output: () => text,
    waitFor: (pattern, count) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if ((text.match(new RegExp(pattern.source, 'gm')) ?? []).length >= count) resolve(text);
        };
        waiters.push(check);
        child.once('exit', (code) => reject(new Error(`npm start exited (${code}) before ${pattern}:\n${text}`)));
        check();
      }),
  };
}

async function interrupt(run: DevRun): Promise<number | null> {
  run.child.kill('SIGINT');
  const [code] = (await once(run.child, 'exit')) as [number | null];
  return code;
}

/** PIDs of processes whose command line mentions the data folder: the dev server it started. */
function serversUsing(folder: string): string[] {
  const found = spawnSync('pgrep', ['-f', folder], { encoding: 'utf8' });
  return found.stdout.split('\n').filter(Boolean);
}

describe('npm start (the embedded dev stack)', { timeout: 120_000 }, () => {
  test('runs cycles, stops cleanly on Ctrl-C, and resumes the same loop on the next start', async () => {
    const [temporalPort, simulatorPort] = [await freePortPair(), await listenOnce(0)];
    const env = {
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      MTF_DATA_DIR: dataDir,
      MTF_SIMULATOR_PORT: String(simulatorPort),
      MTF_PING_INTERVAL: '1',
      TASK_QUEUE_NAME: 'mtf-ping-pong-queue',
    };

    const first = startDev(env);
    const text = await first.waitFor(/^iteration \d+ +succeeded/, 2);
    assert.match(text, new RegExp(`Web UI +http://127\\.0\\.0\\.1:${temporalPort + 1000}`));
    assert.match(text, /Loop +mtf-ping-pong started/);
    assert.equal(await interrupt(first), 0, first.output());
    assert.deepEqual(serversUsing(dataDir), [], 'the dev server it started is gone');
    const lastIteration = Math.max(...[...first.output().matchAll(/^iteration (\d+)/gm)].map((m) => Number(m[1])));

    const second = startDev(env);
    const resumed = await second.waitFor(/^iteration \d+ +succeeded/, 1);
    assert.match(resumed, /attached to the running loop mtf-ping-pong: \d+ cycles so far/);
    const next = Number(/^iteration (\d+)/m.exec(resumed)?.[1]);
    assert.ok(next > lastIteration, `numbering goes on: ${next} after ${lastIteration}`);
    assert.equal(await interrupt(second), 0, second.output());
    assert.deepEqual(serversUsing(dataDir), []);
  });
});
