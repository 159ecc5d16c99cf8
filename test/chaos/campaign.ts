/**
 * A seeded fault campaign (issue 36): the world up (world.ts), the nemesis choosing faults from the
 * seed for the given minutes (nemesis.ts), every fault healed, each loop's recovery waited for,
 * then everything closed and the checker (checker.ts) run over what was recorded. The report gives
 * faults by kind, cycles, re-sends by cause, recovery times and violations.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from '../../src/toolchain/binaries';
import {
  check,
  RESEND_CAUSES,
  type CheckInput,
  type CheckResult,
  type FaultWindow,
  type LoopOutcome,
  type ProcessLife,
  type Violation,
} from './checker';
import type { RecordedRequest } from '../../src/simulator/server';
import { applyFault, hold, NORMAL_ANSWER, planFault, type FaultKind } from './nemesis';
import { startWorld, type World } from './world';
import { HEARTBEAT_TIMEOUT_MS } from '../../src/workflows/policy';
import { stopLoop } from '../../src/client/loops';

export interface CampaignOptions {
  seed: number;
  minutes: number;
  /** Stops the nemesis after this step, even before the time is up: to replay a finding. */
  steps?: number;
  /** Starts the nemesis at this step of the seed (each step's fault depends on the seed and the step only): to replay a finding at once. */
  from?: number;
  /** A line per fault and phase (stderr in `npm run chaos`). */
  log?: (line: string) => void;
  /** Ends the nemesis early (Ctrl-C in `npm run chaos`): the faults are healed and checked all the same. */
  abort?: AbortSignal;
  /** Given everything the checker read, before it reads it: `npm run chaos` keeps it, so a changed checker can be run on it again. */
  records?: (records: CampaignRecords) => void;
}

export interface FaultRecord extends FaultWindow {
  step: number;
  detail: string;
}

export interface CampaignReport extends CheckResult {
  seed: number;
  minutes: number;
  faults: FaultRecord[];
  faultsByKind: Record<string, number>;
  /** Cycles the loops recorded, all loops together. */
  cycles: number;
  requests: number;
  /** Per fault: from its heal to the next call any loop made that reached the app. */
  recovery: { medianMs: number | null; maxMs: number | null };
  loops: Array<Pick<LoopOutcome, 'id' | 'execution' | 'recoveredMs'> & { cycles: number }>;
}

const KINDS: FaultKind[] = ['kill', 'stall', 'postgres', 'link', 'answer'];

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? null;
}

/** Sends the signal-gated loop its continue_signal every second, until stopped. */
function keepContinuing(world: World, id: string): () => void {
  const timer = setInterval(() => {
    world.client.workflow
      .getHandle(id)
      .signal('continue_signal')
      .catch(() => undefined);
  }, 1_000);
  return () => clearInterval(timer);
}

/** An abort that never comes: for a hold that only a timer ends. */
const never = new AbortController().signal;

async function waitFor<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read().catch(() => null);
    if (value !== null && ok(value)) return value;
    await hold(500, never);
  }
  return null;
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const log = options.log ?? (() => undefined);
  log(`chaos: seed ${options.seed}, ${options.minutes} min: starting the cluster, toxiproxy, the simulator, two workers and the loops`);
  const world = await startWorld();
  const signalLoop = world.loops.find((l) => l.config.continue_mode === 'signal');
  const stopContinuing = signalLoop ? keepContinuing(world, signalLoop.id) : () => undefined;
  const faults: FaultRecord[] = [];
  let outcomes: LoopOutcome[] = [];
  // What the checker reads once everything is closed.
  let requests: RecordedRequest[] = [];
  let processes: ProcessLife[] = [];
  let leftPids: number[] = [];
  try {
    for (const loop of world.loops) {
      const first = await waitFor(
        () => world.status(loop.id),
        (s) => s.counters.cycles >= 1,
        120_000,
      );
      if (first === null) throw new Error(`the loop ${loop.id} finished no cycle before the nemesis started`);
    }

    // The nemesis: a fault at a time, each healed before the next, until the time is up.
    const stop = new AbortController();
    const deadline = setTimeout(() => stop.abort(), options.minutes * 60_000);
    options.abort?.addEventListener('abort', () => stop.abort(), { once: true });
    try {
      for (let step = options.from ?? 1; !stop.signal.aborted && step <= (options.steps ?? Infinity); step++) {
        const fault = planFault(options.seed, step);
        const record: FaultRecord = { step, kind: fault.kind, target: fault.target, detail: fault.detail, from: Date.now(), to: 0 };
        faults.push(record);
        log(`chaos: step ${step}: ${fault.kind} ${fault.target}: ${fault.detail}, for ${(fault.holdMs / 1000).toFixed(1)} s`);
        try {
          await applyFault(world, fault, stop.signal);
        } finally {
          record.to = Date.now();
        }
        await hold(fault.gapMs, stop.signal);
      }
    } finally {
      clearTimeout(deadline);
    }

    // Healed: every fault undid itself; the links and the app's answer are reset once more.
    await world.proxy.reset();
    world.sim.setBehaviour(NORMAL_ANSWER);
    const healedAt = Date.now();
    log(`chaos: the nemesis stopped after ${faults.length} faults; waiting for every loop to finish a cycle`);
    outcomes = await Promise.all(
      world.loops.map(async (loop): Promise<LoopOutcome> => {
        const { config } = loop;
        const boundMs = ((config.ping_interval ?? 30) + (config.max_execution_time ?? 420)) * 1000 + HEARTBEAT_TIMEOUT_MS + 60_000;
        const after = await waitFor(
          () => world.status(loop.id),
          (s) => s.recent_cycles.some((p) => Date.parse(p.finished_at) > healedAt),
          boundMs,
        );
        const recoveredMs = after
          ? Math.min(...after.recent_cycles.map((p) => Date.parse(p.finished_at)).filter((t) => t > healedAt)) - healedAt
          : null;
        let onBeat: boolean | undefined;
        if (config.cadence === 'aligned') {
          // Two cycles after the heal: the second starts on a beat (align_every, align_offset).
          const every = (config.align_every ?? 60) * 1000;
          const beat = await waitFor(
            () => world.status(loop.id),
            (s) => s.last_cycle !== null && Date.parse(s.last_cycle.started_at) > healedAt + every,
            boundMs,
          );
          const started = beat?.last_cycle ? Date.parse(beat.last_cycle.started_at) : NaN;
          const late = (started - (config.align_offset ?? 0) * 1000) % every;
          onBeat = Number.isFinite(late) && late < 2_000;
        }
        const execution = (await world.client.workflow.getHandle(loop.id).describe()).status.name;
        // Stopped gracefully (its running cycle finishes and is recorded), so that its final state
        // and the app's log are read with nothing in flight.
        const giveUp = new AbortController();
        const stopped = await Promise.race([
          stopLoop(world.client, loop.id, 'chaos campaign over').then(() => true),
          hold(boundMs, giveUp.signal).then(() => false),
        ]);
        giveUp.abort(); // no timer left to keep the process alive
        if (!stopped) throw new Error(`the loop ${loop.id} did not stop within ${Math.round(boundMs / 1000)} s of its stop signal`);
        const status = await world.status(loop.id);
        return { id: loop.id, live: loop.live, status, execution, recoveredMs, boundMs, ...(onBeat === undefined ? {} : { onBeat }) };
      }),
    );
  } finally {
    stopContinuing();
    const pids = world.pids();
    requests = [...world.sim.runRequests()];
    processes = world.processes.map((p) => ({ identity: p.identity, slot: p.slot, endedAt: p.endedAt, stalls: p.stalls }));
    await world.close();
    leftPids = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
  }

  const records: CampaignRecords = {
    seed: options.seed,
    minutes: options.minutes,
    requests,
    faults,
    processes,
    loops: outcomes,
    leftPids,
    attemptTimeoutMs: (world.loops[0]?.config.activity_timeout ?? 120) * 1000,
  };
  options.records?.(records);
  return reportOf(records);
}

