/**
 * `npm run bench` (issue 8, issue 20): what one loop costs in Temporal history and Actions, how much
 * the loop adds to a bare loop's beat, CPU and memory, how many loops one worker carries, how fast
 * the stack starts, and the loop beside a Temporal Schedule (the design the app's team chose). Every
 * figure of ours sits beside a control measured in the same run, on the same server, so the ratios
 * hold on any machine; the absolute times hold only on this one. `--quick` runs a tiny version of
 * every stage (the test in `npm test`). One module per stage, in stages/.
 *
 * It starts its own in-memory `temporal server start-dev` on a free loopback port, one simulator
 * per stage, and one worker process per measurement (bench/worker.ts), and stops them all. Every
 * wait has a deadline; a stage that misses it is reported as such, the others still run.
 *
 * Usage: node dist/bench/run.js [--quick] [--stages 1,3] [--out <file>]
 *   --stages runs only the listed stages (for profiling one of them); default out: bench/results.json,
 *   or bench/results.partial.json when only some stages run, so the full table is never overwritten.
 *
 * A full run that wrote bench/results.json then regenerates the bench section of docs/performance.md
 * from it (scripts/performance-doc.mjs, issue 33): a new figure is a regenerated file, never a hand edit.
 * A quick or partial run, or one written elsewhere (--out), leaves the document alone.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode, makeTelemetryFilterString } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../src/shared/search-attributes';
import { projectRoot, temporalCliPath } from '../src/toolchain/binaries';
import { BenchWorker } from './bench-worker';
import { HOST, type Bench } from './loops';
import { FULL, QUICK } from './plan';
import { table, type Row } from './report';
import { historyCostAt, historyCostRows, type CostRow } from './stages/history-cost';
import { loopOverhead, overheadRows, type OverheadResult } from './stages/overhead';
import { scale, scaleRows, type ScaleRun } from './stages/scale';
import { scheduleRows, scheduleStage, type ScheduleStage } from './stages/schedule';
import { startup, startupRows, type StartupResult } from './stages/startup';
import { workerCost, workerCostRows, type CpuResult } from './stages/worker-cost';
import { round } from './tools';

/**
 * The server fires a timer up to `history.timerProcessorMaxTimeShift` (1 s by default) late; the
 * soak sets it to 10 ms, and so does the bench, so that a beat's lateness is the designs' own, not
 * the dev server's batching of timers.
 */
const DEV_SERVER_ARGS = ['--dynamic-config-value', 'history.timerProcessorMaxTimeShift="10ms"'];

interface Results {
  cost: CostRow[];
  heartbeatCalls: Record<string, number>;
  overhead?: OverheadResult;
  cpu?: Record<'ours' | 'control', CpuResult>;
  scale?: ScaleRun[];
  startup?: StartupResult;
  schedule?: ScheduleStage[];
  errors: Record<string, string>;
}

function rowsOf(results: Results): Row[] {
  const rows: Row[] = [...historyCostRows(results.cost, results.heartbeatCalls)];
  if (results.overhead) rows.push(...overheadRows(results.overhead));
  if (results.cpu) rows.push(...workerCostRows(results.cpu));
  for (const run of results.scale ?? []) rows.push(...scaleRows(run));
  if (results.startup) rows.push(...startupRows(results.startup));
  if (results.schedule) rows.push(...scheduleRows(results.schedule));
  for (const [stage, message] of Object.entries(results.errors))
    rows.push({ stage, figure: 'failed', value: message.replace(/\|/g, '/').split('\n')[0] ?? '', target: '', met: false });
  return rows;
}

// ---------------------------------------------------------------------------------------------

