/**
 * Loops as code: `mtf-ping-pong apply` / `diff` and the `--group` forms of the steering commands,
 * the real binary in its own process against a real `temporal server start-dev` (with the loop's
 * search attributes), the simulator over loopback and a worker in this process. Each test reads
 * what the loops themselves say afterwards (get_status, visibility), not only what the CLI printed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { awaitLoopEnd, listLoops, loopStatus, startLoop } from '../../src/client/loops';
import type { LoopStatus } from '../../src/shared/status';
import { createMtfWorker } from '../../src/worker/worker';
import { useDevStack } from '../helpers/dev-stack';
import { describeRun, runToEnd, waitFor, type Ran } from '../helpers/processes';
import { uniqueId } from '../helpers/temporal';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
/** One apply of 20 loops is a node start and a few hundred RPCs; a hung one fails the test instead of the run. */
const CALL_TIMEOUT_MS = 60_000;

const taskQueue = uniqueId('fleet-tq');
const scratch = mkdtempSync(join(tmpdir(), 'mtf-fleet-'));
const workers: { worker: Worker; done: Promise<void> }[] = [];

async function runWorker(queue: string): Promise<void> {
  const worker = await createMtfWorker({
    connection: stack.env.nativeConnection,
    namespace: stack.env.namespace ?? 'default',
    taskQueue: queue,
    identity: `fleet-test-worker-${queue}`,
    activities: createActivities(),
  });
  workers.push({ worker, done: worker.run() });
}

const stack = useDevStack({
  started: () => runWorker(taskQueue),
  beforeClose: async () => {
    for (const { worker } of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.all(workers.map(({ done }) => done));
  },
});

after(() => rmSync(scratch, { recursive: true, force: true }));

function cli(args: string[], options: { stdin?: string } = {}): Promise<Ran> {
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: stack.env.address,
    TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
    TASK_QUEUE_NAME: taskQueue,
  };
  if (options.stdin === undefined) return runToEnd(process.execPath, [CLI, ...args], { env, timeoutMs: CALL_TIMEOUT_MS });
  // `-f -`: the file comes through a pipe, as `cat fleet.json | mtf-ping-pong apply -f -` gives it.
  const input = join(scratch, `${uniqueId('stdin')}.json`);
  writeFileSync(input, options.stdin);
  return runToEnd('sh', ['-c', `exec "$0" "$@" < "${input}"`, process.execPath, CLI, ...args], { env, timeoutMs: CALL_TIMEOUT_MS });
}

function expectExit(ran: Ran, code: number, what: string): Ran {
  assert.equal(ran.code, code, describeRun(ran, what));
  return ran;
}

