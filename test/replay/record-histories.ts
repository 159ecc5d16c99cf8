/**
 * `npm run record-histories`: runs one loop per mode on a real dev server against the simulator
 * and stores each history in test/replay/histories/, for test/workflow/replay.test.ts. Re-record only before the
 * first release; after it, a workflow change that breaks replay goes through `patched()` instead.
 */
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { createActivities } from '../../src/activities';
import { continueLoop, loopStatus, startLoop, stopLoop, updateLoop } from '../../src/client/loops';
import type { LoopConfigInput } from '../../src/shared/config';
import { pauseUpdate, resumeUpdate } from '../../src/shared/messages';
import { startSimulator, type SimulatorBehaviour } from '../../src/simulator/server';
import { createMtfWorker } from '../../src/worker/worker';
import { temporalCliPath } from '../../src/toolchain/binaries';
import { createDevServerEnv, uniqueId } from '../helpers/temporal';
import { pollUntil } from '../helpers/loop-harness';

/** Folder of the committed histories, in the source tree (this file runs from dist/). */
export const HISTORIES_DIR = join(__dirname, '..', '..', '..', 'test', 'replay', 'histories');

interface Scenario {
  name: string;
  behaviour: Partial<SimulatorBehaviour>;
  config: LoopConfigInput;
  /** Cycles to let run before the stop; in signal mode each one after the first needs a continue. */
  cycles: number;
  /** Record the first run of the chain (it ends in continue-as-new) rather than the last. */
  firstRun?: boolean;
  /** What an operator does once cycle N is recorded (after the continue of signal mode). */
  afterCycle?: (client: Client, workflowId: string, cycle: number) => Promise<void>;
  /** The worker posts its notifications to a receiver (MTF_NOTIFY_URL); without, it has no endpoint. */
  notify?: boolean;
}

/** Pauses the loop after its first cycle and resumes it once it is held. */
async function pauseAndResume(client: Client, workflowId: string, cycle: number): Promise<void> {
  if (cycle !== 1) return;
  const handle = client.workflow.getHandle(workflowId);
  await handle.executeUpdate(pauseUpdate, { args: ['recorded pause'] });
  await pollUntil(
    () => loopStatus(client, workflowId),
    (s) => s.phase === 'paused',
    'paused',
    100_000,
  );
  await handle.executeUpdate(resumeUpdate);
}

/** Moves the loop to another group after its first cycle: the labels' upsert at once, behind its patch marker. */
async function changeGroup(client: Client, workflowId: string, cycle: number): Promise<void> {
  if (cycle === 1) await updateLoop(client, workflowId, { group: 'recorded-group-b' });
}

const SEED: Partial<SimulatorBehaviour> = { answer: 'seed' };
const TODAY: Partial<SimulatorBehaviour> = { answer: 'today' };