function versionOf(pkg: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const plan = args.includes('--quick') ? QUICK : FULL;
  const outAt = args.indexOf('--out');
  const stagesAt = args.indexOf('--stages');
  const only = stagesAt >= 0 ? new Set((args[stagesAt + 1] ?? '').split(',').map(Number)) : null;
  const runs = (n: number) => only === null || only.has(n);
  const defaultOut = join(projectRoot(), 'bench', only === null ? 'results.json' : 'results.partial.json');
  const out = outAt >= 0 && args[outAt + 1] ? args[outAt + 1]! : defaultOut;
  const began = Date.now();
  // Stages 1 to 5 must end in 20 minutes: stage 4, open-ended, takes no step that would end past
  // its deadline, leaving time for stage 5. Stage 6 has 22 minutes of its own. The quick run, a
  // minute in all, gives each of the two 20 s.
  const scaleDeadlineAt = (from: number) => (plan.quick ? from + 20_000 : began + 17 * 60_000);
  const scheduleBudgetMs = plan.quick ? 20_000 : 22 * 60_000;
  const log = (line: string) => console.error(`[bench ${round((Date.now() - began) / 1000)} s] ${line}`);

  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
  const work = mkdtempSync(join(tmpdir(), 'mtf-bench-'));
  const bundle = join(work, 'bench-workflow-bundle.js');
  const silent = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    logger: {
      log: silent,
      trace: silent,
      debug: silent,
      info: silent,
      warn: (m: string) => console.warn(m),
      error: (m: string) => console.error(m),
    },
  });
  writeFileSync(bundle, code);
  log('bench workflow bundle built; starting the dev server');

  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      ip: HOST,
      log: { format: 'pretty', level: 'error' },
      searchAttributes: [...SEARCH_ATTRIBUTES],
      extraArgs: DEV_SERVER_ARGS,
    },
  });
  const bench: Bench = { plan, env, client: env.client, address: env.address, bundle, runId: Date.now().toString(36) };
  const results: Results = { cost: [], heartbeatCalls: {}, errors: {} };
  const stage = async (name: string, run: () => Promise<void>) => {
    if (!runs(Number(name.charAt(0)))) return;
    log(`${name}...`);
    try {
      await run();
    } catch (err) {
      results.errors[name] = err instanceof Error ? err.message : String(err);
      log(`${name} failed: ${results.errors[name]}`);
    }
  };
  try {
    for (const { latencyMs, quietCycles } of plan.historyLatencies) {
      await stage(`1 history, call ${latencyMs / 1000} s`, async () => {
        const { rows, heartbeatCalls } = await historyCostAt(bench, latencyMs, quietCycles);
        results.cost.push(...rows);
        results.heartbeatCalls[`${latencyMs}`] = heartbeatCalls;
      });
    }
    await stage('2 loop overhead', async () => {
      results.overhead = await loopOverhead(bench);
    });
    await stage('3 worker', async () => {
      results.cpu = { ours: await workerCost(bench, 'ours auto'), control: await workerCost(bench, 'control') };
    });
    await stage('4 scale', async () => {
      results.scale = [];
      for (const run of plan.scaleRuns) results.scale.push(await scale(bench, scaleDeadlineAt(Date.now()), run));
    });
    await stage('5 start-up', async () => {
      results.startup = await startup(bench);
    });
    await stage('6 vs Schedule', async () => {
      results.schedule = await scheduleStage(bench, Date.now() + scheduleBudgetMs, log);
    });
  } finally {
    await env.teardown();
    rmSync(work, { recursive: true, force: true });
  }

  const rows = rowsOf(results);
  const temporalCli = execFileSync(temporalCliPath(), ['--version'], { encoding: 'utf8' }).trim();
  const durationS = round((Date.now() - began) / 1000);
  const report = {
    date: new Date().toISOString(),
    quick: plan.quick,
    duration_s: durationS,
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      memory_gib: round(totalmem() / 1024 ** 3),
      platform: `${process.platform} ${process.arch}`,
      node: process.version,
    },
    versions: { node: process.version, temporal_sdk: versionOf('@temporalio/worker'), temporal_cli: temporalCli },
    worker_settings: BenchWorker.settingsSeen,
    dev_server_args: DEV_SERVER_ARGS,
    plan,
    results,
    table: rows,
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(table(rows));
  console.log(
    `\n${plan.quick ? 'quick' : 'full'} run${only === null ? '' : ` (stages ${[...only].join(', ')})`}: ${durationS} s on ${report.machine.cores} cores (${report.machine.cpu}), ${report.machine.memory_gib} GiB, Node ${process.version}, SDK ${report.versions.temporal_sdk}, ${temporalCli}; results in ${out}`,
  );
  if (Object.keys(results.errors).length > 0) process.exitCode = 1;
  // A full run with every stage's figures regenerates docs/performance.md; one with a failed stage would drop its rows.
  if (!plan.quick && Object.keys(results.errors).length === 0 && resolve(out) === join(projectRoot(), 'bench', 'results.json')) {
    try {
      execFileSync(process.execPath, [join(projectRoot(), 'scripts', 'performance-doc.mjs'), 'bench'], { stdio: 'inherit' });
    } catch {
      // performance-doc.mjs said why, on stderr
      process.exitCode = 1;
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
