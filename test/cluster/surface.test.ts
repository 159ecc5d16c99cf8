/**
 * Everything a user touches, against the real server on PostgreSQL (cluster.ts): the worker
 * process, every CLI command that talks to Temporal, the stock `temporal` CLI (the wire names of
 * the original spec), the dashboard, the search attributes registered as the Compose demo
 * registers them and `list` filtering on SQL visibility, and what a quiet cycle costs there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { quietCycleCosts } from '../../harness/history';
import { listLoops, type LoopFilter } from '../../src/client/loops';
import type { DashboardSnapshot } from '../../src/dashboard/snapshot';
import { searchAttributeSpecs } from '../../src/shared/search-attributes';
import type { LoopStatus } from '../../src/shared/status';
import { temporalCliPath } from '../../src/toolchain/binaries';
import { freePort, spawnNode } from '../../harness/processes';
import { describeRun, runToEnd, waitFor, type Ran } from '../helpers/processes';
import { requestsOf } from '../../harness/requests';
import { CLI, assertExact, reconcile, startRig, type Rig } from './rig';

const TASK_QUEUE = 'cluster-surface';
const GOOD = 'surface-good';
const FAILING = 'surface-failing';
/** Bounds the waits on the loop's progress: a cycle every second. */
const PROGRESS_MS = 60_000;

let rig: Rig;
before(async () => {
  rig = await startRig({ taskQueue: TASK_QUEUE });
});
after(() => rig?.close());

function ok(ran: Ran, what: string): string {
  assert.equal(ran.code, 0, describeRun(ran, what));
  return ran.stdout;
}

/** The stock CLI, on the cluster's frontend and namespace. */
function stock(...args: string[]): Promise<Ran> {
  return runToEnd(temporalCliPath(), [...args, '--address', rig.cluster.address, '--namespace', rig.cluster.namespace], {
    timeoutMs: 60_000,
  });
}

function until(workflowId: string, check: (s: LoopStatus) => boolean, what: string): Promise<LoopStatus> {
  return waitFor(() => rig.status(workflowId), check, what, PROGRESS_MS);
}

/** Waits until SQL visibility gives exactly `ids` for `filter` (it is written asynchronously), then asks the CLI. */
async function listed(filter: LoopFilter, ids: string[], ...flags: string[]): Promise<void> {
  const sorted = [...ids].sort();
  await waitFor(
    () => listLoops(rig.client, 100, filter),
    (loops) => JSON.stringify(loops.map((l) => l.workflowId).sort()) === JSON.stringify(sorted),
    `visibility to list ${sorted.join(', ') || 'nothing'} for ${flags.join(' ')}`,
    PROGRESS_MS,
  );
  const shown = JSON.parse(ok(await rig.cli('list', '--json', ...flags), `list ${flags.join(' ')}`)) as { workflow_id: string }[];
  assert.deepEqual(shown.map((l) => l.workflow_id).sort(), sorted, `list ${flags.join(' ')}`);
}

