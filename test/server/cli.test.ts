/**
 * The `mtf-ping-pong` binary end to end: the real dist/src/cli/main.js in its own process, against
 * one real `temporal server start-dev`, the simulator over loopback, and a worker in this process.
 * The stock `temporal` CLI drives the same loop, to show both speak the same wire names.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { lineagePrefix } from '../../src/lib/run-id';
import { WORKFLOW_TYPE } from '../../src/shared/messages';
import type { LoopConfig } from '../../src/shared/config';
import type { LoopStatus } from '../../src/shared/status';
import { ACTIVE_CONTRACTS } from '../../src/simulator/server';
import { temporalCliPath } from '../../src/toolchain/binaries';
import { createMtfWorker } from '../../src/worker/worker';
import { Worker as PlainWorker } from '@temporalio/worker';
import { pollUntil } from '../helpers/loop-harness';
import { freePort } from '../../harness/processes';
import { uniqueId } from '../helpers/temporal';
import { useDevStack } from '../helpers/dev-stack';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
/** One CLI call is a node start plus a few RPCs; a hung call fails the test instead of the run. */
const CALL_TIMEOUT_MS = 20_000;
/** Polls of the CLI: each try awaits a whole process, so 40 of them bound a wait to ~20-40 s. */
const POLL_TRIES = 40;

let worker: Worker;
let workerDone: Promise<void>;
let closedPort: number;
/** Long-running commands still alive when a test fails: the dev stack's beforeClose ends them. */
const spawned = new Set<ChildProcess>();
const taskQueue = uniqueId('cli-tq');
const scratch = mkdtempSync(join(tmpdir(), 'mtf-cli-'));
const stack = useDevStack({
  started: async () => {
    closedPort = await freePort();
    worker = await createMtfWorker({
      connection: stack.env.nativeConnection,
      namespace: stack.env.namespace ?? 'default',
      taskQueue,
      identity: 'cli-test-worker',
      activities: createActivities(),
      stickyQueueScheduleToStartTimeoutMs: 1_000,
    });
    workerDone = worker.run();
  },
  beforeClose: async () => {
    for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await workerDone;
  },
});

