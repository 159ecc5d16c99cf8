/**
 * The chaos campaign's checker: a pure function of what was recorded — the simulator's request log
 * (each request's key, the worker process named in its User-Agent, its answer, when the answer's
 * last byte left), the nemesis' faults with their windows, the worker processes' lives, and each
 * loop's final state — that lists every violation of the guarantees, with the seed, the loop and
 * the iteration, and counts the re-sends it allows, by cause.
 */
import type { RecordedRequest } from '../../src/simulator/server';
import type { LoopStatus } from '../../src/shared/status';

export interface Violation {
  /** 1 a whole JSON 2xx re-sent by the same process; 2 a live cycle twice at the app; 3 records; 5 a loop dead or stuck; 6 a process left. */
  guarantee: 1 | 2 | 3 | 5 | 6;
  seed: number;
  loop: string | null;
  iteration: number | null;
  message: string;
}

/** Why a key was POSTed again, when that is allowed. */
export type ResendCause = 'answer not whole' | 'worker restart' | 'other worker';
export const RESEND_CAUSES: readonly ResendCause[] = ['answer not whole', 'worker restart', 'other worker'];

export interface FaultWindow {
  kind: string;
  target: string;
  from: number;
  to: number;
}

export interface ProcessLife {
  identity: string;
  slot: string;
  endedAt: number | null;
  stalls: Array<{ from: number; to: number | null }>;
}

export interface LoopOutcome {
  id: string;
  live: boolean;
  status: LoopStatus;
  /** The workflow execution's status as Temporal describes it: RUNNING for a loop alive. */
  execution: string;
  /** From the heal to its next finished cycle; null when none came within the bound. */
  recoveredMs: number | null;
  boundMs: number;
  /** An aligned loop: whether its last cycle after the heal started on its beat; undefined for others. */
  onBeat?: boolean;
}

export interface CheckInput {
  seed: number;
  requests: readonly RecordedRequest[];
  faults: readonly FaultWindow[];
  processes: readonly ProcessLife[];
  loops: readonly LoopOutcome[];
  /** PIDs the campaign started that still exist after it closed everything. */
  leftPids: readonly number[];
  /** The loops' attempt timeout: an answer that took longer never reached the activity. */
  attemptTimeoutMs: number;
}

export interface CheckResult {
  violations: Violation[];
  resends: Record<ResendCause, number>;
  /** Live keys whose one request the app answered although the loop recorded the cycle failed (the cost of never re-sending). */
  liveRecordedFailedAfterAnswer: number;
  /** Dry keys the app ran more than once (the cost of the allowed re-sends: a dry run's analysis done twice). */
  dryRunsExecutedTwice: number;
}

/** How long after an answer's last byte left a fault on its way (the link, its process) can still have kept it from being read. */
const READ_MARGIN_MS = 1_000;

const overlaps = (from: number, to: number, a: number, b: number) => from <= b && to >= a;
const iterationOf = (key: string) => Number(key.slice(key.lastIndexOf('/') + 1));
const loopOf = (key: string) => key.slice(0, key.indexOf('/'));
/** `mtf-ping-pong (chaos-w1.3)` → `chaos-w1.3`. */
const identityOf = (r: RecordedRequest) => /\(([^)]+)\)/.exec(r.user_agent ?? '')?.[1] ?? null;
const slotOf = (identity: string | null) => identity?.replace(/\.\d+$/, '') ?? null;