void describe('the real server on PostgreSQL, as a user drives it', () => {
  test("the namespace has the loop's search attributes, registered by the Compose demo's script", async () => {
    const shown = ok(await stock('operator', 'search-attribute', 'list'), 'temporal operator search-attribute list');
    for (const spec of searchAttributeSpecs()) {
      const [name, type] = spec.split('=');
      assert.match(shown, new RegExp(`^\\s*${name}\\s+${type}\\s*$`, 'm'), `${spec} registered`);
    }
    const cluster = ok(await stock('operator', 'cluster', 'describe', '--output', 'json'), 'temporal operator cluster describe');
    assert.match(cluster, /"persistenceStore":\s*"postgres12"/);
    assert.match(cluster, /"visibilityStore":\s*"postgres12"/);
  });

  test('before any worker polls: start is accepted, and status blames the missing worker, not the server', async () => {
    ok(await rig.cli('start', '--id', GOOD, '--url', rig.sim.runUrl, '--interval', '1s', '--notify', 'off'), 'start');
    const status = await rig.cli('status', GOOD);
    assert.equal(status.code, 1, describeRun(status));
    assert.match(
      status.stderr,
      new RegExp(`loop ${GOOD} did not answer get_status within 10s: no worker polls its task queue \\(${TASK_QUEUE}\\)`),
    );
  });

  test('the worker process runs the loop; status, continue, update, pause and resume work', async () => {
    await rig.startWorker('surface-worker');
    await until(GOOD, (s) => s.counters.succeeded >= 2, 'two cycles');
    const shown = ok(await rig.cli('status', GOOD), 'status');
    assert.match(shown, new RegExp(`^loop ${GOOD}: running`, 'm'));
    assert.match(shown, /^ {2}ready +ADAUSDT 5m LONG · BTCUSDT 1m SHORT/m);

    ok(await rig.cli('update', GOOD, '--interval', '2s'), 'update');
    await until(GOOD, (s) => s.config.ping_interval === 2, 'the new interval in force');
    ok(await rig.cli('continue', GOOD), 'continue');

    const paused = ok(await rig.cli('pause', GOOD, '--reason', 'cluster maintenance'), 'pause');
    assert.match(paused, /paused/);
    const held = await rig.status(GOOD);
    assert.equal(held.phase, 'paused');
    await listed({ state: 'paused' }, [GOOD], '--state', 'paused');
    ok(await rig.cli('resume', GOOD), 'resume');
    const resumed = await until(GOOD, (s) => s.phase !== 'paused' && s.counters.cycles > held.counters.cycles, 'a cycle after the resume');
    assertExact(resumed, reconcile(rig.sim, GOOD), 'after pause and resume');
  });

  test('the stock temporal CLI queries and signals the loop by the original wire names', async () => {
    const answer = ok(
      await stock('workflow', 'query', '--workflow-id', GOOD, '--type', 'get_status', '--output', 'json'),
      'temporal workflow query get_status',
    );
    assert.match(answer, /"is_running":\s*true/);
    const before = (await rig.status(GOOD)).counters.cycles;
    ok(await stock('workflow', 'signal', '--workflow-id', GOOD, '--name', 'continue_signal'), 'temporal workflow signal continue_signal');
    await until(GOOD, (s) => s.counters.cycles > before, 'a cycle after the signal');
    const described = ok(await stock('workflow', 'describe', '--workflow-id', GOOD, '--output', 'json'), 'temporal workflow describe');
    assert.match(described, /"type":\s*\{\s*"name":\s*"MtfPingPongWorkflow"/);
  });

  test('list filters by state and outcome on PostgreSQL visibility; health checks both sides', async () => {
    // A loop whose every call is refused: 3 failed cycles make it `failing`.
    const refused = `http://127.0.0.1:${await freePort()}/api/mtf/run`;
    const env = { ...rig.env, MTF_RETRY_INITIAL_INTERVAL: '0.05', MTF_RETRY_MAX_INTERVAL: '0.1' };
    const started = await runToEnd(
      process.execPath,
      [CLI, 'start', '--id', FAILING, '--url', refused, '--interval', '0.2s', '--notify', 'off'],
      { env: { ...process.env, ...env }, timeoutMs: 60_000 },
    );
    ok(started, 'start the failing loop');
    await until(FAILING, (s) => s.counters.consecutive_failures >= 3, 'three failed cycles');

    await listed({ state: 'running' }, [GOOD], '--state', 'running');
    await listed({ state: 'failing' }, [FAILING], '--state', 'failing');
    await listed({ outcome: 'failed' }, [FAILING], '--outcome', 'failed');
    await listed({ outcome: 'succeeded' }, [GOOD], '--outcome', 'succeeded');
    await listed({ live: true }, [], '--live');
    await listed({ live: false }, [FAILING, GOOD], '--dry-run');
    const stockListed = ok(await stock('workflow', 'list', '--query', "MtfLoopState = 'failing'"), 'temporal workflow list --query');
    assert.match(stockListed, new RegExp(FAILING));
    assert.doesNotMatch(stockListed, new RegExp(GOOD));

    const healthy = ok(await rig.cli('health', '--url', rig.sim.runUrl), 'health');
    assert.match(healthy, /^temporal +ok/m);
    assert.match(healthy, /^mtf +ok/m);
    ok(await rig.cli('cancel', FAILING), 'cancel');
    await waitFor(
      () => rig.client.workflow.getHandle(FAILING).describe(),
      (d) => d.status.name === 'CANCELLED',
      'the failing loop cancelled',
      PROGRESS_MS,
    );
  });

  test('the dashboard lists the loops with their status from the cluster', async () => {
    const port = await freePort();
    const dashboard = spawnNode(CLI, ['dashboard', '--listen', `127.0.0.1:${port}`], rig.env);
    try {
      await dashboard.waitForLine((l) => l.startsWith('dashboard on '), 'the dashboard to serve', 60_000);
      const snapshot = (await (await fetch(`http://127.0.0.1:${port}/api/loops`)).json()) as DashboardSnapshot;
      const good = snapshot.loops.find((l) => l.workflow_id === GOOD);
      assert.equal(good?.state, 'running');
      assert.ok(good?.status && good.status.counters.succeeded > 0, JSON.stringify(good));
      assert.equal(good?.error, null);
      assert.match(good?.run_id_prefix ?? '', /^mtfpp\.[0-9a-f]{16}$/, 'PostgreSQL visibility gives the first run id');
      assert.equal(snapshot.loops.find((l) => l.workflow_id === FAILING)?.state, 'cancelled');
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
    } finally {
      await dashboard.stop('SIGINT');
    }
  });

  test('a quiet cycle costs 11 history events and 2 Actions, as on the dev server', async () => {
    const events = (await rig.client.workflow.getHandle(GOOD).fetchHistory()).events ?? [];
    const costs = quietCycleCosts(events);
    assert.ok(costs.length >= 3, `${costs.length} quiet cycles in the history`);
    // The cycles that signals, updates and the pause touched cost more; the plain ones are counted.
    const plain = costs.filter((c) => c.events === 11);
    assert.ok(plain.length >= 3, `events per cycle: ${costs.map((c) => c.events).join(', ')}`);
    assert.deepEqual(
      plain.map((c) => c.actions),
      plain.map(() => 2),
      'one activity and one timer',
    );
    const upserts = events.filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
    assert.ok(upserts.length < 6, `the search attributes are upserted on transitions only (${upserts.length})`);
  });

  test('stop ends the loop with its summary; list --state stopped finds it', async () => {
    const stopped = ok(await rig.cli('stop', GOOD, '--reason', 'cluster test done'), 'stop');
    assert.match(stopped, /stopped/);
    await listed({ state: 'stopped' }, [GOOD], '--state', 'stopped');
    const r = reconcile(rig.sim, GOOD);
    assert.deepEqual([r.duplicated, r.lost], [[], []]);
    assert.equal(
      requestsOf(rig.sim, GOOD).every((x) => x.status === 200),
      true,
    );
  });
});
