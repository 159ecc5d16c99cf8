/**
 * `npm start` itself (dist/src/cli/dev.js): from a clean data folder it reaches finished cycles,
 * Ctrl-C leaves no process behind, and a second start resumes the same loop and its numbering.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { temporalCliPath } from '../../src/toolchain/binaries';
import { devStackEnv, freePort } from '../../harness/processes';

const devScript = join(__dirname, '..', '..', 'src', 'cli', 'dev.js');
const cliScript = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
/** The example the README and the deployment docs apply (dist/test/server → the repository's root). */
const EXAMPLE_FLEET = join(__dirname, '..', '..', '..', 'examples', 'fleet.yaml');
const dataDir = mkdtempSync(join(tmpdir(), 'mtf-dev-'));
/** Every stack started: one a failed assertion left running is stopped as Ctrl-C would, so no process stays behind. */
const started: DevRun[] = [];
after(async () => {
  for (const run of started) if (run.child.exitCode === null && run.child.signalCode === null) await interrupt(run);
  rmSync(dataDir, { recursive: true, force: true });
});

interface DevRun {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the output once `pattern` has appeared in it `count` times. */
  waitFor(pattern: RegExp, count: number): Promise<string>;
}

function startDev(env: NodeJS.ProcessEnv): DevRun {
  const child = spawn(process.execPath, [devScript], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const run = { child } as DevRun;
  started.push(run);
  let text = '';
  const waiters: (() => void)[] = [];
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    waiters.forEach((w) => w());
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return Object.assign(run, {
    output: () => text,
    waitFor: (pattern: RegExp, count: number) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          if ((text.match(new RegExp(pattern.source, 'gm')) ?? []).length >= count) resolve(text);
        };
        waiters.push(check);
        child.once('exit', (code) => reject(new Error(`npm start exited (${code}) before ${pattern}:\n${text}`)));
        check();
      }),
  });
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
    const stackEnv = await devStackEnv(dataDir);
    const env = { ...stackEnv.env, MTF_PING_INTERVAL: '1' };
    const { temporal: temporalPort, metrics: metricsPort, health: healthPort, dashboard: dashboardPort } = stackEnv.ports;

    const first = startDev(env);
    const text = await first.waitFor(/^iteration \d+ +succeeded/, 2);
    assert.match(text, new RegExp(`Web UI +http://127\\.0\\.0\\.1:${temporalPort + 1000}`));
    assert.match(text, /Loop +mtf-ping-pong started/);
    // What a user of npm start can look at besides the cycle lines: metrics, readiness, the dashboard.
    assert.match(text, new RegExp(`Metrics +http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^mtf_loop_cycles\{.*outcome="succeeded".*workflow_id="mtf-ping-pong".*\} [1-9]/m);
    assert.equal((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${dashboardPort}/`)).status, 200);
    const described = spawnSync(
      temporalCliPath(),
      ['workflow', 'describe', '--workflow-id', 'mtf-ping-pong', '--address', `127.0.0.1:${temporalPort}`],
      { encoding: 'utf8' },
    );
    assert.match(described.stdout, /MtfLastOutcome/, 'npm start registered the search attributes and the loop carries them');
    assert.equal(await interrupt(first), 0, first.output());
    assert.deepEqual(serversUsing(dataDir), [], 'the dev server it started is gone');
    const lastIteration = Math.max(...[...first.output().matchAll(/^iteration (\d+)/gm)].map((m) => Number(m[1])));

    // The second start's simulator has contracts throw, as the app's sequential path answers them.
    const second = startDev({ ...env, MTF_SIMULATOR_THROW_SHARE: '0.3' });
    const resumed = await second.waitFor(/^iteration \d+ +succeeded/, 1);
    assert.match(resumed, /attached to the running loop mtf-ping-pong: \d+ cycles so far/);
    const next = Number(/^iteration (\d+)/m.exec(resumed)?.[1]);
    assert.ok(next > lastIteration, `numbering goes on: ${next} after ${lastIteration}`);
    const partial = await second.waitFor(/^iteration \d+ +partial/, 2);
    assert.match(
      partial,
      /^iteration \d+ +partial .* \(\d of 5 contracts threw(, none READY)?; first error: [A-Z]+USDT: Kline fetch failed/m,
      'a partial cycle says which contract threw',
    );
    assert.match(partial, /^iteration \d+ +partial .* ready [A-Z]+USDT \d+m (LONG|SHORT)/m, 'and what the others found');
    assert.doesNotMatch(second.output(), /FAILING|^iteration \d+ +failed/m, 'contracts that threw never make the loop fail');
    assert.equal(await interrupt(second), 0, second.output());
    assert.deepEqual(serversUsing(dataDir), []);
  });

  test('with MTF_FLEET_FILE it runs examples/fleet.yaml on the embedded stack, every loop calling the simulator', async () => {
    const fleetData = mkdtempSync(join(tmpdir(), 'mtf-dev-fleet-'));
    const stackEnv = await devStackEnv(fleetData);
    const env = { ...stackEnv.env, MTF_FLEET_FILE: EXAMPLE_FLEET };
    try {
      const dev = startDev(env);
      const text = await dev.waitFor(/^Ctrl-C stops the stack; the loops keep their state/, 1);
      assert.match(
        text,
        new RegExp(`Fleet +bitmart-prod, every loop calling http://127\\.0\\.0\\.1:${stackEnv.ports.simulator}/api/mtf/run`),
      );
      assert.match(text, /bitmart-scalper +started/);
      assert.match(text, /bitmart-regular +started/);
      assert.match(text, /applied: 2 started, 0 updated, 0 stopping, 0 unchanged/);
      const listed = spawnSync(
        process.execPath,
        [cliScript, 'list', '--fleet', 'bitmart-prod', '--json', '--address', env.TEMPORAL_ADDRESS],
        {
          encoding: 'utf8',
        },
      );
      const loops = JSON.parse(listed.stdout) as { workflow_id: string; group: string | null; dry_run: boolean }[];
      assert.deepEqual(loops.map((l) => [l.workflow_id, l.group, l.dry_run]).sort(), [
        ['bitmart-regular', 'bitmart', true],
        ['bitmart-scalper', 'bitmart', true],
      ]);
      assert.equal(await interrupt(dev), 0, dev.output());
      assert.deepEqual(serversUsing(fleetData), []);
    } finally {
      rmSync(fleetData, { recursive: true, force: true });
    }
  });

  test('an invalid MTF_FLEET_FILE: its problems in one message, before anything starts', async () => {
    const bad = startDev({ TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, MTF_DATA_DIR: dataDir, MTF_FLEET_FILE: devScript });
    const [code] = (await once(bad.child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(bad.output(), new RegExp(`invalid fleet file ${devScript}: nothing was applied`));
    assert.doesNotMatch(bad.output(), /starting a Temporal dev server/);
  });

  test('a simulator setting that is no share: one line, before anything starts', async () => {
    const bad = startDev({ TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, MTF_DATA_DIR: dataDir, MTF_SIMULATOR_THROW_SHARE: 'lots' });
    const [code] = (await once(bad.child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(bad.output(), /MTF_SIMULATOR_THROW_SHARE must be a share from 0 to 1, not "lots"/);
    assert.doesNotMatch(bad.output(), /starting a Temporal dev server/);
  });
});
