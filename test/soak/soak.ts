/**
 * The soak (issue 7): many loops on one worker, thousands of cycles against the real simulator at
 * zero latency with a seeded mix of faults, across many continue-as-new runs. It then reconciles
 * three views of every loop and they must agree exactly:
 *   - the simulator's request log, grouped by Idempotency-Key (one key per cycle);
 *   - the loop's own counters, from the summary `stop_signal` returns;
 *   - the history of every run of the loop (visibility's listing, and each run's events).
 * and checks that each run's history stays far below the server's continue-as-new suggestion, and
 * that the worker's memory does not keep growing with the number of cycles. The simulator runs in
 * a thread of its own (./simulator-thread.ts), so the heap sampled is the worker's, not its log.
 *
 * `runSoak` throws (node:assert) with every mismatch it found, naming the key, its requests and
 * the counters; it returns the figures when everything agrees. `test/server/soak.test.ts` runs a short
 * soak in `npm test`; `npm run soak` (./main.ts) runs the full one.
 */
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { startLoop, stopLoop } from '../../src/client/loops';
import type { Counters } from '../../src/shared/cycle-record';
import type { WorkflowInput } from '../../src/shared/carried-state';
import { OUTCOMES, type Outcome } from '../../src/shared/outcomes';
import { MtfError } from '../../src/shared/errors';
import type { CallMtfRunInput } from '../../src/shared/mtf';
import type { LoopSummary } from '../../src/shared/status';
import { DEFAULT_SYMBOLS } from '../../src/simulator/server';
import { verdictOf } from '../../src/simulator/verdicts';
import { DEFAULT_READY_SHARE } from '../../src/simulator/behaviour';
import { createMtfWorker } from '../../src/worker/worker';
import { waitFor } from '../helpers/processes';
import { createDevServerEnv, uniqueId } from '../helpers/temporal';
import { startSimulatorThread, type LoggedRequest } from './simulator-thread';

const EventType = temporal.api.enums.v1.EventType;

/**
 * The server suggests continue-as-new past these (`limit.historyCount.suggestContinueAsNew` and
 * `limit.historySize.suggestContinueAsNew`, Temporal's defaults, which `start-dev` keeps); the
 * workflow would then continue as new early. A run must end far below them, by its own cycle limit.
 */
export const SUGGEST_CONTINUE_AS_NEW_EVENTS = 4 * 1024;
export const SUGGEST_CONTINUE_AS_NEW_BYTES = 4 * 1024 * 1024;

const MAX_ATTEMPTS = 3;
const SERVER_ERRORS = new Set([500, 502, 503, 504]);
const KILL_SWITCH = 403;

export interface SoakOptions {
  loops: number;
  cyclesPerLoop: number;
  maxCyclesPerRun: number;
  /** The simulator's `error_rate`: this share of POSTs get a fault from RANDOM_FAULTS. */
  errorRate: number;
  seed: number;
  /** The soak fails with a message naming each loop's progress when its loops have not all stopped by then. */
  timeoutMs: number;
  /** Seconds between cycles. */
  pingInterval?: number;
  /**
   * Memory bounds, between the sample at 20 % of the cycles and the one at 100 %: the heap (after
   * a full GC) and the RSS may grow by at most this much. Generous on purpose: they catch growth
   * with the number of cycles (a leak per cycle or per run), not the allocator's noise.
   */
  maxHeapGrowthBytes?: number;
  maxRssGrowthBytes?: number;
  /** Progress lines (milestones, stops); silent by default. */
  log?: (line: string) => void;
}

export interface MemorySample {
  /** "start" (worker up, no loop yet), "20%", ... "100%" of the target cycles, "stopped". */
  at: string;
  cycles: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Workflow runs in the worker's cache: one per loop at most, or old runs pile up in the workflow thread. */
  cachedWorkflows: number;
}

export interface LoopFigures {
  workflowId: string;
  cycles: number;
  runs: number;
  counters: Counters;
  attempts: number;
  maxHistoryLength: number;
  maxHistoryBytes: number;
}