/** Writes a fleet file; `lines` are YAML, so a test can point at the line a message names. */
function fleetFile(name: string, lines: string[]): string {
  const path = join(scratch, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** A fleet's common lines: the simulator, and an hour between cycles so loops are quiet after their first. */
function header(fleet: string): string[] {
  return [`fleet: ${fleet}`, 'defaults:', `  mtf_url: ${stack.sim.runUrl}`, '  ping_interval: 3600'];
}

function status(id: string): Promise<LoopStatus> {
  return loopStatus(stack.env.client, id);
}

async function isRunning(id: string): Promise<boolean> {
  try {
    return (await stack.env.client.workflow.getHandle(id).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Visibility is eventually consistent: waits until a group lists exactly `ids`. */
async function groupListed(group: string, ids: string[]): Promise<void> {
  await waitFor(
    async () => (await listLoops(stack.env.client, 1000, { running: true, group })).map((l) => l.workflowId).sort(),
    (listed) => JSON.stringify(listed) === JSON.stringify([...ids].sort()),
    `group ${group} to list ${ids.length} loops`,
  );
}

void describe('apply: a fleet file from nothing to running, through a changed file, to pruned', () => {
  const fleet = uniqueId('prod');
  const [a, b, c] = ['a', 'b', 'c'].map((name) => uniqueId(`fleet-${name}`)) as [string, string, string];
  const v1 = () =>
    fleetFile('v1.yaml', [
      ...header(fleet),
      'loops:',
      `  - id: ${a}`,
      '    group: bitmart',
      '    request_extra: { mtf_profile: scalper, exchange: bitmart }',
      `  - id: ${b}`,
      '    group: bitmart',
      '    request_extra: { mtf_profile: regular, exchange: bitmart }',
      `  - id: ${c}`,
    ]);
  const v2 = () =>
    fleetFile('v2.yaml', [
      ...header(fleet),
      'loops:',
      `  - id: ${b}`,
      '    group: bitmart',
      '    request_extra: { mtf_profile: regular, exchange: bitmart }',
      '    ping_interval: 7200',
      `  - id: ${c}`,
      '    group: binance',
    ]);

  void test('the plan of a new fleet starts every loop (exit 7), apply does, and both are then in sync (exit 0)', async () => {
    const plan = expectExit(await cli(['diff', '-f', v1()]), 7, 'diff of a new fleet');
    for (const id of [a, b, c]) assert.match(plan.stdout, new RegExp(`\\+ start +${id} +dry run`), plan.stdout);
    assert.match(plan.stdout, /plan: 3 to start, 0 to change, 0 to stop, 0 unchanged/);
    assert.equal(await isRunning(a), false, 'a plan changes nothing');

    const applied = expectExit(await cli(['apply', '-f', v1()]), 0, 'apply of a new fleet');
    assert.match(applied.stdout, /applied: 3 started, 0 updated, 0 stopping, 0 unchanged/);
    const started = await status(a);
    assert.equal(started.config.fleet, fleet, 'apply stamps the fleet on the loop');
    assert.equal(started.config.group, 'bitmart');
    assert.deepEqual(started.config.request_extra, { mtf_profile: 'scalper', exchange: 'bitmart' });
    assert.equal(started.config.ping_interval, 3600, "the file's defaults apply");
    assert.equal((await status(c)).config.group, null);

    const shown = expectExit(await cli(['status', a]), 0, 'status of a fleet loop');
    assert.match(shown.stdout, new RegExp(`labels +group bitmart, fleet ${fleet}`));
    expectExit(await cli(['apply', '-f', v1(), '--plan']), 0, 'plan of an applied fleet');
    const again = expectExit(await cli(['apply', '-f', v1()]), 0, 'apply again');
    assert.match(again.stdout, /applied: 0 started, 0 updated, 0 stopping, 3 unchanged/);
  });

  void test('a changed file is planned key by key, applied through update_config, and a changed group applies at once', async () => {
    const plan = expectExit(await cli(['diff', '-f', v2()]), 7, 'diff of the changed file');
    assert.match(plan.stdout, new RegExp(`~ change +${b}\\n +ping_interval: 3600 → 7200`));
    assert.match(plan.stdout, new RegExp(`~ change +${c}\\n +group: null → "binance"`));
    assert.match(plan.stdout, new RegExp(`- stop +${a} +not in the file: stopped only with --prune`));
    assert.match(plan.stdout, /plan: 0 to start, 2 to change, 0 to stop, 0 unchanged, 1 not in the file/);

    const applied = expectExit(await cli(['apply', '-f', v2()]), 0, 'apply of the changed file');
    assert.match(applied.stdout, new RegExp(`${b} +updated: ping_interval`));
    assert.match(applied.stdout, new RegExp(`${a} +left running`));
    assert.equal((await status(b)).pending_config?.ping_interval, 7200, 'the change waits for the next cycle');
    assert.equal((await status(c)).config.group, 'binance', 'the group is in force at once');
    assert.equal(await isRunning(a), true, 'without --prune a loop the file dropped keeps running');
    await groupListed('binance', [c]);
    const listed = expectExit(await cli(['list', '--group', 'binance', '--json']), 0, 'list --group');
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { workflow_id: string; group: string; fleet: string }[]).map((l) => [l.workflow_id, l.group, l.fleet]),
      [[c, 'binance', fleet]],
    );
  });

  void test('--prune stops the loop the file no longer lists, gracefully, and the fleet is then in sync', async () => {
    expectExit(await cli(['diff', '-f', v2(), '--prune']), 7, 'diff --prune');
    const pruned = expectExit(await cli(['apply', '-f', v2(), '--prune']), 0, 'apply --prune');
    assert.match(pruned.stdout, new RegExp(`${a} +stop requested`));
    const end = await awaitLoopEnd(stack.env.client, a);
    assert.equal(end.how, 'stopped');
    assert.match(end.how === 'stopped' ? (end.summary.stop_reason ?? '') : '', new RegExp(`pruned by apply: not in fleet ${fleet}`));
    expectExit(await cli(['diff', '-f', v2(), '--prune']), 0, 'diff after the prune');
  });
});

void describe('apply: an invalid file changes nothing', () => {
  const fleet = uniqueId('bad');
  const [kept, added] = [uniqueId('kept'), uniqueId('added')];

  void test('a value the schema refuses names the file, the line, the loop and the key; no loop is started or changed', async () => {
    expectExit(await cli(['apply', '-f', fleetFile('good.yaml', [...header(fleet), 'loops:', `  - id: ${kept}`])]), 0, 'the first apply');
    const path = fleetFile('bad.yaml', [
      ...header(fleet),
      'loops:',
      `  - id: ${kept}`,
      '    ping_interval: 60',
      `  - id: ${added}`,
      '    align_every: 7', // line 9
      '    cadence: aligned',
    ]);
    const refused = expectExit(await cli(['apply', '-f', path]), 2, 'apply of an invalid file');
    assert.match(refused.stderr, new RegExp(`invalid fleet file ${path}: nothing was applied`));
    assert.match(refused.stderr, new RegExp(`${path}:9: loop ${added}: align_every: must be a whole number of seconds that divides a day`));
    assert.equal(await isRunning(added), false, 'the valid loop beside it is not started');
    assert.equal((await status(kept)).pending_config, null, 'the loop before it is not changed');
    expectExit(await cli(['diff', '-f', path]), 2, 'diff of an invalid file');
  });

  void test('a YAML error names its line; a live loop without confirm_live in the file is refused as start refuses it', async () => {
    const broken = fleetFile('broken.yaml', [`fleet: ${fleet}`, 'loops:', `  - id: ${added}`, '   group: [unclosed']);
    const refused = expectExit(await cli(['apply', '-f', broken]), 2, 'apply of broken YAML');
    assert.match(refused.stderr, new RegExp(`${broken}:4: not valid YAML or JSON`));

    const live = fleetFile('unconfirmed.yaml', [...header(fleet), 'loops:', `  - id: ${added}`, '    dry_run: false']);
    const unconfirmed = expectExit(await cli(['apply', '-f', live, '--confirm-live']), 2, 'a live loop without confirm_live');
    assert.match(
      unconfirmed.stderr,
      new RegExp(`${live}:7: loop ${added}: dry_run: false means a live run that can place real orders; it needs confirm_live: true`),
    );
    assert.equal(await isRunning(added), false);
  });

  void test('JSON on stdin (-f -) is read as the same fleet', async () => {
    const json = JSON.stringify({ fleet, defaults: { mtf_url: stack.sim.runUrl, ping_interval: 3600 }, loops: [{ id: kept }] });
    const plan = expectExit(await cli(['diff', '-f', '-'], { stdin: json }), 0, 'diff of the same fleet as JSON on stdin');
    assert.match(plan.stdout, new RegExp(`fleet ${fleet} \\(stdin\\):\\n +=  ?unchanged +${kept}`));
  });
});

void describe('apply: live is never applied by accident', () => {
  const fleet = uniqueId('live');
  const [live, dry] = [uniqueId('live'), uniqueId('dry')];
  const liveLines = (id: string) => [`  - id: ${id}`, '    dry_run: false', '    confirm_live: true'];

  void test('a loop the plan starts LIVE needs --confirm-live: without it that loop is refused and the others applied', async () => {
    const path = fleetFile('live.yaml', [...header(fleet), 'loops:', ...liveLines(live), `  - id: ${dry}`]);
    const plan = expectExit(await cli(['diff', '-f', path]), 7, 'diff of a live loop');
    assert.match(plan.stdout, new RegExp(`\\+ start +${live} +LIVE, .*⚠ starts LIVE \\(real orders\\): needs --confirm-live`));

    const refused = expectExit(await cli(['apply', '-f', path]), 1, 'apply without --confirm-live');
    assert.match(refused.stdout, new RegExp(`${live} +refused: it would start LIVE \\(real orders\\): add --confirm-live`));
    assert.match(refused.stdout, new RegExp(`${dry} +started`));
    assert.match(refused.stdout, /applied in part: .*1 refused, 0 failed: the others were applied, run apply again to finish/);
    assert.equal(await isRunning(live), false, 'the live loop is not started');

    expectExit(await cli(['apply', '-f', path, '--confirm-live']), 0, 'apply with --confirm-live');
    assert.equal((await status(live)).config.dry_run, false);
  });

  void test('a loop the plan turns LIVE needs --confirm-live too', async () => {
    const path = fleetFile('turn-live.yaml', [...header(fleet), 'loops:', ...liveLines(live), ...liveLines(dry)]);
    const refused = expectExit(await cli(['apply', '-f', path]), 1, 'turning live without --confirm-live');
    assert.match(refused.stdout, new RegExp(`${dry} +refused: it would turn LIVE`));
    assert.equal((await status(dry)).pending_config, null, 'the dry loop stays dry');
    expectExit(await cli(['apply', '-f', path, '--confirm-live']), 0, 'turning live with --confirm-live');
    assert.equal((await status(dry)).pending_config?.dry_run, false, 'live from its next cycle');
  });
});

void describe('apply: a failure in the middle, finished by a second apply', () => {
  void test('a loop whose worker is away is reported not applied, the others are; apply again once it is back finishes', async () => {
    const fleet = uniqueId('mid');
    const away = uniqueId('away-tq');
    const [stuck, fresh] = [uniqueId('stuck'), uniqueId('fresh')];
    await startLoop(stack.env.client, { taskQueue: away, workflowId: stuck, config: { mtf_url: stack.sim.runUrl, fleet } });
    const path = fleetFile('mid.yaml', [...header(fleet), 'loops:', `  - id: ${stuck}`, `  - id: ${fresh}`]);

    const first = expectExit(await cli(['apply', '-f', path]), 1, 'apply with a loop that cannot answer');
    assert.match(first.stdout, new RegExp(`${stuck} +refused: its config could not be read: loop ${stuck} did not answer get_status`));
    assert.match(first.stdout, new RegExp(`${fresh} +started`));
    assert.equal(await isRunning(fresh), true);

    await runWorker(away);
    const second = expectExit(await cli(['apply', '-f', path]), 0, 'the second apply');
    assert.match(second.stdout, new RegExp(`${stuck} +updated: ping_interval`));
    assert.match(second.stdout, new RegExp(`${fresh} +unchanged`));
    expectExit(await cli(['diff', '-f', path]), 0, 'in sync after the second apply');
  });
});

void describe('a group steered with one command', () => {
  const fleet = uniqueId('twenty');
  const group = uniqueId('g');
  const ids = Array.from({ length: 20 }, (_, i) => `${group}-loop-${String(i).padStart(2, '0')}`);

  void test('pause, resume and stop act on every running loop of the group and report each', async () => {
    const path = fleetFile('twenty.yaml', [...header(fleet), `  group: ${group}`, 'loops:', ...ids.map((id) => `  - id: ${id}`)]);
    expectExit(await cli(['apply', '-f', path]), 0, 'apply of 20 loops');
    await groupListed(group, ids);

    const paused = expectExit(await cli(['pause', '--group', group, '--reason', 'exchange maintenance']), 0, 'pause --group');
    for (const id of ids) assert.match(paused.stdout, new RegExp(`${id} +paused`));
    assert.match(paused.stdout, new RegExp(`pause group ${group}: 20 of 20 loops done`));
    for (const id of ids) assert.equal((await status(id)).phase, 'paused', `${id} is held`);

    const resumed = expectExit(await cli(['resume', '--group', group]), 0, 'resume --group');
    assert.match(resumed.stdout, new RegExp(`resume group ${group}: 20 of 20 loops done`));
    for (const id of ids) assert.equal((await status(id)).pause, null, `${id} goes on`);

    const stopped = expectExit(await cli(['stop', '--group', group, '--reason', 'retired']), 0, 'stop --group');
    assert.match(stopped.stdout, new RegExp(`stop group ${group}: 20 of 20 loops done`));
    for (const id of ids) assert.equal(await isRunning(id), false, `${id} has ended`);
  });

  void test('--group beside an ID, and --live on a group without --confirm-live, are usage errors (exit 2)', async () => {
    const both = expectExit(await cli(['pause', 'some-loop', '--group', group]), 2, 'an ID and --group');
    assert.match(both.stderr, /give a loop ID or --group, not both/);
    const live = expectExit(await cli(['update', '--group', group, '--live']), 2, '--live on a group');
    assert.match(live.stderr, /turns every loop of the group LIVE \(real orders\): add --confirm-live/);
    expectExit(await cli(['resume', '--group', uniqueId('empty')]), 4, 'a group with no running loop');
  });
});