export function check(input: CheckInput): CheckResult {
  const violations: Violation[] = [];
  const violation = (guarantee: Violation['guarantee'], loop: string | null, iteration: number | null, message: string) =>
    violations.push({ guarantee, seed: input.seed, loop, iteration, message });
  const lives = new Map(input.processes.map((p) => [p.identity, p]));
  const appFaults = input.faults.filter((f) => f.kind === 'link' && f.target === 'app');

  /** Did the answer to `r` reach the worker process that sent it whole, in time? */
  const reachedWhole = (r: RecordedRequest): boolean => {
    if (r.status === null || r.status < 200 || r.status >= 300 || r.fault !== 'none' || r.finished_at === null) return false;
    if (r.finished_at - r.received_at >= input.attemptTimeoutMs - READ_MARGIN_MS) return false;
    const until = r.finished_at + READ_MARGIN_MS;
    if (appFaults.some((f) => overlaps(f.from, f.to, r.received_at, until))) return false;
    const life = lives.get(identityOf(r) ?? '');
    if (!life || (life.endedAt !== null && life.endedAt <= until)) return false;
    return !life.stalls.some((s) => overlaps(s.from, s.to ?? Infinity, r.received_at, until));
  };

  // 1 and 2: every key's requests in arrival order.
  const resends: Record<ResendCause, number> = { 'answer not whole': 0, 'worker restart': 0, 'other worker': 0 };
  const byKey = new Map<string, RecordedRequest[]>();
  for (const r of input.requests)
    if (r.method === 'POST' && r.idempotency_key) byKey.set(r.idempotency_key, [...(byKey.get(r.idempotency_key) ?? []), r]);
  const liveLoops = new Set(input.loops.filter((l) => l.live).map((l) => l.id));
  let dryRunsExecutedTwice = 0;
  for (const [key, sent] of byKey) {
    const loop = loopOf(key);
    const iteration = iterationOf(key);
    if (!liveLoops.has(loop) && sent.filter((r) => r.executed).length > 1) dryRunsExecutedTwice++;
    if (liveLoops.has(loop) && sent.length > 1)
      violation(
        2,
        loop,
        iteration,
        `a live cycle reached the app ${sent.length} times (${sent.map((r) => `#${r.seq} from ${identityOf(r)}`).join(', ')})`,
      );
    sent.forEach((r, i) => {
      if (i === 0) return;
      const earlier = sent.slice(0, i);
      const sender = identityOf(r);
      const whole = earlier.find((p) => identityOf(p) === sender && reachedWhole(p));
      if (whole) {
        // Before its answer came (two attempts at once in one process), or after it.
        const when = r.received_at < (whole.finished_at ?? 0) ? 'while its earlier request was being answered' : 'after its answer';
        violation(
          1,
          loop,
          iteration,
          `request #${r.seq} from ${sender} re-sent a key ${when}: the JSON ${whole.status} of #${whole.seq} reached that process whole`,
        );
      } else if (earlier.some((p) => identityOf(p) === sender)) resends['answer not whole']++;
      else if (earlier.some((p) => slotOf(identityOf(p)) === slotOf(sender))) resends['worker restart']++;
      else resends['other worker']++;
    });
  }

  // 3 and 5: each loop's records, and its state once the nemesis stopped.
  let liveRecordedFailedAfterAnswer = 0;
  for (const loop of input.loops) {
    const { status } = loop;
    const c = status.counters;
    const outcomes = c.succeeded + c.partial + c.failed + c.skipped + c.timed_out;
    if (outcomes !== c.cycles)
      violation(3, loop.id, null, `the counters disagree: ${c.cycles} cycles, ${outcomes} outcomes (${JSON.stringify(c)})`);
    const points = status.recent_cycles;
    points.forEach((p, i) => {
      const before = points[i - 1];
      if (before && p.iteration !== before.iteration + 1)
        violation(3, loop.id, p.iteration, `recorded iterations jump from ${before.iteration} to ${p.iteration}`);
    });
    const last = points.at(-1);
    if (last && last.iteration !== c.cycles)
      violation(3, loop.id, last.iteration, `the last recorded iteration is ${last.iteration}, the counters say ${c.cycles} cycles`);
    const atApp = [...byKey.keys()].filter((k) => loopOf(k) === loop.id).map(iterationOf);
    const highest = Math.max(0, ...atApp);
    // The loops were stopped gracefully before this: nothing is in flight, every call is recorded.
    if (highest > c.cycles) violation(3, loop.id, highest, `iteration ${highest} reached the app, the loop recorded ${c.cycles} cycles`);
    if (loop.live)
      for (const p of points)
        if (p.outcome === 'failed' || p.outcome === 'timed_out') {
          const sent = [...byKey.entries()].find(([k]) => loopOf(k) === loop.id && iterationOf(k) === p.iteration)?.[1] ?? [];
          if (sent.some((r) => r.status !== null && r.status < 300 && r.executed)) liveRecordedFailedAfterAnswer++;
        }

    if (loop.execution !== 'RUNNING') violation(5, loop.id, null, `the loop is ${loop.execution}, not running`);
    else if (loop.recoveredMs === null)
      violation(5, loop.id, c.cycles, `no cycle finished within ${Math.round(loop.boundMs / 1000)} s of the nemesis' end`);
    if (loop.onBeat === false) violation(5, loop.id, c.cycles, 'the aligned loop did not come back to its beat');
  }

  // 6: nothing the campaign started outlives it.
  for (const pid of input.leftPids) violation(6, null, null, `process ${pid} is still running after the campaign closed`);

  return { violations, resends, liveRecordedFailedAfterAnswer, dryRunsExecutedTwice };
}