export interface SoakResult {
  options: Required<Omit<SoakOptions, 'log'>>;
  loops: LoopFigures[];
  cycles: number;
  runs: number;
  continuedAsNew: number;
  outcomes: Record<Outcome, number>;
  /** POSTs the simulator answered, all loops. */
  attempts: number;
  /** How many cycles took 1, 2, 3 attempts. */
  attemptsPerCycle: Record<string, number>;
  /** POSTs by the status the simulator answered. */
  answers: Record<string, number>;
  seconds: number;
  cyclesPerSecond: number;
  maxHistoryLength: number;
  maxHistoryBytes: number;
  memory: MemorySample[];
  /** Whether the heap figures were taken after a full garbage collection. */
  gcBeforeSamples: boolean;
}

const DEFAULTS = {
  pingInterval: 0.01,
  // Measured: the heap moves by about 1 MiB and the RSS by tens of MiB either way, with 600 cycles
  // as with 5,000; these catch growth with the cycles, not the allocators' noise.
  maxHeapGrowthBytes: 16 * 1024 * 1024,
  maxRssGrowthBytes: 160 * 1024 * 1024,
};

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { log: logTo, ...opts } = { ...DEFAULTS, ...options };
  const log = logTo ?? (() => undefined);
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const gc = fullGc();
  const progress = new Progress(opts.loops * opts.cyclesPerLoop);
  const sim = await startSimulatorThread({ mode: 'sync', latency_ms: 0, error_rate: opts.errorRate, seed: opts.seed });
  // The soak follows the simulator's requests as they are answered, instead of polling its log.
  sim.onKeys((keys) => progress.follow(keys));
  let env: TestWorkflowEnvironment | undefined;
  try {
    // The server fires a timer up to `history.timerProcessorMaxTimeShift` (1 s) late: every pause
    // and every retry backoff would take a second, not 10 ms. The soak is about the loop, not the
    // server's timer precision, so it asks for timers on time.
    env = await createDevServerEnv({ extraArgs: ['--dynamic-config-value', 'history.timerProcessorMaxTimeShift="10ms"'] });
    const client = env.client;
    const taskQueue = uniqueId('soak-tq');
    const worker = await createMtfWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      identity: 'soak-worker',
      activities: createActivities({ token: 'soak-token' }),
      stickyQueueScheduleToStartTimeoutMs: 1_000,
    });
    const memory: MemorySample[] = [];
    const sample = (at: string) => {
      gc?.();
      const { rss, heapUsed } = process.memoryUsage();
      const cachedWorkflows = worker.getStatus().numCachedWorkflows;
      memory.push({ at, cycles: progress.cycles(), rssBytes: rss, heapUsedBytes: heapUsed, cachedWorkflows });
      log(`soak: ${at}, ${progress.cycles()} cycles, rss ${mib(rss)}, heap ${mib(heapUsed)}, ${cachedWorkflows} workflow runs cached`);
    };

    const loops: { workflowId: string; firstRunId: string }[] = [];
    const summaries = new Map<string, Promise<LoopSummary>>();
    let startedAt = 0;
    let seconds = 0;
    await worker.runUntil(async () => {
      sample('start');
      startedAt = performance.now();
      for (let i = 0; i < opts.loops; i++) {
        const workflowId = uniqueId(`soak-${i + 1}`);
        // Registered before the start, so no request of this loop is followed unattributed.
        progress.track(workflowId, opts.cyclesPerLoop, () => {
          log(`soak: ${workflowId} reached ${opts.cyclesPerLoop} cycles; stopping it`);
          // The stop lets the running cycle finish and be recorded: a loop ends at or just past its target.
          const stopped = stopLoop(client, workflowId, 'soak target reached');
          stopped.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
          summaries.set(workflowId, stopped);
        });
        const started = await startLoop(client, {
          taskQueue,
          workflowId,
          config: {
            mtf_url: sim.runUrl,
            ping_interval: opts.pingInterval,
            // The worker keeps each answer until its cycle's budget ends (AnswerMemory, for a retry
            // after a lost report), up to 4,096. At the soak's pace (about 25 cycles/s) the default
            // 420 s budget keeps every answer of the soak, so the heap grew with the cycles until
            // that cap: 21 MiB between 20 % and 100 % of the full soak, then flat. With 30 s (its
            // calls answer at once) the memory reaches its steady size, about 750 answers, before the
            // 20 % sample, so what grows after it is a leak again, not that bounded store filling.
            max_execution_time: 30,
            max_cycles_per_run: opts.maxCyclesPerRun,
            max_attempts: MAX_ATTEMPTS,
            // Retries in tens of milliseconds: a failed cycle costs three POSTs, not 15 s of backoff.
            retry_initial_interval: 0.01,
            retry_backoff: 2,
            retry_max_interval: 0.05,
          },
        });
        loops.push({ workflowId, firstRunId: started.runId });
      }
      for (const share of [0.2, 0.4, 0.6, 0.8, 1]) {
        await progress.reached(share, deadline);
        sample(`${share * 100}%`);
      }
      for (const { workflowId } of loops) {
        const summary = summaries.get(workflowId);
        assert.ok(summary, `${workflowId} was stopped`);
        await untilDeadline(summary, deadline, () => `the stop of ${workflowId}`);
      }
      seconds = (performance.now() - startedAt) / 1000;
      sample('stopped');
    });

    const figures: LoopFigures[] = [];
    const problems: string[] = [];
    const perCycle: Record<string, number> = {};
    const requests = await sim.runRequests();
    for (const { workflowId, firstRunId } of loops) {
      const summary = await (summaries.get(workflowId) as Promise<LoopSummary>);
      const fromLog = reconcileLog(requests, workflowId, firstRunId, summary, readyPerRun(opts.seed), problems);
      for (const [n, count] of Object.entries(fromLog.attemptsPerCycle)) perCycle[n] = (perCycle[n] ?? 0) + count;
      const runs = await reconcileHistory(client, workflowId, firstRunId, opts.maxCyclesPerRun, summary, fromLog.byKey, problems);
      figures.push({
        workflowId,
        cycles: summary.counters.cycles,
        runs: runs.length,
        counters: summary.counters,
        attempts: fromLog.attempts,
        maxHistoryLength: Math.max(...runs.map((r) => r.historyLength)),
        maxHistoryBytes: Math.max(...runs.map((r) => r.historyBytes)),
      });
    }
    if (problems.length > 0) assert.fail(`the soak's three views disagree:\n${problems.join('\n')}`);

    const cycles = sum(figures.map((f) => f.cycles));
    const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, sum(figures.map((f) => f.counters[o]))])) as Record<Outcome, number>;
    // A soak that met no fault, or whose faults never exhausted the retries, proved less than it claims.
    for (const outcome of ['succeeded', 'failed', 'skipped'] as const) {
      assert.ok(outcomes[outcome] > 0, `the seeded mix produced no ${outcome} cycle: ${JSON.stringify(outcomes)}`);
    }
    const answers: Record<string, number> = {};
    for (const r of requests) answers[String(r.status)] = (answers[String(r.status)] ?? 0) + 1;

    const result: SoakResult = {
      options: opts,
      loops: figures,
      cycles,
      runs: sum(figures.map((f) => f.runs)),
      continuedAsNew: sum(figures.map((f) => f.runs - 1)),
      outcomes,
      attempts: sum(figures.map((f) => f.attempts)),
      attemptsPerCycle: perCycle,
      answers,
      seconds,
      cyclesPerSecond: cycles / seconds,
      maxHistoryLength: Math.max(...figures.map((f) => f.maxHistoryLength)),
      maxHistoryBytes: Math.max(...figures.map((f) => f.maxHistoryBytes)),
      memory,
      gcBeforeSamples: gc !== undefined,
    };
    checkMemory(memory, opts, opts.loops);
    return result;
  } finally {
    await Promise.all([env?.teardown(), sim.close()]);
  }
}