const SCENARIOS: Scenario[] = [
  // Recorded before today's answer existed: their activities returned the seed-era summary.
  { name: 'auto-mode', behaviour: SEED, config: { ping_interval: 0.2 }, cycles: 3 },
  { name: 'signal-mode', behaviour: SEED, config: { ping_interval: 0.2, continue_mode: 'signal' }, cycles: 3 },
  {
    name: 'accepted-run-polling',
    behaviour: { ...SEED, mode: 'async', latency_ms: 300 },
    config: { ping_interval: 0.2, poll_interval: 0.1 },
    cycles: 2,
  },
  {
    name: 'retries-then-success',
    behaviour: { ...SEED, fault: 'http500', fault_count: 3 },
    config: { ping_interval: 0.2, retry_initial_interval: 0.1 },
    cycles: 2,
  },
  { name: 'continue-as-new', behaviour: SEED, config: { ping_interval: 0.2, max_cycles_per_run: 2 }, cycles: 3, firstRun: true },
  // Started with the search attributes: the first outcome, `failing` after 3 failed cycles, `running` again, `stopped`.
  {
    name: 'search-attributes',
    behaviour: { ...SEED, fault: 'http500', fault_count: 9 },
    config: { ping_interval: 0.2, retry_initial_interval: 0.1, retry_max_interval: 0.2 },
    cycles: 4,
  },
  // Today's answer: reports, a partial run, an answered-but-unreadable run (final, one attempt), an accepted run polled.
  { name: 'today-answer', behaviour: { ...TODAY, run_result: 'partial_success' }, config: { ping_interval: 0.2 }, cycles: 2 },
  {
    name: 'today-unreadable-answer',
    behaviour: { ...TODAY, fault: 'unknown_status', fault_count: 1 },
    config: { ping_interval: 0.2 },
    cycles: 2,
  },
  {
    name: 'today-accepted-run-polling',
    behaviour: { ...TODAY, mode: 'async', latency_ms: 300 },
    config: { ping_interval: 0.2, poll_interval: 0.1 },
    cycles: 2,
  },
  // The sequential path (workers 1): a contract that threw beside READY ones (partial_failure), recorded partial with the app's word.
  { name: 'today-sequential-partial', behaviour: { ...TODAY, throw_symbols: ['SOLUSDT'] }, config: { ping_interval: 0.2 }, cycles: 2 },
  // What the runs found: signals, orders, an unprotected position (its error log line), then an unreadable answer that still hands its findings on.
  {
    name: 'today-findings-protection-alert',
    behaviour: { ...TODAY, order_status: ['submitted', 'critical_unprotected_position'], fault: 'unknown_status', fault_count: 1 },
    config: { ping_interval: 0.2 },
    cycles: 3,
  },
  // Trades read from the lineage API: half a second after each answer, so with no wait each cycle's are pending, then attached after the next answer.
  {
    name: 'today-late-trades',
    behaviour: { ...TODAY, lineage: 'on', lineage_delay: 0.5, trade_statuses: ['SENT', 'FAILED'] },
    config: { ping_interval: 1, lineage_wait: 0 },
    cycles: 3,
  },
  // Cycles on 1 s beats, held by `pause` (no timer) and let go by `resume` after the first.
  {
    name: 'aligned-pause-resume',
    behaviour: TODAY,
    config: { cadence: 'aligned', align_every: 1, align_offset: 0 },
    cycles: 3,
    afterCycle: pauseAndResume,
  },
  // Notifications to a webhook: started, paused and resumed after cycle 1, failing at cycle 3, recovered at 4, stopped.
  {
    name: 'notifications',
    behaviour: { ...TODAY, fault: 'http500', fault_count: 3 },
    config: { ping_interval: 0.2, max_attempts: 1 },
    cycles: 4,
    afterCycle: pauseAndResume,
    notify: true,
  },
  // A loop of a fleet file, started with its labels as search attributes, moved to another group by an update.
  {
    name: 'fleet-labels',
    behaviour: TODAY,
    config: { ping_interval: 0.2, fleet: 'recorded-fleet', group: 'recorded-group-a' },
    cycles: 2,
    afterCycle: changeGroup,
  },
];

/** A webhook that takes every message: what a Slack incoming webhook answers. */
async function startReceiver(): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => req.resume().on('end', () => res.end('ok')));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, close: () => server.close() };
}

async function main(): Promise<void> {
  const [env, sim, receiver] = await Promise.all([createDevServerEnv(), startSimulator(), startReceiver()]);
  try {
    mkdirSync(HISTORIES_DIR, { recursive: true });
    // `npm run record-histories -- NAME…` records only those: histories of older code stay as they were.
    const only = process.argv.slice(2);
    for (const scenario of SCENARIOS.filter((s) => only.length === 0 || only.includes(s.name))) {
      sim.setBehaviour({ mode: 'sync', latency_ms: 0, fault: 'none', fault_count: null, throw_symbols: [], ...scenario.behaviour });
      const taskQueue = uniqueId('record');
      const workflowId = `replay-${scenario.name}`;
      const worker = await createMtfWorker({
        connection: env.nativeConnection,
        namespace: 'default',
        taskQueue,
        identity: 'history-recorder',
        activities: createActivities(scenario.notify ? { notify: { url: receiver.url } } : {}),
      });
      const started = await worker.runUntil(async () => {
        const loop = await startLoop(env.client, { taskQueue, workflowId, config: { mtf_url: sim.runUrl, ...scenario.config } });
        for (let cycle = 1; cycle <= scenario.cycles; cycle++) {
          await pollUntil(
            () => loopStatus(env.client, workflowId),
            (s) => s.counters.cycles >= cycle,
            `cycle ${cycle}`,
            100_000,
          );
          if (scenario.config.continue_mode === 'signal' && cycle < scenario.cycles) await continueLoop(env.client, workflowId);
          await scenario.afterCycle?.(env.client, workflowId, cycle);
        }
        await stopLoop(env.client, workflowId, 'recorded');
        return loop;
      });
      // The stock CLI writes the JSON form every Temporal tool reads back (historyFromJSON).
      const runArgs = scenario.firstRun ? ['--run-id', started.runId] : [];
      const json = execFileSync(
        temporalCliPath(),
        ['workflow', 'show', '--workflow-id', workflowId, ...runArgs, '--address', env.address, '--output', 'json'],
        { encoding: 'utf8' },
      );
      writeFileSync(join(HISTORIES_DIR, `${scenario.name}.json`), json);
      console.log(`recorded ${scenario.name}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events`);
    }
  } finally {
    receiver.close();
    await Promise.all([env.teardown(), sim.close()]);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