after(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: stack.env.address,
    TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
    TASK_QUEUE_NAME: taskQueue,
    MTF_URL: '',
    ...extraEnv,
  };
  return new Promise((resolve) => {
    execFile(file, args, { env: childEnv, timeout: CALL_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The real binary, as `npm install -g` would run it. */
function cli(...args: string[]): Promise<Run> {
  return run(process.execPath, [CLI, ...args]);
}

interface Running {
  child: ChildProcess;
  /** Resolves with the first match of `pattern` in stdout; rejects if the process ends or 20 s pass first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** The exit code, once it exits by itself. */
  exited: Promise<number | null>;
}

/** A long-running command (worker, simulator, --wait, --watch), followed through its stdout. */
function spawnCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, TEMPORAL_ADDRESS: stack.env.address, TASK_QUEUE_NAME: taskQueue, MTF_URL: '', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    exited,
    async waitFor(pattern) {
      const deadline = Date.now() + CALL_TIMEOUT_MS;
      for (;;) {
        const match = pattern.exec(stdout);
        if (match) return match;
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(
            `no ${pattern} from mtf-ping-pong ${args.join(' ')} (exit ${child.exitCode})\nstdout: ${stdout}\nstderr: ${stderr}`,
          );
        }
        await Promise.race([once(child.stdout ?? child, 'data'), exited, delay(500)]);
      }
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

function temporal(...args: string[]): Promise<Run> {
  return run(temporalCliPath(), [...args, '--address', stack.env.address, '--namespace', stack.env.namespace ?? 'default']);
}

/**
 * Starts a loop with the stock CLI, which skips our client's checks (so what a config lacks is
 * refused by the workflow itself), and answers `temporal workflow result` for it.
 */
async function stockStartAndResult(workflowId: string, input: string): Promise<Run> {
  const start = ['workflow', 'start', '--type', 'MtfPingPongWorkflow', '--task-queue', taskQueue, '--workflow-id', workflowId];
  expectCode(await temporal(...start, '--input', input), 0, 'temporal workflow start');
  return temporal('workflow', 'result', '--workflow-id', workflowId);
}

function expectCode(result: Run, code: number, what: string): void {
  assert.equal(result.code, code, `${what}: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
}

async function statusJson(id: string): Promise<LoopStatus> {
  const result = await cli('status', id, '--json');
  expectCode(result, 0, 'status --json');
  return JSON.parse(result.stdout) as LoopStatus;
}

/** The run requests the simulator received from one loop (its Idempotency-Keys start with its ID). */
function runRequestsOf(id: string) {
  return stack.sim.runRequests().filter((r) => r.idempotency_key?.startsWith(`${id}/`));
}

/** The config a loop runs with from its next cycle on: an accepted update waits in pending_config until then. */
function effectiveConfig(status: LoopStatus): LoopConfig {
  return status.pending_config ?? status.config;
}

describe('mtf-ping-pong CLI', () => {
  test('--help documents the exit codes, and every command has examples', async () => {
    const commands = [
      'worker',
      'simulator',
      'dev',
      'start',
      'stop',
      'cancel',
      'continue',
      'pause',
      'resume',
      'status',
      'list',
      'update',
      'health',
    ];
    const [main, ...each] = await Promise.all([cli('--help'), ...commands.map((name) => cli(name, '--help'))]);
    assert.ok(main);
    expectCode(main, 0, '--help');
    for (const line of ['3  Temporal unreachable', '4  no loop with that ID', '5  the loop is already running'])
      assert.ok(main.stdout.includes(line), line);
    each.forEach((result, i) => {
      expectCode(result, 0, `${commands[i]} --help`);
      assert.match(result.stdout, /Examples:\n {2}\$ mtf-ping-pong/, `${commands[i]} --help has examples`);
      if (!['simulator'].includes(commands[i] ?? '')) assert.match(result.stdout, /--address/, `${commands[i]} takes --address`);
    });
    expectCode(await cli('start', '--mode', 'sometimes'), 2, 'a bad flag value is a usage error');
  });

  test('start -> cycles -> status -> update -> continue -> stop, with the stock temporal CLI on the same loop', async () => {
    const id = uniqueId('cli-loop');
    const started = await cli('start', '--id', id, '--url', stack.sim.runUrl, '--interval', '1s', '--symbols', 'BTCUSDT,ETHUSDT');
    expectCode(started, 0, 'start');
    assert.match(started.stdout, new RegExp(`started loop ${id} .* on task queue ${taskQueue}`));

    const duplicate = await cli('start', '--id', id, '--url', stack.sim.runUrl);
    expectCode(duplicate, 5, 'a second start of a running ID');
    assert.match(duplicate.stderr, new RegExp(`loop "${id}" is already running.*mtf-ping-pong stop ${id}`));

    const running = await pollUntil(
      () => statusJson(id),
      (s) => s.current_iteration >= 1 && s.counters.cycles >= 1,
      'a finished cycle',
      POLL_TRIES,
    );
    assert.equal(running.is_running, true);
    assert.equal(running.config.mtf_url, stack.sim.runUrl);
    assert.deepEqual(running.config.symbols, ['BTCUSDT', 'ETHUSDT']);

    const human = await cli('status', id);
    expectCode(human, 0, 'status');
    const iteration = /^ {2}iteration +(\d+)$/m.exec(human.stdout);
    assert.ok(iteration?.[1] && Number(iteration[1]) >= running.current_iteration, human.stdout);
    assert.match(human.stdout, new RegExp(`loop ${id}: running`));
    assert.match(human.stdout, /success rate +100%/);
    const prefix = lineagePrefix(id, running.first_run_id ?? '');
    assert.match(
      human.stdout,
      new RegExp(`^ {2}run ids +${prefix.replace('.', '\\.')}\\.<iteration> \\(X-Run-Id\\)$`, 'm'),
      "status names the loop's X-Run-Id prefix",
    );

    const updated = await cli('update', id, '--interval', '2s');
    expectCode(updated, 0, 'update --interval 2s');
    assert.match(updated.stdout, /every 2 s/);
    assert.equal(effectiveConfig(await statusJson(id)).ping_interval, 2, 'the new interval is visible in status');

    const before = effectiveConfig(await statusJson(id));
    const refused = await cli('update', id, '--interval', '0');
    expectCode(refused, 2, 'update --interval 0');
    assert.match(refused.stderr, /ping_interval: must be greater than 0/);
    assert.deepEqual(effectiveConfig(await statusJson(id)), before, 'a refused update changes nothing');

    // The stock CLI: the same query, signal and update names; the validator refuses a live switch from it too.
    const query = await temporal('workflow', 'query', '--workflow-id', id, '--type', 'get_status');
    expectCode(query, 0, 'temporal workflow query');
    assert.match(query.stdout, new RegExp(`"workflow_id":"${id}"`));
    expectCode(await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'continue_signal'), 0, 'temporal workflow signal');
    const live = await temporal(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      id,
      '--name',
      'update_config',
      '--input',
      '{"dry_run": false}',
    );
    assert.notEqual(live.code, 0, 'the validator refuses dry_run: false without confirm_live');
    assert.match(live.stdout + live.stderr, /confirm_live: true/);
    assert.equal((await statusJson(id)).config.dry_run, true);

    const continued = await cli('continue', id);
    expectCode(continued, 0, 'continue');
    assert.match(continued.stdout, new RegExp(`continue_signal sent to loop ${id}`));

    const listed = await pollUntil(
      async () => {
        const result = await cli('list', '--json');
        expectCode(result, 0, 'list --json');
        return JSON.parse(result.stdout) as {
          workflow_id: string;
          status: string;
          iteration: number | null;
          run_id_prefix: string | null;
        }[];
      },
      (loops) => loops.some((l) => l.workflow_id === id && l.status === 'RUNNING'),
      'the loop to appear in list',
      POLL_TRIES,
    );
    assert.ok((listed.find((l) => l.workflow_id === id)?.iteration ?? 0) >= 1, 'list shows the iteration');
    assert.equal(listed.find((l) => l.workflow_id === id)?.run_id_prefix, prefix, 'list shows the X-Run-Id prefix');
    const table = await cli('list');
    expectCode(table, 0, 'list');
    assert.match(table.stdout, /RUN IDS/);
    assert.ok(
      table.stdout.split('\n').some((line) => line.startsWith(id) && line.includes(prefix)),
      table.stdout,
    );

    // The loop's search attributes: its first outcome was upserted, and the filters find it by them.
    const bySearch = await pollUntil(
      async () => {
        const result = await cli('list', '--outcome', 'succeeded', '--state', 'running', '--dry-run', '--json');
        expectCode(result, 0, 'list --outcome succeeded --state running --dry-run');
        return JSON.parse(result.stdout) as { workflow_id: string; loop_state: string; last_outcome: string; dry_run: boolean }[];
      },
      (loops) => loops.some((l) => l.workflow_id === id),
      'the loop to be found by its search attributes',
      POLL_TRIES,
    );
    assert.deepEqual(
      bySearch.filter((l) => l.workflow_id === id).map(({ loop_state, last_outcome, dry_run }) => ({ loop_state, last_outcome, dry_run })),
      [{ loop_state: 'running', last_outcome: 'succeeded', dry_run: true }],
    );
    const failing = await cli('list', '--state', 'failing', '--json');
    expectCode(failing, 0, 'list --state failing');
    assert.ok(
      !(JSON.parse(failing.stdout) as { workflow_id: string }[]).some((l) => l.workflow_id === id),
      'a succeeding loop is not listed as failing',
    );
    const liveOnly = await cli('list', '--live', '--json');
    assert.ok(
      !(JSON.parse(liveOnly.stdout) as { workflow_id: string }[]).some((l) => l.workflow_id === id),
      'a dry-run loop is not listed as live',
    );

    const stopped = await cli('stop', id, '--reason', 'cli test');
    expectCode(stopped, 0, 'stop');
    assert.match(stopped.stdout, new RegExp(`loop ${id} stopped \\(cli test\\)`));
    const cycles = /^ {2}counters +(\d+) cycles: \1 succeeded/m.exec(stopped.stdout);
    assert.ok(cycles?.[1] && Number(cycles[1]) >= 1, `the summary counts the cycles:\n${stopped.stdout}`);
    const final = await statusJson(id);
    assert.equal(final.is_running, false);
    assert.equal(final.stop_reason, 'cli test');
  });

  test('an unknown ID exits 4; a Temporal that does not answer exits 3', async () => {
    const closed = `127.0.0.1:${closedPort}`;
    const [unknown, stopUnknown, unreachableStatus, unreachableStart] = await Promise.all([
      cli('status', 'no-such-loop'),
      cli('stop', 'no-such-loop', '--no-wait'),
      cli('status', '--address', closed),
      cli('start', '--address', closed),
    ]);
    for (const [result, what] of [
      [unknown, 'status'],
      [stopUnknown, 'stop'],
    ] as const) {
      expectCode(result, 4, `${what} of an unknown ID`);
      assert.equal(result.stderr.trim(), 'mtf-ping-pong: no loop with ID no-such-loop');
    }
    for (const result of [unreachableStatus, unreachableStart]) {
      expectCode(result, 3, '--address of a closed port');
      assert.match(result.stderr, new RegExp(`^mtf-ping-pong: cannot reach Temporal at ${closed} \\(namespace default\\): .*ECONNREFUSED`));
      assert.equal(result.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
    }
  });

  test('status of a loop whose only poller took its task and never answers: the poller is named, the server is not blamed (exit 1)', async () => {
    const queue = uniqueId('stuck-tq');
    const id = uniqueId('stuck');
    // Its workflow tasks time out after 60 s, not the default 10 s: the status query's 10 s deadline
    // passes first, whatever the machine's load.
    await stack.env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: queue,
      workflowId: id,
      args: [{ mtf_url: stack.sim.runUrl }],
      workflowTaskTimeout: '60s',
    });
    try {
      // A poller that takes the loop's first workflow task and never completes it: a worker stuck mid-task.
      const task = await stack.env.client.connection.withDeadline(Date.now() + CALL_TIMEOUT_MS, () =>
        stack.env.client.workflowService.pollWorkflowTaskQueue({
          namespace: stack.env.namespace ?? 'default',
          taskQueue: { name: queue },
          identity: 'stuck-poller',
        }),
      );
      assert.equal(task.workflowExecution?.workflowId, id);
      const status = await run(process.execPath, [CLI, 'status', id], { TASK_QUEUE_NAME: queue });
      expectCode(status, 1, 'status of a loop a stuck poller holds');
      assert.match(
        status.stderr,
        new RegExp(
          `loop ${id} did not answer get_status within 10s: the server answered and 1 worker\\(s\\) poll its task queue ${queue} \\(stuck-poller, last poll \\d+s ago\\), yet none answered`,
        ),
      );
    } finally {
      await stack.env.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    }
  });

  test('health: exit 0 when Temporal and the app answer, 1 when either does not', async () => {
    const closedUrl = `http://127.0.0.1:${closedPort}/api/mtf/run`;
    const [healthy, elsewhere, appDown, temporalDown, temporalOnly] = await Promise.all([
      cli('health', '--url', stack.sim.runUrl),
      cli('health', '--url', stack.sim.runUrl, '--health-url', `${stack.sim.baseUrl}/api/mtf/status`),
      cli('health', '--url', closedUrl),
      cli('health', '--temporal-only', '--address', `127.0.0.1:${closedPort}`),
      cli('health', '--temporal-only', '--url', closedUrl),
    ]);
    expectCode(healthy, 0, 'health');
    assert.match(
      healthy.stdout,
      /^temporal +ok .*\nmtf +ok +http:\/\/127\.0\.0\.1:\d+\/health \(HTTP 200, via worker .+\)\n$/,
      "today's app answers /health on the run URL's origin",
    );
    expectCode(elsewhere, 0, 'health --health-url');
    assert.match(
      elsewhere.stdout,
      /\nmtf +ok +http:\/\/127\.0\.0\.1:\d+\/api\/mtf\/status \(HTTP 200, via worker .+\)\n$/,
      'the health URL given, alone',
    );
    expectCode(appDown, 1, 'health with the app down');
    assert.match(appDown.stdout, /^temporal +ok .*\nmtf +FAIL +/);
    expectCode(temporalDown, 1, 'health --temporal-only with Temporal down');
    assert.match(
      temporalDown.stdout,
      /^temporal +FAIL +cannot reach Temporal at 127\.0\.0\.1:\d+ \(namespace default\): .*ECONNREFUSED.*\n$/,
    );
    expectCode(temporalOnly, 0, '--temporal-only ignores the app');
  });

  test('live mode needs --live: a live config file without it is refused; with it, a warning names the URL', async () => {
    const file = join(scratch, 'live.json');
    writeFileSync(file, JSON.stringify({ dry_run: false, ping_interval: 60 }));
    const id = uniqueId('cli-live');

    const refused = await cli('start', '--id', id, '--config', file, '--url', stack.sim.runUrl);
    expectCode(refused, 2, 'a live config file without --live');
    assert.match(refused.stderr, /dry_run: false.*pass --live/);
    expectCode(await cli('status', id), 4, 'nothing was started');

    const live = await cli('start', '--id', id, '--config', file, '--url', stack.sim.runUrl, '--live');
    expectCode(live, 0, 'start --live');
    assert.match(live.stderr, new RegExp(`warning: LIVE: loop ${id} sends dry_run: false to ${stack.sim.runUrl}.*mtf_idempotent: false`));
    const status = await pollUntil(
      () => statusJson(id),
      (s) => s.counters.cycles >= 1,
      'the live cycle',
      POLL_TRIES,
    );
    assert.equal(status.config.dry_run, false);
    assert.equal(status.config.confirm_live, true);

    const cancelled = await cli('cancel', id);
    expectCode(cancelled, 0, 'cancel');
    await pollUntil(
      () => statusJson(id),
      (s) => !s.is_running,
      'the loop to end',
      POLL_TRIES,
    );

    // The same wall from the stock CLI, which skips our client's checks: the workflow refuses it itself.
    const stockId = uniqueId('stock-live');
    const input = JSON.stringify({ dry_run: false, mtf_url: stack.sim.runUrl });
    const result = await stockStartAndResult(stockId, input);
    assert.notEqual(result.code, 0, 'the live start without confirm_live fails');
    assert.match(result.stdout + result.stderr, /dry_run: .*confirm_live: true/);
    assert.ok(!stack.sim.runRequests().some((r) => r.idempotency_key?.startsWith(`${stockId}/`)), 'and never reached the app');
  });

  test("--symbols all runs the app's active contracts; live on them needs --confirm-all-symbols, from our CLI, the stock CLI and update", async () => {
    const id = uniqueId('cli-all');
    const started = await cli('start', '--id', id, '--symbols', 'all', '--url', stack.sim.runUrl);
    expectCode(started, 0, 'start --symbols all');
    const status = await pollUntil(
      () => statusJson(id),
      (s) => s.counters.cycles >= 1,
      'the first cycle',
      POLL_TRIES,
    );
    assert.deepEqual(status.config.symbols, []);
    const post = stack.sim.runRequests().find((r) => r.idempotency_key?.startsWith(`${id}/`));
    assert.deepEqual((post?.body as { symbols?: unknown } | undefined)?.symbols, [], 'the POST names no symbol');
    assert.equal(status.last_cycle?.symbols_requested, ACTIVE_CONTRACTS.length, 'the app ran its own active contracts');
    const text = await cli('status', id);
    assert.match(text.stdout, /config .*dry run, all active contracts \(the app's own list\) -> /);

    // Going live on every contract: the update must say --confirm-all-symbols itself.
    const refused = await cli('update', id, '--live');
    expectCode(refused, 2, 'update --live on all contracts');
    assert.match(refused.stderr, /symbols: .*confirm_all_symbols: true/);
    const confirmed = await cli('update', id, '--live', '--confirm-all-symbols');
    expectCode(confirmed, 0, 'update --live --confirm-all-symbols');
    assert.match(confirmed.stderr, /warning: LIVE: .*on EVERY active contract of the app/);
    expectCode(await cli('cancel', id), 0, 'cancel');

    const emptied = await cli('start', '--id', uniqueId('cli-all-empty'), '--symbols', ' , ', '--url', stack.sim.runUrl);
    expectCode(emptied, 2, 'a --symbols list that comes out empty');
    assert.match(emptied.stderr, /--symbols.*must name at least one symbol, or all for the app's own active contracts/);

    const liveId = uniqueId('cli-all-live');
    const unconfirmed = await cli('start', '--id', liveId, '--symbols', 'all', '--url', stack.sim.runUrl, '--live');
    expectCode(unconfirmed, 2, 'start --symbols all --live');
    assert.match(
      unconfirmed.stderr,
      /symbols: an empty list means every active contract of the app, present and future; a live loop needs confirm_all_symbols: true/,
    );
    expectCode(await cli('status', liveId), 4, 'nothing was started');

    // The stock CLI skips our client's checks: the workflow refuses it itself, before any POST.
    const stockId = uniqueId('stock-all-live');
    const input = JSON.stringify({ symbols: [], dry_run: false, confirm_live: true, mtf_url: stack.sim.runUrl });
    const result = await stockStartAndResult(stockId, input);
    assert.notEqual(result.code, 0, 'the live start on all contracts without confirm_all_symbols fails');
    assert.match(result.stdout + result.stderr, /confirm_all_symbols: true/);
    assert.ok(!stack.sim.runRequests().some((r) => r.idempotency_key?.startsWith(`${stockId}/`)), 'and never reached the app');
  });

  test("--param sends the app's own request fields (request_extra), from flags, a file and the env; a field the loop owns is refused, naming it", async () => {
    const id = uniqueId('cli-param');
    const started = await cli(
      'start',
      '--id',
      id,
      '--url',
      stack.sim.runUrl,
      '--param',
      'mtf_profile=scalper',
      '--param',
      'sync_tables=false',
      '--param',
      'limits={"per_tf":3}',
      '--param',
      'note=a=b',
    );
    expectCode(started, 0, 'start --param');
    const status = await pollUntil(
      () => statusJson(id),
      (s) => s.counters.cycles >= 1,
      'the first cycle',
      POLL_TRIES,
    );
    const extra = { mtf_profile: 'scalper', sync_tables: false, limits: { per_tf: 3 }, note: 'a=b' };
    assert.deepEqual(status.config.request_extra, extra);
    const body = stack.sim.runRequests().find((r) => r.idempotency_key?.startsWith(`${id}/`))?.body as Record<string, unknown> | undefined;
    assert.deepEqual(
      { mtf_profile: body?.mtf_profile, sync_tables: body?.sync_tables, limits: body?.limits, note: body?.note },
      extra,
      'the POST carries them as they are',
    );
    assert.deepEqual(body?.symbols, status.config.symbols, "beside the seed's fields");
    assert.match(
      (await cli('status', id)).stdout,
      /request extra {2}\{"mtf_profile":"scalper","sync_tables":false,"limits":\{"per_tf":3\},"note":"a=b"\}/,
    );
    const updated = await cli('update', id, '--param', 'mtf_profile=regular');
    expectCode(updated, 0, 'update --param');
    assert.deepEqual(
      (await statusJson(id)).pending_config?.request_extra,
      { mtf_profile: 'regular' },
      'an update sets request_extra as a whole',
    );
    expectCode(await cli('cancel', id), 0, 'cancel');

    const owned = await cli('start', '--id', uniqueId('cli-param-owned'), '--url', stack.sim.runUrl, '--param', 'workers=4');
    expectCode(owned, 2, 'a field the schema owns');
    assert.match(
      owned.stderr,
      /request_extra \(--param\): must not carry workers is a config key of its own: set workers instead|request_extra: must not carry workers is a config key of its own: set workers instead/,
    );
    const bad = await cli('start', '--id', uniqueId('cli-param-bad'), '--url', stack.sim.runUrl, '--param', 'scalper');
    expectCode(bad, 2, '--param without =');
    assert.match(bad.stderr, /--param.*must be key=value, like mtf_profile=scalper/);
    const file = join(scratch, 'extra.json');
    writeFileSync(file, JSON.stringify({ request_extra: { run_id: 'mine' } }));
    const lineage = await cli('start', '--id', uniqueId('cli-param-file'), '--url', stack.sim.runUrl, '--config', file);
    expectCode(lineage, 2, 'a lineage field in the file');
    assert.match(lineage.stderr, /run_id is the run's lineage, which the loop owns through its X-Run-Id header/);
    const live = await cli(
      'start',
      '--id',
      uniqueId('cli-param-env'),
      '--url',
      stack.sim.runUrl,
      '--live',
      '--param',
      'skip_open_state_filter=true',
    );
    expectCode(live, 2, 'a safety net off on a live loop');
    assert.match(live.stderr, /skip_open_state_filter: true switches off one of the app's own safety nets; a live loop must not send it/);
  });

  test('start --wait prints each cycle and the summary; status --watch refreshes until Ctrl-C', async () => {
    const id = uniqueId('cli-wait');
    const waiting = spawnCli(['start', '--id', id, '--url', stack.sim.runUrl, '--interval', '1s', '--wait']);
    await waiting.waitFor(/^iteration \d+ +succeeded/m);

    const watching = spawnCli(['status', id, '--watch', '--json']);
    // One JSON object per refresh: two of them show it refreshes.
    const two = await watching.waitFor(/^\{.*\}\n\{.*\}$/m);
    assert.equal((JSON.parse(two[0].split('\n')[0] ?? '') as LoopStatus).workflow_id, id);
    assert.equal(await watching.stop('SIGINT'), 0, 'Ctrl-C ends --watch cleanly');

    expectCode(await cli('stop', id, '--no-wait'), 0, 'stop --no-wait');
    await waiting.waitFor(new RegExp(`^loop ${id} stopped\n {2}iterations +\\d+`, 'm'));
    assert.equal(await waiting.exited, 0, 'start --wait exits 0 when the loop stops');
  });

  test('the worker and simulator commands run a loop on their own, and stop on SIGINT', async () => {
    const queue = uniqueId('cli-own-tq');
    const simulator = spawnCli(['simulator', '--port', '0', '--latency', '50ms']);
    // Metrics and probes off: the default ports belong to whoever runs the suite.
    const worker = spawnCli(['worker'], { TASK_QUEUE_NAME: queue, METRICS_ADDRESS: 'off', HEALTH_ADDRESS: 'off' });
    try {
      const [, runUrl] = await simulator.waitFor(/run URL (http:\/\/\S+);/);
      assert.ok(runUrl);
      await worker.waitFor(new RegExp(`worker polling ${queue}`));
      const id = uniqueId('cli-own');
      const started = await run(process.execPath, [CLI, 'start', '--id', id, '--url', runUrl, '--interval', '1s'], {
        TASK_QUEUE_NAME: queue,
      });
      expectCode(started, 0, 'start on the queue of the worker command');
      await pollUntil(
        () => statusJson(id),
        (s) => s.counters.succeeded >= 1,
        'a cycle through the simulator command',
        POLL_TRIES,
      );
      await simulator.waitFor(/POST \/api\/mtf\/run #1 -> 200/);
      expectCode(await cli('stop', id), 0, 'stop');
    } finally {
      assert.equal(await worker.stop('SIGINT'), 0, 'the worker shuts down cleanly');
      assert.equal(await simulator.stop('SIGINT'), 0, 'the simulator shuts down cleanly');
    }
  });

  test('start --align 5s --offset 1s starts each cycle 1 s after a 5 s boundary; status shows the cadence and the missed beats', async () => {
    const id = uniqueId('cli-aligned');
    const started = await cli('start', '--id', id, '--url', stack.sim.runUrl, '--align', '5s', '--offset', '1s');
    expectCode(started, 0, 'start --align 5s --offset 1s');
    assert.match(started.stdout, /every 5s at \+1s, auto mode/);
    // Each cycle seen on the way to the second one: the beats are n × 5 s + 1 s from the epoch.
    const seen = new Map<number, string>();
    const status = await pollUntil(
      () => statusJson(id),
      (s) => {
        if (s.last_cycle) seen.set(s.last_cycle.iteration, s.last_cycle.started_at);
        return s.counters.cycles >= 2;
      },
      'two aligned cycles',
      POLL_TRIES,
    );
    assert.equal(status.config.cadence, 'aligned');
    assert.deepEqual([status.config.align_every, status.config.align_offset], [5, 1]);
    assert.ok(seen.size >= 2, `both cycles were seen: ${JSON.stringify([...seen])}`);
    for (const [iteration, startedAt] of seen) {
      // About a second: the dev server's timer queue may fire a timer of a few seconds up to ~1 s late.
      const intoPeriod = Date.parse(startedAt) % 5000;
      assert.ok(
        intoPeriod >= 1000 && intoPeriod < 2500,
        `iteration ${iteration} started ${intoPeriod} ms into its 5 s period (${startedAt})`,
      );
    }
    const human = await cli('status', id);
    assert.match(human.stdout, /^ {2}cadence +every 5s at \+1s \(ping_interval ignored in aligned cadence\)$/m);
    assert.match(human.stdout, /^ {2}missed beats +\d+/m);
    assert.match(human.stdout, /^ {2}config +every 5s at \+1s, auto mode, dry run/m);
    // The default budget (420 s) is far longer than a 5 s period: status says what that costs.
    assert.match(human.stdout, /^ {2}warning +the cycle budget \(420 s\) is longer than the period \(5 s\): a long cycle misses beats/m);

    const back = await cli('update', id, '--interval', '1s');
    expectCode(back, 0, 'update --interval 1s');
    assert.match(back.stdout, /every 1 s, auto mode/, 'an aligned loop goes back to the interval cadence');
    assert.equal(effectiveConfig(await statusJson(id)).cadence, 'interval');
    expectCode(await cli('cancel', id), 0, 'cancel');
  });

  test('pause holds a loop (no cycle, continue ignored) until resume; status and list --state paused show it', async () => {
    const id = uniqueId('cli-pause');
    expectCode(await cli('start', '--id', id, '--url', stack.sim.runUrl, '--interval', '1s'), 0, 'start');
    await pollUntil(
      () => statusJson(id),
      (s) => s.counters.cycles >= 1,
      'a first cycle',
      POLL_TRIES,
    );

    const paused = await cli('pause', id, '--reason', 'maintenance');
    expectCode(paused, 0, 'pause --reason maintenance');
    // The Update's answer first ("paused" between cycles, "pauses after iteration N" during one), then the pause in force.
    assert.match(paused.stdout, new RegExp(`^loop ${id} (paused|pauses after iteration \\d+)\n`));
    assert.match(
      paused.stdout,
      new RegExp(
        `^loop ${id} paused since \\S+ \\(reason: maintenance\\): it sends nothing and keeps no timer until \`mtf-ping-pong resume ${id}\`$`,
        'm',
      ),
    );

    const held = await statusJson(id);
    assert.equal(held.phase, 'paused');
    assert.equal(held.pause?.reason, 'maintenance');
    assert.equal(held.next_cycle_at, null, 'no timer runs');
    const human = await cli('status', id);
    assert.match(
      human.stdout,
      new RegExp(`^loop ${id}: PAUSED since \\S+ \\(reason: maintenance\\); \`mtf-ping-pong resume ${id}\` to go on$`, 'm'),
    );

    const listed = await pollUntil(
      async () =>
        JSON.parse((await cli('list', '--state', 'paused', '--json')).stdout) as { workflow_id: string; loop_state: string | null }[],
      (loops) => loops.some((l) => l.workflow_id === id),
      'the loop in list --state paused',
      POLL_TRIES,
    );
    assert.equal(listed.find((l) => l.workflow_id === id)?.loop_state, 'paused');
    const table = await cli('list');
    assert.ok(
      table.stdout.split('\n').some((line) => line.startsWith(id) && /\s+paused\s+/.test(line)),
      `the STATE column says paused:\n${table.stdout}`,
    );

    // continue_signal while paused: ignored. A second pause is the barrier: its answer comes from a
    // workflow task that has seen the signal, sent before it.
    const requestsBefore = runRequestsOf(id).length;
    const sent = await cli('continue', id);
    expectCode(sent, 0, 'continue while paused');
    assert.match(
      sent.stderr,
      new RegExp(`loop ${id} is paused: it ignores continue_signal; \`mtf-ping-pong resume ${id}\` lets it go on`),
      'the CLI says the signal is ignored',
    );
    const again = await cli('pause', id, '--no-wait');
    expectCode(again, 0, 'pause again');
    assert.match(again.stdout, new RegExp(`^loop ${id} already paused since `));
    const still = await statusJson(id);
    assert.deepEqual(
      [still.phase, still.counters.cycles, still.continue_pending],
      ['paused', held.counters.cycles, false],
      'no cycle ran, and the continue is not kept for later',
    );
    assert.equal(runRequestsOf(id).length, requestsBefore, 'nothing reached the app');

    const resumed = await cli('resume', id);
    expectCode(resumed, 0, 'resume');
    assert.equal(resumed.stdout, `loop ${id} resumed: the next cycle starts now\n`);
    const running = await pollUntil(
      () => statusJson(id),
      (s) => s.counters.cycles > held.counters.cycles,
      'a cycle after resume',
      POLL_TRIES,
    );
    assert.equal(running.pause, null);

    const refused = await cli('resume', id);
    expectCode(refused, 1, 'resume of a running loop');
    assert.equal(refused.stderr, `mtf-ping-pong: loop ${id} refused resume: the loop is not paused\n`);
    expectCode(await cli('pause', 'no-such-loop'), 4, 'pause of an unknown ID');
    expectCode(await cli('cancel', id), 0, 'cancel');
  });

  test('the stock temporal CLI pauses and resumes a loop with the same Update names', async () => {
    const id = uniqueId('cli-stock-pause');
    expectCode(await cli('start', '--id', id, '--url', stack.sim.runUrl, '--interval', '1s'), 0, 'start');
    const paused = await temporal('workflow', 'update', 'execute', '--workflow-id', id, '--name', 'pause', '--input', '"via stock cli"');
    expectCode(paused, 0, 'temporal workflow update execute --name pause');
    assert.match(paused.stdout, /paused|pauses after iteration \d+/);
    const held = await pollUntil(
      () => statusJson(id),
      (s) => s.phase === 'paused',
      'the pause in force',
      POLL_TRIES,
    );
    assert.equal(held.pause?.reason, 'via stock cli');
    const resumed = await temporal('workflow', 'update', 'execute', '--workflow-id', id, '--name', 'resume');
    expectCode(resumed, 0, 'temporal workflow update execute --name resume');
    assert.match(resumed.stdout, /resumed: the next cycle starts now/);
    const refused = await temporal('workflow', 'update', 'execute', '--workflow-id', id, '--name', 'resume');
    assert.notEqual(refused.code, 0, 'the validator refuses a resume of a running loop');
    assert.match(refused.stdout + refused.stderr, /the loop is not paused/);
    expectCode(await cli('cancel', id), 0, 'cancel');
  });

  test('pause during a cycle takes effect once it is recorded; a wait shorter than the cycle fails in one line, the pause staying asked', async () => {
    const id = uniqueId('cli-pausing');
    // Each call takes 15 s: the pause below is asked while the first one is on its way, and the
    // two CLI runs after it (each a Node start, slow on a loaded 2-core machine: 5 s was once too
    // short) see the cycle still running.
    stack.sim.setBehaviour({ latency_ms: 15_000 });
    try {
      const before = stack.sim.runRequests().length;
      expectCode(await cli('start', '--id', id, '--url', stack.sim.runUrl, '--interval', '1s'), 0, 'start');
      // Each request the simulator receives, until this loop's first: then its call is on its way.
      for (let n = before + 1; runRequestsOf(id).length === 0; n++) await stack.sim.waitForRunRequests(n, CALL_TIMEOUT_MS);
      const short = await cli('pause', id, '--reason', 'deploy', '--timeout', '0.5s');
      expectCode(short, 1, 'pause --timeout 0.5s during a 15 s cycle');
      assert.equal(short.stdout, `loop ${id} pauses after iteration 1\n`);
      assert.match(
        short.stderr,
        new RegExp(
          `^mtf-ping-pong: loop ${id} has not paused within 0\\.5s; the pause stays asked: it takes effect once iteration 1 is recorded \\(see mtf-ping-pong status ${id}\\)$`,
          'm',
        ),
      );
      const human = await cli('status', id);
      assert.match(human.stdout, /^ {2}pause +pause requested after iteration 1 \(asked at \S+: deploy\)$/m);
      const held = await pollUntil(
        () => statusJson(id),
        (s) => s.phase === 'paused',
        'the pause in force after the cycle',
        POLL_TRIES,
      );
      assert.deepEqual([held.counters.cycles, held.pause?.reason], [1, 'deploy'], 'the cycle that ran was recorded, and no other began');
    } finally {
      stack.sim.setBehaviour({ latency_ms: 0 });
    }
    expectCode(await cli('cancel', id), 0, 'cancel');
  });

  test('pause on a worker of a release without it: one line that says so, and no answer', async () => {
    const queue = uniqueId('cli-old-tq');
    const old = await PlainWorker.create({
      connection: stack.env.nativeConnection,
      namespace: stack.env.namespace ?? 'default',
      taskQueue: queue,
      workflowsPath: require.resolve('../workflows/before-pause'),
    });
    await old.runUntil(async () => {
      const id = uniqueId('cli-old');
      await stack.env.client.workflow.start('MtfPingPongWorkflow', { workflowId: id, taskQueue: queue });
      try {
        const refused = await cli('pause', id, '--reason', 'maintenance');
        expectCode(refused, 1, 'pause on an older worker');
        assert.equal(
          refused.stderr,
          `mtf-ping-pong: the worker running loop ${id} does not know the pause update (an older release); upgrade the workers — the loop was not paused\n`,
        );
        assert.equal(refused.stdout, '', 'no answer is printed');
      } finally {
        await stack.env.client.workflow.getHandle(id).terminate('test over');
      }
    });
  });
});