/** Follows the simulator's request log: the highest iteration each loop has sent, and the milestones. */
class Progress {
  private readonly loops = new Map<string, { target: number; highest: number; onTarget: (() => void) | null }>();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly totalTarget: number) {}

  track(workflowId: string, target: number, onTarget: () => void): void {
    this.loops.set(workflowId, { target, highest: 0, onTarget });
  }

  /** Takes the keys of the run requests that arrived since the last call, in arrival order. */
  follow(keys: (string | null)[]): void {
    for (const key of keys) {
      if (!key) continue;
      const slash = key.indexOf('/');
      const loop = this.loops.get(key.slice(0, slash));
      if (!loop) continue;
      loop.highest = Math.max(loop.highest, Number(key.slice(key.lastIndexOf('/') + 1)));
      // The request of iteration `target` has arrived: stopping now ends the loop after that cycle.
      if (loop.highest >= loop.target && loop.onTarget) {
        const onTarget = loop.onTarget;
        loop.onTarget = null;
        onTarget();
      }
    }
    for (const wake of [...this.waiters]) wake();
  }

  /** Cycles sent so far, each loop counted up to its target: the measure of the milestones. */
  cycles(): number {
    let n = 0;
    for (const loop of this.loops.values()) n += Math.min(loop.highest, loop.target);
    return n;
  }

  /** Resolves once `share` of the target cycles have been sent; rejects at the deadline, naming each loop's progress. */
  reached(share: number, deadline: AbortSignal): Promise<void> {
    const goal = Math.ceil(share * this.totalTarget);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.cycles() < goal) return;
        done();
        resolve();
      };
      const onDeadline = () => {
        done();
        const each = [...this.loops].map(([id, l]) => `${id} ${l.highest}/${l.target}`).join(', ');
        reject(
          new Error(
            `the deadline passed with ${this.cycles()} of ${this.totalTarget} cycles sent (${Math.round(share * 100)} % wanted): ${each}`,
          ),
        );
      };
      const done = () => {
        this.waiters.delete(check);
        deadline.removeEventListener('abort', onDeadline);
      };
      if (deadline.aborted) return onDeadline();
      this.waiters.add(check);
      deadline.addEventListener('abort', onDeadline);
      check();
    });
  }
}