/** Everything a campaign recorded: the checker's input, and the faults with their steps. */
export interface CampaignRecords extends CheckInput {
  minutes: number;
  faults: FaultRecord[];
}

/** The report of a campaign, from its records: also for records saved earlier, read by a checker changed since. */
export function reportOf(records: CampaignRecords): CampaignReport {
  const { faults, loops, requests } = records;
  // From the app's log, not the loops' (their recent cycles are a window): the next call after each heal.
  const arrivals = requests.map((r) => r.received_at).sort((a, b) => a - b);
  const recoveries = faults
    .map((f) => arrivals.find((t) => t > f.to))
    .map((t, i) => (t === undefined ? null : t - (faults[i]?.to ?? 0)))
    .filter((ms): ms is number => ms !== null);
  return {
    seed: records.seed,
    minutes: records.minutes,
    faults,
    faultsByKind: Object.fromEntries(KINDS.map((k) => [k, faults.filter((f) => f.kind === k).length])),
    cycles: loops.reduce((n, o) => n + o.status.counters.cycles, 0),
    requests: requests.length,
    recovery: { medianMs: median(recoveries), maxMs: recoveries.length > 0 ? Math.max(...recoveries) : null },
    loops: loops.map((o) => ({ id: o.id, execution: o.execution, recoveredMs: o.recoveredMs, cycles: o.status.counters.cycles })),
    ...check(records),
  };
}

/** Where the reports go for docs/performance.md: dist/test-figures/<name>. */
export function writeReport(report: CampaignReport | CampaignRecords, name: string): string {
  const path = join(projectRoot(), 'dist', 'test-figures', name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(report, null, 2));
  return path;
}

/** The report as text: faults by kind, cycles, re-sends by cause, recovery, violations. */
export function formatReport(report: CampaignReport): string {
  const s = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);
  const lines = [
    `chaos campaign, seed ${report.seed}, ${report.minutes} min`,
    `faults: ${report.faults.length} (${Object.entries(report.faultsByKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')})`,
    `cycles checked: ${report.cycles} (${report.loops.map((l) => `${l.id} ${l.cycles}`).join(', ')}); requests at the app: ${report.requests}`,
    `re-sends allowed, by cause: ${RESEND_CAUSES.map((c) => `${c} ${report.resends[c]}`).join(', ')}`,
    `dry runs the app ran twice: ${report.dryRunsExecutedTwice}; live cycles recorded failed although the app ran them: ${report.liveRecordedFailedAfterAnswer}`,
    `recovery after a fault (the next call reached the app): median ${s(report.recovery.medianMs)}, max ${s(report.recovery.maxMs)}`,
    `after the nemesis: ${report.loops.map((l) => `${l.id} ${l.execution.toLowerCase()}, next cycle in ${s(l.recoveredMs)}`).join('; ')}`,
    `violations: ${report.violations.length}`,
    ...report.violations.map(
      (v: Violation) => `  guarantee ${v.guarantee}, seed ${v.seed}, loop ${v.loop ?? '-'}, iteration ${v.iteration ?? '-'}: ${v.message}`,
    ),
  ];
  return lines.join('\n');
}