/** `work`, or a rejection naming `what` when the deadline passes first. */
function untilDeadline<T>(work: Promise<T>, deadline: AbortSignal, what: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onDeadline = () => reject(new Error(`the deadline passed waiting for ${what()}`));
    if (deadline.aborted) return onDeadline();
    deadline.addEventListener('abort', onDeadline, { once: true });
    work.then(resolve, reject).finally(() => deadline.removeEventListener('abort', onDeadline));
  });
}

/** What the simulator's log says about one cycle. */
interface KeyRecord {
  outcome: Outcome;
  attempts: number;
}

/**
 * The simulator's view of one loop: every key is `<workflowId>/<firstRunId>/<iteration>`, the
 * iterations are exactly 1..N, and each key's outcome follows from its answers: a 200 succeeded,
 * a kill-switch 403 was skipped and never retried, a 5xx was retried until the last allowed attempt
 * and then failed. The tallies must equal the loop's counters.
 */
/** The contracts of one successful run that the app calls READY: its verdicts are stable per symbol and seed. */
function readyPerRun(seed: number): number {
  return DEFAULT_SYMBOLS.filter((symbol) => verdictOf(symbol, seed, DEFAULT_READY_SHARE).status === 'READY').length;
}

function reconcileLog(
  all: readonly LoggedRequest[],
  workflowId: string,
  firstRunId: string,
  summary: LoopSummary,
  ready: number,
  problems: string[],
) {
  const prefix = `${workflowId}/`;
  const byKey = new Map<string, LoggedRequest[]>();
  for (const r of all) {
    if (!r.idempotency_key?.startsWith(prefix)) continue;
    const list = byKey.get(r.idempotency_key) ?? [];
    list.push(r);
    byKey.set(r.idempotency_key, list);
  }
  const { counters } = summary;
  const describe = (key: string) => {
    const requests = (byKey.get(key) ?? []).map((r) => `#${r.seq} ${r.status ?? 'no answer'} at ${new Date(r.received_at).toISOString()}`);
    return `${key}: requests [${requests.join(', ')}]; the loop's counters ${JSON.stringify(counters)}`;
  };

  const n = summary.iterations;
  const expectedKeys = Array.from({ length: n }, (_, i) => `${workflowId}/${firstRunId}/${i + 1}`);
  const expectedSet = new Set(expectedKeys);
  const unexpected = [...byKey.keys()].filter((k) => !expectedSet.has(k));
  if (unexpected.length > 0)
    problems.push(`${workflowId}: keys outside iterations 1..${n} of run chain ${firstRunId}: ${unexpected.map(describe).join('; ')}`);
  const missing = expectedKeys.filter((k) => !byKey.has(k));
  if (missing.length > 0)
    problems.push(
      `${workflowId}: no request for iteration(s) ${missing.map((k) => k.slice(k.lastIndexOf('/') + 1)).join(', ')} of 1..${n}`,
    );

  const tally = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const records = new Map<string, KeyRecord>();
  const attemptsPerCycle: Record<string, number> = {};
  let consecutiveFailures = 0;
  let attempts = 0;
  for (const key of expectedKeys) {
    const requests = byKey.get(key);
    if (!requests) continue;
    const statuses = requests.map((r) => r.status);
    const last = statuses.at(-1);
    attempts += requests.length;
    attemptsPerCycle[requests.length] = (attemptsPerCycle[requests.length] ?? 0) + 1;
    if (!statuses.slice(0, -1).every((s) => s !== null && SERVER_ERRORS.has(s))) {
      problems.push(`only a 5xx may be retried, and a cycle ends at its first other answer: ${describe(key)}`);
    }
    let outcome: Outcome;
    if (last === 200) outcome = 'succeeded';
    else if (last === KILL_SWITCH) outcome = 'skipped';
    else if (last !== undefined && last !== null && SERVER_ERRORS.has(last)) {
      outcome = 'failed';
      if (requests.length !== MAX_ATTEMPTS)
        problems.push(`a 5xx ends a cycle only on its last allowed attempt (${MAX_ATTEMPTS}): ${describe(key)}`);
    } else {
      problems.push(`an answer the soak's faults cannot produce: ${describe(key)}`);
      continue;
    }
    if (requests.length > MAX_ATTEMPTS) problems.push(`more than ${MAX_ATTEMPTS} attempts: ${describe(key)}`);
    tally[outcome] += 1;
    records.set(key, { outcome, attempts: requests.length });
    // As the loop counts them: a success resets the run of failures, a skip leaves it as it is.
    if (outcome === 'succeeded') consecutiveFailures = 0;
    if (outcome === 'failed') consecutiveFailures += 1;
  }

  const expected: Counters = {
    ...counters,
    cycles: n,
    ...tally,
    consecutive_failures: consecutiveFailures,
    continue_timeouts: 0,
    // The simulator analyses every symbol it is sent; today's app counts the READY ones as successful.
    symbols_requested: tally.succeeded * DEFAULT_SYMBOLS.length,
    symbols_successful: tally.succeeded * ready,
  };
  if (JSON.stringify(counters) !== JSON.stringify(expected)) {
    problems.push(
      `${workflowId}: the loop's counters ${JSON.stringify(counters)} differ from the simulator's log ${JSON.stringify(expected)}`,
    );
  }
  if (summary.counters.cycles !== n) problems.push(`${workflowId}: ${summary.counters.cycles} cycles counted but ${n} iterations run`);
  return { byKey: records, attempts, attemptsPerCycle };
}

interface RunFigures {
  runId: string;
  historyLength: number;
  historyBytes: number;
  cycles: number;
}

/**
 * The history's view of one loop: the runs, first to last through their continue-as-new events,
 * are the runs visibility lists; each run starts at the iteration the previous one ended on, runs
 * exactly `max_cycles_per_run` cycles unless it is the last (so the server never had to suggest
 * continue-as-new), stays far below the suggestion, and records for each key the same outcome and
 * attempt count as the simulator's log.
 */
async function reconcileHistory(
  client: Client,
  workflowId: string,
  firstRunId: string,
  maxCyclesPerRun: number,
  summary: LoopSummary,
  fromLog: Map<string, KeyRecord>,
  problems: string[],
): Promise<RunFigures[]> {
  const runs: RunFigures[] = [];
  let iteration = 0;
  let completed = false;
  for (let runId: string | null = firstRunId; runId !== null;) {
    const events: temporal.api.history.v1.IHistoryEvent[] =
      (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    const input = decode<WorkflowInput>(started?.input?.payloads?.[0]);
    const carried = input?.carried_state?.iteration ?? 0;
    if (carried !== iteration)
      problems.push(`${workflowId} run ${runId}: starts after iteration ${carried}, the previous run ended after ${iteration}`);

    const scheduled = new Map<string, CallMtfRunInput>();
    const attempts = new Map<string, number>();
    let cycles = 0;
    let closedCalls = 0;
    for (const event of events) {
      const id = String(event.eventId);
      const at = event.activityTaskScheduledEventAttributes;
      if (at?.activityType?.name === 'callMtfRun') {
        const call = decode<CallMtfRunInput>(at.input?.payloads?.[0]);
        if (!call) continue;
        scheduled.set(id, call);
        cycles += 1;
        if (call.idempotency_key !== `${workflowId}/${firstRunId}/${iteration + cycles}`) {
          problems.push(`${workflowId} run ${runId}: cycle ${iteration + cycles} was sent with key ${call.idempotency_key}`);
        }
      }
      const startedAttempt = event.activityTaskStartedEventAttributes;
      if (startedAttempt) attempts.set(String(startedAttempt.scheduledEventId), startedAttempt.attempt ?? 0);
      const closed = activityEnd(event);
      const call = closed ? scheduled.get(closed.scheduledEventId) : undefined;
      if (closed && call) {
        closedCalls += 1;
        const log = fromLog.get(call.idempotency_key);
        const seen = { outcome: closed.outcome, attempts: attempts.get(closed.scheduledEventId) };
        if (!log || log.outcome !== seen.outcome || log.attempts !== seen.attempts) {
          problems.push(
            `${call.idempotency_key}: the history has ${JSON.stringify(seen)}, the simulator's log ${JSON.stringify(log ?? null)}`,
          );
        }
      }
    }

    if (closedCalls !== cycles) problems.push(`${workflowId} run ${runId}: ${cycles} calls scheduled, ${closedCalls} of them ended`);
    const last = events.at(-1);
    const next: string | null = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? null;
    const bytes = events.reduce((n, e) => n + temporal.api.history.v1.HistoryEvent.encode(e).finish().length, 0);
    if (next !== null && cycles !== maxCyclesPerRun) {
      problems.push(`${workflowId} run ${runId}: continued as new after ${cycles} cycles, not its max_cycles_per_run ${maxCyclesPerRun}`);
    }
    if (next === null) completed = last?.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED;
    runs.push({ runId, historyLength: events.length, historyBytes: bytes, cycles });
    iteration += cycles;
    runId = next;
  }
  if (!completed) problems.push(`${workflowId}: its last run did not complete`);
  if (iteration !== summary.iterations)
    problems.push(`${workflowId}: the histories hold ${iteration} cycles, the summary ${summary.iterations}`);

  // Every run but the last ran exactly max_cycles_per_run cycles (checked above); the last ran the
  // rest, or none when the stop came just after a continue-as-new.
  const n = summary.iterations;
  const expectedRuns = Math.ceil(n / maxCyclesPerRun);
  const lastCycles = runs.at(-1)?.cycles;
  if (!(runs.length === expectedRuns || (lastCycles === 0 && runs.length === expectedRuns + 1))) {
    problems.push(
      `${workflowId}: ${runs.length} runs for ${n} cycles of at most ${maxCyclesPerRun} (expected ${expectedRuns}, ${runs.length - 1} continue-as-new)`,
    );
  }

  // Visibility lists the same runs, each closed with the length its history has. It may lag a moment behind the histories.
  const listed = await waitFor(
    async () => {
      const found: { runId: string; status: string; historyLength: number; historySize: number | undefined }[] = [];
      for await (const e of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
        found.push({ runId: e.runId, status: e.status.name, historyLength: e.historyLength, historySize: e.historySize });
      }
      return found;
    },
    (found) => found.length === runs.length && found.every((f) => f.status !== 'RUNNING'),
    `visibility to list the ${runs.length} closed runs of ${workflowId}`,
  ).catch((err: unknown) => {
    problems.push(err instanceof Error ? err.message : String(err));
    return [];
  });
  for (const run of runs) {
    const entry = listed.find((l) => l.runId === run.runId);
    if (listed.length > 0 && (!entry || entry.historyLength !== run.historyLength)) {
      problems.push(
        `${workflowId} run ${run.runId}: ${run.historyLength} events in its history, visibility lists ${JSON.stringify(entry ?? null)}`,
      );
    }
    if (entry?.historySize !== undefined) run.historyBytes = entry.historySize;
    if (run.historyLength >= SUGGEST_CONTINUE_AS_NEW_EVENTS || run.historyBytes >= SUGGEST_CONTINUE_AS_NEW_BYTES) {
      problems.push(
        `${workflowId} run ${run.runId}: ${run.historyLength} events, ${run.historyBytes} bytes: at the server's continue-as-new suggestion`,
      );
    }
  }
  for (const entry of listed) {
    if (!runs.some((r) => r.runId === entry.runId))
      problems.push(`${workflowId}: visibility lists run ${entry.runId}, which no continue-as-new led to`);
  }
  return runs;
}

/** The end of one activity: how the cycle came out, in the simulator's terms. */
function activityEnd(event: temporal.api.history.v1.IHistoryEvent): { scheduledEventId: string; outcome: Outcome } | null {
  const completed = event.activityTaskCompletedEventAttributes;
  if (completed) return { scheduledEventId: String(completed.scheduledEventId), outcome: 'succeeded' };
  const failed = event.activityTaskFailedEventAttributes;
  if (failed) {
    const type = failed.failure?.applicationFailureInfo?.type;
    return { scheduledEventId: String(failed.scheduledEventId), outcome: type === MtfError.KillSwitch ? 'skipped' : 'failed' };
  }
  const timedOut = event.activityTaskTimedOutEventAttributes;
  if (timedOut) return { scheduledEventId: String(timedOut.scheduledEventId), outcome: 'timed_out' };
  return null;
}

function decode<T>(payload: Payload | null | undefined): T | undefined {
  return payload ? defaultPayloadConverter.fromPayload<T>(payload) : undefined;
}

/**
 * The heap and the RSS at 100 % of the cycles may exceed the ones at 20 % by a bounded amount
 * only, whatever the number of cycles. The 20 % sample, not the start, is the base: by then the
 * worker has its workflow cache, its connections and its compiled code, so what grows after it
 * grows with the cycles. The workflows run in the SDK's own thread, whose heap no API of Node 20
 * reads: the RSS covers it, and the cache must never hold more runs than there are loops (a
 * continue-as-new must free the run it ends).
 */
function checkMemory(memory: MemorySample[], opts: { maxHeapGrowthBytes: number; maxRssGrowthBytes: number }, loops: number): void {
  const base = memory.find((m) => m.at === '20%');
  const end = memory.find((m) => m.at === '100%');
  assert.ok(base && end, 'memory samples at 20 % and 100 %');
  const heap = end.heapUsedBytes - base.heapUsedBytes;
  const rss = end.rssBytes - base.rssBytes;
  const figures = memory
    .map((m) => `${m.at}: rss ${mib(m.rssBytes)}, heap ${mib(m.heapUsedBytes)}, ${m.cachedWorkflows} cached runs`)
    .join('; ');
  for (const m of memory)
    assert.ok(m.cachedWorkflows <= loops, `${m.cachedWorkflows} workflow runs cached for ${loops} loops at ${m.at}: ${figures}`);
  assert.ok(
    heap <= opts.maxHeapGrowthBytes,
    `the heap grew by ${mib(heap)} between 20 % and 100 % of the cycles (bound ${mib(opts.maxHeapGrowthBytes)}): ${figures}`,
  );
  assert.ok(
    rss <= opts.maxRssGrowthBytes,
    `the RSS grew by ${mib(rss)} between 20 % and 100 % of the cycles (bound ${mib(opts.maxRssGrowthBytes)}): ${figures}`,
  );
}

/**
 * A full garbage collection before each sample, so the heap figures compare live data and not
 * whatever garbage happens to be waiting. `--expose-gc` gives `gc`; without it (node --test), the
 * same function is taken from V8 the way jest's leak detector does.
 */
function fullGc(): (() => void) | undefined {
  const exposed = globalThis.gc;
  if (typeof exposed === 'function') return () => exposed();
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The figures as one Markdown table: for the terminal, docs/performance.md (scripts/performance-doc.mjs soak) and the closing note. */
export function formatSoak(result: SoakResult): string {
  const o = result.options;
  const fmt = (n: number) => n.toLocaleString('en-US');
  const mem = (at: string) => result.memory.find((m) => m.at === at);
  const [start, base, end, stopped] = [mem('start'), mem('20%'), mem('100%'), mem('stopped')];
  const mibs = (pick: (m: MemorySample) => number) => [start, base, end, stopped].map((m) => (m ? mib(pick(m)) : '-')).join(' / ');
  const answers = Object.entries(result.answers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status}: ${fmt(n)}`)
    .join(', ');
  const perCycle = Object.entries(result.attemptsPerCycle)
    .map(([n, count]) => `${n}: ${fmt(count)}`)
    .join(', ');
  const rows: [string, string][] = [
    ['loops × target cycles', `${o.loops} × ${fmt(o.cyclesPerLoop)}, ${o.maxCyclesPerRun} cycles per run, ping every ${o.pingInterval} s`],
    ['faults', `error_rate ${o.errorRate}, seed ${o.seed} (500, HTML 502/503/504, kill switch 403)`],
    ['cycles (iterations 1..N, no gap, no duplicate)', fmt(result.cycles)],
    ['runs (continue-as-new)', `${fmt(result.runs)} (${fmt(result.continuedAsNew)})`],
    [
      'succeeded / failed / skipped',
      `${fmt(result.outcomes.succeeded)} / ${fmt(result.outcomes.failed)} / ${fmt(result.outcomes.skipped)}`,
    ],
    ['partial / timed out', `${fmt(result.outcomes.partial)} / ${fmt(result.outcomes.timed_out)}`],
    ['POSTs (attempts)', `${fmt(result.attempts)} (${answers})`],
    ['cycles by attempts', perCycle],
    ['wall time, cycles/s', `${result.seconds.toFixed(1)} s, ${result.cyclesPerSecond.toFixed(1)}`],
    [
      'history per run, max',
      `${fmt(result.maxHistoryLength)} events, ${fmt(Math.round(result.maxHistoryBytes / 1024))} KiB (suggestion at ${fmt(SUGGEST_CONTINUE_AS_NEW_EVENTS)} events, 4 MiB)`,
    ],
    [`RSS start / 20% / 100% / stopped`, mibs((m) => m.rssBytes)],
    [`heap used${result.gcBeforeSamples ? ' after GC' : ''} start / 20% / 100% / stopped`, mibs((m) => m.heapUsedBytes)],
    ['workflow runs cached by the worker, max', `${Math.max(...result.memory.map((m) => m.cachedWorkflows))} (for ${o.loops} loops)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `| ${'figure'.padEnd(width)} | value |`,
    `| ${'-'.repeat(width)} | --- |`,
    ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v} |`),
  ].join('\n');
}
